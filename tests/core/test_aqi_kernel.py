"""The fused hourly-AQI kernel gives exactly what the reference numpy path of ``hourly_aqi`` gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from regionair.core import aqi_kernel as K
from regionair.core import standards as S
from regionair.core.aqi import hourly_aqi
from regionair.core.nomenclature import POLLUTANTS, TZ

pytestmark = pytest.mark.skipif(not K.AVAILABLE, reason="numba not installed: hourly_aqi uses the numpy path")


def _reference(frame, monkeypatch, **kw):
    with monkeypatch.context() as m:
        m.setattr(K, "AVAILABLE", False)
        return hourly_aqi(frame, **kw)


def _assert_same(frame, monkeypatch, **kw):
    fast = hourly_aqi(frame, **kw)
    ref = _reference(frame, monkeypatch, **kw)
    pdt.assert_frame_equal(fast, ref, check_exact=True)
    return fast


def _all_breakpoints() -> np.ndarray:
    vals = {0.0}
    for ed in S.BREAKPOINTS.values():
        for p in ed.values():
            for bp in p.values():
                vals.update(float(b) for b in bp)
    return np.array(sorted(vals))


def _random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-02-26 00:00", tz=TZ)  # spans the 2012 → 2026 switch (2026-03-01 01:00)
    time = start + pd.to_timedelta(rng.integers(0, 24 * 8, n), unit="h")
    bps = _all_breakpoints()
    frame = {"station": np.array([f"{1000 + i % 50}A" for i in range(n)]), "time": time}
    scales = {"pm25": 600, "pm10": 800, "so2": 780, "no2": 4000, "co": 160, "o3": 1300}
    row_scale = rng.choice([0.03, 0.15, 1.0], n)  # clean, moderate and polluted hours
    all_missing = rng.random(n) < 0.03
    for p in POLLUTANTS:
        kind = rng.integers(0, 12, n)
        v = rng.random(n) * scales[p] * row_scale
        v = np.where(kind == 0, np.nan, v)  # missing
        v = np.where(kind == 1, rng.choice(bps, n), v)  # exact breakpoints of any table
        v = np.where(kind == 2, np.round(v), v)  # integers
        v = np.where(kind == 3, np.round(v, 1) + 0.05, v)  # trailing-5 halves (GB/T 8170)
        v = np.where(kind == 4, scales[p] * 5 * rng.random(n), v)  # far above the top
        v = np.where(kind == 5, -rng.random(n), v)  # negative: invalid
        frame[p] = np.where(all_missing, np.nan, v)
    return pd.DataFrame(frame)


def test_real_rows_2022(cnemc_2022_region, monkeypatch):
    out = _assert_same(cnemc_2022_region, monkeypatch)
    assert (out["edition"] == "2012").all()


def test_real_rows_2026(cnemc_2026_03_10_region, monkeypatch):
    out = _assert_same(cnemc_2026_03_10_region, monkeypatch)
    assert (out["edition"] == "2026").all()
    # the published AQI is reproduced where it was published (standards.md §2.8)
    pub = out["published_aqi"].notna() & out["aqi"].notna() & (out["missing"] == "")
    assert pub.sum() > 5
    assert (out.loc[pub, "aqi"] == out.loc[pub, "published_aqi"]).all()


@pytest.mark.parametrize("edition", ["auto", "2012", "2026"])
@pytest.mark.parametrize("seed", [1, 2])
def test_random_inputs(edition, seed, monkeypatch):
    frame = _random_frame(20_000, seed)
    frame["so2"] = np.minimum(frame["so2"], 800)  # 2012 SO2 > 800 stays on the reference path
    out = _assert_same(frame, monkeypatch, edition=edition)
    assert out["aqi"].isna().any() and (out["aqi"] == 500).any() and (out["level"] == 6).any()
    assert out["primary_pollutants"].str.contains(";").any()  # ties


def test_exact_breakpoints_every_pollutant(monkeypatch):
    bps = _all_breakpoints()
    n = len(bps)
    for p in POLLUTANTS:
        frame = pd.DataFrame({"station": ["1001A"] * n, "time": pd.Timestamp("2022-01-01 10:00", tz=TZ)})
        for q in POLLUTANTS:
            frame[q] = bps if q == p else np.nan
        frame["so2"] = np.minimum(frame["so2"], 800)
        for ed in ("2012", "2026"):
            _assert_same(frame, monkeypatch, edition=ed)


def test_so2_above_800_under_2012_falls_back(monkeypatch):
    frame = pd.DataFrame({"station": ["1001A"] * 3, "time": pd.date_range("2022-01-01 01:00", periods=3, freq="h", tz=TZ),
                          "pm25": 10.0, "pm10": 20.0, "so2": [100.0, 900.0, 100.0], "no2": 10.0, "co": 0.5, "o3": 50.0})
    r = K.hourly_arrays(*[frame[p].to_numpy() for p in POLLUTANTS], K.edition_codes(frame))
    assert r["so2_fallback"].tolist() == [False, True, False]
    _assert_same(frame, monkeypatch)  # the reference path handles it (24-h mean substitution)
    # under 2026 the kernel itself scores it as 200 (HJ 633-2026 Table 3 note b)
    out = _assert_same(frame, monkeypatch, edition="2026")
    assert out["iaqi_so2"].iloc[1] == 200


def test_edition_switch_at_natural_day():
    t = pd.Series(pd.to_datetime(["2026-03-01 00:00", "2026-03-01 01:00"]).tz_localize(TZ))
    assert K.edition_codes(pd.DataFrame({"time": t})).tolist() == [0, 1]
    naive = pd.DataFrame({"time": t.dt.tz_localize(None)})
    assert K.edition_codes(naive).tolist() == [0, 1]
    utc = pd.DataFrame({"time": t.dt.tz_convert("UTC")})
    assert K.edition_codes(utc).tolist() == [0, 1]


def test_empty_frame(monkeypatch):
    frame = pd.DataFrame({"station": pd.Series(dtype=str), "time": pd.Series(dtype=f"datetime64[ns, {TZ.key}]")})
    for p in POLLUTANTS:
        frame[p] = pd.Series(dtype="float64")
    _assert_same(frame, monkeypatch)
