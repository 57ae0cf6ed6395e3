"""RegionAir — air-quality analytics for the 乌—昌—石 joint prevention and control region.

Domain logic only: this package (outside :mod:`regionair.ui`) never imports Streamlit.
"""

__version__ = "0.1.0"
