"""临界预警 Near-threshold warnings: flags, today's budget, warning levels (see the warnings issue)."""

import pandas as pd
import streamlit as st

from regionair import ui

f = ui.page("page_warnings")
lang = f.lang
hourly = ui.data.hourly(f.anchor - pd.Timedelta(hours=47), f.anchor)
if hourly.empty:
    ui.no_data(f)
    st.stop()
try:
    from regionair.analysis.warnings import warnings_report
except ImportError:  # pragma: no cover - module arrives with the warnings issue
    st.info("—")
    st.stop()
report = warnings_report(hourly, at=f.anchor)
for name, table in report.items():
    if isinstance(table, pd.DataFrame):
        st.subheader(name)
        st.dataframe(table, hide_index=True)
