"""RegionAir dashboard entry point: ``streamlit run app.py`` (or ``make run``).

Draws the shared frame (sidebar filters mirrored in the URL) and navigation grouped by use; each page
in ``pages/`` also runs on its own with default filters (AppTest does not support st.navigation).
"""

import streamlit as st

from regionair import ui
from regionair.core.i18n import t
from regionair.ui import auth

st.set_page_config(page_title="RegionAir 乌—昌—石区域空气质量", page_icon=":material/air:", layout="wide")

lang = st.session_state.get("lang") or st.query_params.get("lang", "zh")
lang = lang if lang in ("zh", "en") else "zh"
PAGES = {
    t("nav_monitor", lang): [
        st.Page("pages/overview.py", title=t("page_overview", lang), icon=":material/map:", default=True),
        st.Page("pages/hourly.py", title=t("page_hourly", lang), icon=":material/schedule:", url_path="hourly"),
        st.Page("pages/warnings.py", title=t("page_warnings", lang), icon=":material/warning:", url_path="warnings"),
    ],
    t("nav_analysis", lang): [
        st.Page("pages/trends.py", title=t("page_trends", lang), icon=":material/show_chart:", url_path="trends"),
        st.Page("pages/transport.py", title=t("page_transport", lang), icon=":material/air:", url_path="transport"),
        st.Page("pages/primary.py", title=t("page_primary", lang), icon=":material/science:", url_path="primary"),
        st.Page("pages/episodes.py", title=t("page_episodes", lang), icon=":material/cloud:", url_path="episodes"),
        st.Page("pages/rankings.py", title=t("page_rankings", lang), icon=":material/leaderboard:", url_path="rankings"),
    ],
    t("nav_meeting", lang): [
        st.Page("pages/meeting.py", title=t("page_meeting", lang), icon=":material/groups:", url_path="meeting"),
    ],
    t("nav_data", lang): [
        st.Page("pages/data.py", title=t("page_data", lang), icon=":material/database:", url_path="data"),
    ],
}
nav = st.navigation(PAGES)
# A deep link opened before any session ran st.navigation arrives here with ?_page=… (see ui.page).
target = st.query_params.get("_page")
if target:
    page = next((p for group in PAGES.values() for p in group if p.url_path == target), None)
    rest = [(k, v) for k in st.query_params if k != "_page" for v in st.query_params.get_all(k)]
    if page is not None:
        st.switch_page(page, query_params=rest)
user = auth.sidebar()  # sign-in (OIDC or local accounts) when configured; otherwise says it is off
if auth.mode() != "off" and user is None:
    st.info("请先登录。" if lang == "zh" else "Please sign in.")
    st.stop()
ui.frame_filters()
ui.mark_frame_run()
nav.run()
ui.export.bundle_button(st.session_state["_regionair_frame"], nav.url_path or "overview")
