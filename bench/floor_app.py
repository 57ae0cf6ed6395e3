"""The floor of the concurrency benchmark: the lightest page that still shows a plotly chart.

``streamlit run bench/floor_app.py`` — one line of text and a 3-point chart, no data, no sidebar. The time
Chromium needs to show this page is what any Streamlit + plotly page costs a browser on this machine.
"""

import plotly.graph_objects as go
import streamlit as st

st.write("RegionAir concurrency floor")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
