"""RegionAir dashboard entry point: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="RegionAir 乌—昌—石区域空气质量", layout="wide")
st.title("乌—昌—石区域空气质量联防联控")
st.write("RegionAir")
