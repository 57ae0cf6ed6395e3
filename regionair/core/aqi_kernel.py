"""Fused hourly-AQI kernel: IAQI of the six 1-h values, AQI, primary pollutants and category in one pass.

This is the engine behind :func:`regionair.core.aqi.hourly_aqi` for ``method="cnemc"`` (HJ 633-2026
§4.2.3–4.2.4 and CNEMC practice 2022–2026, standards.md §2.4, §2.8). It computes exactly what the
reference numpy path in :mod:`regionair.core.aqi` computes — the same floating-point operations in the same
order — but per station-hour in a compiled loop (numba), without the dozens of temporary arrays of the
array-at-a-time version. ``tests/test_aqi_kernel.py`` pins the two paths to identical results on the real
CNEMC rows and on random inputs (NaN, negatives, exact breakpoints, above the table top, both editions).

Every table is read from :mod:`regionair.core.standards` (HJ 633-2012 Table 1; HJ 633-2026 Table 3); nothing
is inlined here.

Outputs are compact: IAQIs and AQI as float64, the category level as int8 (0 = no AQI, 1–6), and the
primary and missing pollutants as bit masks (bit ``i`` = ``POLLUTANTS[i]``) that
:data:`PRIMARY_LABELS` / :data:`MISSING_LABELS` turn into the ``;``-joined codes of ``hourly_aqi``.

If numba is not installed :data:`AVAILABLE` is False and callers use the numpy path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from regionair.core import standards as S
from regionair.core.nomenclature import POLLUTANTS

try:  # numba is a runtime dependency (requirements.txt); the numpy path remains the reference
    from numba import njit

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without numba
    AVAILABLE = False

_EPS = 1e-9  # same guard as regionair.core.aqi._ceil
_NP = len(POLLUTANTS)
_NBP = max(len(v) for ed in S.BREAKPOINTS.values() for p in ed.values() for v in p.values())

#: Edition codes used by the kernel (index into :data:`regionair.core.standards.EDITIONS`).
EDITION_CODES = {ed: i for i, ed in enumerate(S.EDITIONS)}


def _tables():
    """Breakpoints, slopes, tops and special values per (edition, pollutant) for the real-time report."""
    ne = len(S.EDITIONS)
    bp = np.full((ne, _NP, _NBP), np.inf)
    slope = np.zeros((ne, _NP, _NBP))
    lv = np.asarray(S.IAQI_LEVELS, dtype="float64")
    nbp = np.zeros((ne, _NP), dtype=np.int64)
    above = np.full((ne, _NP), float(S.IAQI_MAX))
    scale = np.full((ne, _NP), np.nan)  # NaN = no input rounding
    for e, ed in enumerate(S.EDITIONS):
        dec = S.INPUT_DECIMALS[ed]
        for j, p in enumerate(POLLUTANTS):
            avg = S.HOURLY_CNEMC[p]
            b = np.asarray(S.BREAKPOINTS[ed][p][avg], dtype="float64")
            k = len(b)
            nbp[e, j] = k
            bp[e, j, :k] = b
            # identical to (lv[idx+1] - lv[idx]) / (hi - lo) evaluated element-wise in aqi._segment_interp
            slope[e, j, : k - 1] = (lv[1:k] - lv[: k - 1]) / (b[1:] - b[:-1])
            if p == "so2" and avg == "1h":
                sp = S.SO2_1H_ABOVE_TOP[ed]
                above[e, j] = np.nan if sp is None else float(sp)
            if dec is not None:
                scale[e, j] = 10.0 ** dec[p]
    return bp, slope, lv, nbp, above, scale


_BP, _SLOPE, _LV, _NBPS, _ABOVE, _SCALE = _tables()
_UPPER = np.asarray(S.CATEGORY_UPPER[:-1], dtype="float64")
_IAQI_MAX = float(S.IAQI_MAX)
_SO2 = POLLUTANTS.index("so2")


def _labels(order: tuple[str, ...]) -> np.ndarray:
    """Object array: bit mask → ``;``-joined codes in ``order``."""
    out = np.empty(1 << _NP, dtype=object)
    for m in range(1 << _NP):
        out[m] = ";".join(p for p in order if m >> POLLUTANTS.index(p) & 1)
    return out


#: Primary-pollutant mask → codes, sorted alphabetically (as ``aqi._primary`` lists ties).
PRIMARY_LABELS = _labels(tuple(sorted(POLLUTANTS)))
#: Missing-pollutant mask → codes in :data:`~regionair.core.nomenclature.POLLUTANTS` order (as ``aqi._missing``).
MISSING_LABELS = _labels(POLLUTANTS)


def _kernel_py(pm25, pm10, so2, no2, co, o3, ed, bp, slope, lv, nbp, above, scale, upper, iaqi_max, eps,
               iaqis, aqi, level, primary, missing, so2_fallback):
    n = pm25.shape[0]
    npol = iaqis.shape[0]
    nup = upper.shape[0]
    vals = np.empty(npol)
    for i in range(n):
        e = ed[i]
        vals[0] = pm25[i]
        vals[1] = pm10[i]
        vals[2] = so2[i]
        vals[3] = no2[i]
        vals[4] = co[i]
        vals[5] = o3[i]
        best = -1.0
        have = False
        miss = 0
        for j in range(npol):
            c = vals[j]
            if np.isnan(c):
                miss |= 1 << j
                iaqis[j, i] = np.nan
                continue
            s = scale[e, j]
            # GB/T 8170 rounding, as aqi.round_half_even (np.round(x·s, 6) → rint / s). For an integer
            # with s == 1 every step is exact, so the result is c itself: skip the divisions.
            if not np.isnan(s) and not (s == 1.0 and c == np.floor(c) and c < 1e9):
                y = np.rint(c * s * 1e6) / 1e6
                c = np.rint(y) / s
            if c < 0:
                iaqis[j, i] = np.nan
                continue
            k = nbp[e, j]
            top = bp[e, j, k - 1]
            if c > top:
                r = above[e, j]
                if np.isnan(r):
                    so2_fallback[i] = True
                    iaqis[j, i] = np.nan
                    continue
            else:
                idx = 0  # = clip(searchsorted(bp, c, "right") − 1, 0, k − 2), branch-free
                for b in range(1, k - 1):
                    idx += bp[e, j, b] <= c
                lo = bp[e, j, idx]
                r = slope[e, j, idx] * (c - lo) + lv[idx]
            v = np.ceil(r - eps)
            if v > iaqi_max:
                v = iaqi_max
            iaqis[j, i] = v
            if v > best:
                best = v
            have = True
        missing[i] = miss
        if not have:
            aqi[i] = np.nan
            level[i] = 0
            primary[i] = 0
            continue
        aqi[i] = best
        lvl = 1
        for u in range(nup):
            if upper[u] < best:
                lvl += 1
        level[i] = lvl
        pm = 0
        if best > 50:
            for j in range(npol):
                if iaqis[j, i] == best:
                    pm |= 1 << j
        primary[i] = pm


if AVAILABLE:
    _kernel = njit(cache=True, nogil=True, error_model="numpy")(_kernel_py)
else:  # pragma: no cover
    _kernel = _kernel_py


def edition_codes(frame: pd.DataFrame, edition: str = "auto") -> np.ndarray:
    """Edition code per row (0 = HJ 633-2012, 1 = HJ 633-2026) without building date objects.

    ``"auto"``: a row is 2026 when its natural day (date of ``time − 1 h``, Beijing) is on or after
    2026-03-01, i.e. when ``time`` ≥ 2026-03-01 01:00 Beijing (:func:`regionair.core.aqi.natural_day`).
    """
    n = len(frame)
    if edition != "auto":
        return np.full(n, EDITION_CODES[edition], dtype=np.uint8)
    t = pd.DatetimeIndex(frame["time"])
    first = pd.Timestamp(S.EDITION_2026_START) + pd.Timedelta(hours=1)
    if t.tz is None:
        return (t >= first).astype(np.uint8)
    return (t >= first.tz_localize("Asia/Shanghai")).astype(np.uint8)


def hourly_arrays(pm25, pm10, so2, no2, co, o3, editions) -> dict[str, np.ndarray]:
    """Run the fused kernel on six 1-h concentration arrays.

    Parameters
    ----------
    pm25, pm10, so2, no2, co, o3 : ndarray of float64 — 1-h means [µg/m³; CO mg/m³]; NaN = missing.
    editions : ndarray of uint8 — 0 = HJ 633-2012, 1 = HJ 633-2026 (:func:`edition_codes`).

    Returns
    -------
    dict with ``iaqi`` (6 × n float64, rows in :data:`POLLUTANTS` order), ``aqi`` (float64, NaN when
    no IAQI), ``level`` (int8, 0–6), ``primary`` (uint8 mask, only when AQI > 50), ``missing`` (uint8
    mask of NaN inputs) and ``so2_fallback`` (bool: 2012 SO2 1-h > 800 µg/m³, whose IAQI the caller
    must take from the 24-h mean, HJ 633-2012 Table 1 note 2 — the kernel leaves it NaN).
    """
    arrs = [np.ascontiguousarray(a, dtype=np.float64) for a in (pm25, pm10, so2, no2, co, o3)]
    ed = np.ascontiguousarray(editions, dtype=np.uint8)
    n = arrs[0].shape[0]
    iaqis = np.empty((_NP, n))
    aqi = np.empty(n)
    level = np.empty(n, dtype=np.int8)
    primary = np.empty(n, dtype=np.uint8)
    missing = np.empty(n, dtype=np.uint8)
    fallback = np.zeros(n, dtype=np.bool_)
    _kernel(*arrs, ed, _BP, _SLOPE, _LV, _NBPS, _ABOVE, _SCALE, _UPPER, _IAQI_MAX, _EPS,
            iaqis, aqi, level, primary, missing, fallback)
    return {"iaqi": iaqis, "aqi": aqi, "level": level, "primary": primary, "missing": missing,
            "so2_fallback": fallback}
