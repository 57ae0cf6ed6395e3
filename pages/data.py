"""数据与来源 Data & sources: freshness, ingest log, coverage, station catalogue, upload, downloads."""

import pandas as pd
import streamlit as st

from regionair import charts, region, ui
from regionair.exports import to_csv_bytes, to_xlsx_bytes
from regionair.i18n import t

f = ui.page("page_data")
lang = f.lang
store = ui.data.get_store()

st.subheader(t("sources", lang))
st.dataframe(ui.data.freshness(), hide_index=True)

st.subheader(t("ingest_log", lang))
st.dataframe(store.ingest_log().tail(50), hide_index=True)

st.subheader(t("coverage", lang))
cov = store.coverage(f.start - pd.Timedelta(days=30), f.end)
if not cov.empty:
    piv = cov.pivot_table(index="station", columns="date", values="hours", aggfunc="first")
    fig = charts.heatmap(piv, title=t("coverage", lang), zmin=0, zmax=24, colorscale="Greens", fmt=".0f",
                         presentation=f.presentation)
    ui.chart(fig, cov, "coverage", f)

st.subheader(t("catalogue", lang))
check = region.point_in_polygon_check()
st.dataframe(check, hide_index=True)

st.subheader(t("downloads", lang))
data = ui.data.hourly(f.start, f.end, stations=f.stations or None)
c1, c2 = st.columns(2)
c1.download_button(t("download_csv", lang), to_csv_bytes(data), file_name="regionair_hourly.csv", mime="text/csv")
c2.download_button(t("download_xlsx", lang), to_xlsx_bytes(data.head(100_000)), file_name="regionair_hourly.xlsx")
