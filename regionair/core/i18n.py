"""User-facing text in Chinese (default) and English. One table; pages and charts call :func:`t`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from regionair.core import standards as S
from regionair.core.nomenclature import POLLUTANT_LABELS, UNITS

#: The catalogue file: every word a user sees, Chinese and English side by side (a translator edits it; see
#: its header). Loaded once at import.
CATALOGUE_FILE = Path(__file__).with_name("text") / "catalogue.toml"


def _load_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, dict[str, tuple[str, str]]]:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for section in ("columns", "values", "text", "eval_columns"):
        table = raw.get(section, {})
        bad = [k for k, v in table.items() if not (isinstance(v, list) and len(v) == 2 and all(isinstance(s, str) for s in v))]
        if bad:
            raise ValueError(f"{path} [{section}]: {bad[:5]} must be [\"中文\", \"English\"]")
        out[section] = {k: (v[0], v[1]) for k, v in table.items()}
    return out


_CATALOGUE = _load_catalogue()

LANGS = ("zh", "en")

#: Table column headers, keyed by the column's code in RegionAir's frames (one catalogue for every table the
#: pages show, so that a raw code never reaches a header). Pollutant columns come from :func:`pollutant_label`.
COLUMNS: dict[str, tuple[str, str]] = _CATALOGUE["columns"]
for _p in POLLUTANT_LABELS:
    _zh, _en = POLLUTANT_LABELS[_p]["zh"], POLLUTANT_LABELS[_p]["en"]
    COLUMNS.setdefault(f"iaqi_{_p}", (f"{_zh} 分指数", f"IAQI {_en}"))
    COLUMNS.setdefault(f"n_{_p}", (f"{_zh} 有效小时", f"{_en} valid hours"))
    COLUMNS.setdefault(f"{_p}_24h", (f"{_zh} 24小时滑动均值", f"{_en} 24-h mean"))

#: Cell values that are codes (statuses, sources, review flags …) → what a reader sees.
VALUES: dict[str, tuple[str, str]] = _CATALOGUE["values"]


def column_label(code: str, lang: str = "zh") -> str:
    """Header of the column ``code`` in ``lang`` (the code itself only if the catalogue lacks it)."""
    if code in POLLUTANT_LABELS:
        return pollutant_label(code, lang, unit=True)
    pair = COLUMNS.get(code)
    return code if pair is None else pair[LANGS.index(lang) if lang in LANGS else 0]


def value_label(value, lang: str = "zh"):
    """A code-valued cell as text for a reader; other values unchanged."""
    pair = VALUES.get(str(value)) if isinstance(value, str | bool) else None
    return value if pair is None else pair[LANGS.index(lang) if lang in LANGS else 0]


#: Decimals shown per quantity (column code; pollutant codes cover their 24-h/8-h means and period values).
#: Concentrations are published as integers in µg/m³ and CO to one decimal in mg/m³ (HJ 633 §7 / CNEMC
#: practice); indices to 2 decimals (the composite index as CNEMC's monthly reports print it).
DECIMALS: dict[str, int] = {"aqi": 0, "iaqi": 0, "pm25": 0, "pm10": 0, "so2": 0, "no2": 0, "o3": 0, "o3_8h": 0, "co": 1,
                            "composite_index": 2, "r": 2, "r_lag0": 2, "r_crit": 2, "p_lead": 2, "p_lag": 2,
                            "support": 2, "distance_km": 0, "shared_border_km": 0, "speed_kmh": 0, "bearing": 0,
                            "wind_from": 0, "longitude": 4, "latitude": 4}
#: How a missing value reads, everywhere.
MISSING = "—"


def decimals(code: str) -> int:
    """Decimals for a column ``code`` (see :data:`DECIMALS`); IAQI and counts are integers; otherwise 1."""
    base = code.split("_24h")[0].removeprefix("mean_")
    if code.startswith(("iaqi_", "n_")) or code in ("hours", "hours_valid", "rank"):
        return 0
    return DECIMALS.get(code, DECIMALS.get(base, 1))


def fmt_value(value, code: str = "") -> str:
    """A number as a reader sees it: the quantity's decimals, "—" when missing."""
    try:
        if value is None or value != value:  # NaN, NaT, pd.NA
            return MISSING
    except (TypeError, ValueError):  # pd.NA compares ambiguously
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{decimals(code)}f}" if abs(value) >= 10_000 else f"{value:.{decimals(code)}f}"


TEXT: dict[str, tuple[str, str]] = _CATALOGUE["text"]


def t(key: str, lang: str = "zh", **fmt) -> str:
    """Text for ``key`` in ``lang`` (``zh``/``en``), formatted with ``fmt``; the key itself if unknown."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def pollutant_label(code: str, lang: str = "zh", unit: bool = False) -> str:
    """Display name of a pollutant code (``pm25`` → PM2.5), optionally with its unit."""
    if code == "aqi":
        return "AQI"
    label = POLLUTANT_LABELS.get(code, {}).get(lang, code)
    if unit and code in UNITS:
        return f"{label} ({UNITS[code]})"
    return label


def pair_text(pair, lang: str = "zh") -> str:
    """The ``lang`` half of a (zh, en) pair from a domain table (meeting statuses, measure types …)."""
    return pair[LANGS.index(lang) if lang in LANGS else 0]


def join_names(names, lang: str = "zh") -> str:
    """A list of names as a reader writes it: ``乌鲁木齐市、昌吉市`` (zh) / ``Urumqi, Changji`` (en)."""
    return ("、" if lang == "zh" else ", ").join(str(n) for n in names)


def primary_label(codes: str, lang: str = "zh") -> str:
    """``pm10;pm25`` → ``PM10、PM2.5`` (zh) / ``PM10, PM2.5`` (en); '—' when none."""
    if not isinstance(codes, str) or not codes:
        return "—"
    sep = "、" if lang == "zh" else ", "
    return sep.join(pollutant_label(c, lang) for c in codes.split(";"))


def category_name(level: int, lang: str = "zh") -> str:
    """Category name of a level 1–6 ('' for 0)."""
    if not level:
        return ""
    return S.CATEGORIES[int(level) - 1]["name_zh" if lang == "zh" else "name_en"]


EVAL_COLUMNS: dict[str, tuple[str, str]] = _CATALOGUE["eval_columns"]  # headers of the evaluation tables
DECIMALS.update({"line": 0})  # a file's line number, not a quantity
