"""AQI categories (HJ 633 Table 2 / 2026 Table 1): level, name and the standard colour of an AQI value.

Below :mod:`regionair.core.aqi` and :mod:`regionair.core.averaging` (both use it), so neither imports the other
for it.
"""

from __future__ import annotations

import numpy as np

from regionair.core import standards as S


def category_level(aqi) -> np.ndarray:
    """AQI category level 1–6 (HJ 633 Table 2/1); 0 where the AQI is missing."""
    a = np.asarray(aqi, dtype="float64")
    lvl = np.searchsorted(np.asarray(S.CATEGORY_UPPER[:-1], dtype="float64"), a, side="left") + 1
    return np.where(np.isnan(a), 0, lvl)


def category(aqi, lang: str = "zh"):
    """Category name (优 … 严重污染 / Excellent … Severely Polluted); empty where the AQI is missing."""
    names = np.array([""] + [c[f"name_{lang}"] for c in S.CATEGORIES], dtype=object)
    out = names[category_level(np.atleast_1d(aqi))]
    return out if np.ndim(aqi) else out[0]


def category_colour(aqi) -> np.ndarray | str:
    """Standard colour (hex, HJ 633 Annex A Table A.1); grey ``#BFBFBF`` where the AQI is missing."""
    colours = np.array(["#BFBFBF"] + [c["hex"] for c in S.CATEGORIES], dtype=object)
    out = colours[category_level(np.atleast_1d(aqi))]
    return out if np.ndim(aqi) else out[0]
