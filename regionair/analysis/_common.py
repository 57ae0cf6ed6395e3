"""Small helpers shared by the analysis modules (not public API)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.core import region
from regionair.core.nomenclature import TZ
from regionair.errors import InputError

#: Names of the units that :func:`regionair.core.region.aggregate` creates besides the catalogue ids.
EXTRA_UNITS: dict[str, dict] = {
    "side:local": {"name_zh": "地方", "name_en": "Local government", "side": "地方", "order": 1},
    "side:corps": {"name_zh": "兵团", "name_en": "XPCC (Corps)", "side": "兵团", "order": 2},
    "region": {"name_zh": "乌—昌—石区域", "name_en": "Urumqi–Changji–Shihezi region", "side": "", "order": 0},
}


def check_choice(name: str, value, allowed) -> None:
    """Raise :class:`InputError` naming the argument and the valid options."""
    if value not in allowed:
        raise InputError(f"{name}={value!r}; valid: {', '.join(repr(a) for a in allowed)}", column=name)


def check_columns(frame: pd.DataFrame, cols, what: str = "frame") -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)}; present: {list(frame.columns)}")


def to_beijing(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    return s.dt.tz_localize(TZ) if s.dt.tz is None else s.dt.tz_convert(TZ)


def explode_codes(series: pd.Series) -> pd.Series:
    """Split ``;``-joined codes into one row per code (empty strings dropped), index repeated."""
    s = series.fillna("").astype(str).str.split(";").explode()
    return s[s != ""]


def unit_catalogue() -> pd.DataFrame:
    """Names, side and display order of every unit id (catalogue ids plus side/region ids)."""

    jt = region.jurisdictions()[["id", "name_zh", "name_en", "side", "order", "level", "member"]]
    extra = pd.DataFrame([{"id": k, **v, "level": "aggregate", "member": True} for k, v in EXTRA_UNITS.items()])
    return pd.concat([jt, extra], ignore_index=True).set_index("id")


def hours_between(later, earlier) -> np.ndarray:
    """``later − earlier`` in hours (float)."""
    return np.asarray((later - earlier) / pd.Timedelta(hours=1), dtype="float64")
