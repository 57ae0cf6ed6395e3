"""Tables out for people (:func:`for_people`), and the one writer's names (:mod:`regionair.render.tables`) for its callers.

CSV (UTF-8 with BOM so Excel opens Chinese correctly, CRLF rows) and XLSX (formatted header, units
row, frozen pane). Text cells that a spreadsheet would run as a formula (= + - @ tab CR …) are
neutralised with a leading apostrophe (OWASP "CSV injection"), headers included.
"""

from __future__ import annotations

import pandas as pd

from regionair.core.i18n import column_label, decimals, value_label
from regionair.core.nomenclature import TZ, UNITS
from regionair.render.tables import FORMULA_START, neutralise, to_csv_bytes, to_xlsx_bytes, write_table

__all__ = ["FORMULA_START", "for_people", "neutralise", "to_csv_bytes", "to_xlsx_bytes", "write_table"]


def for_people(df: pd.DataFrame, lang: str = "zh") -> tuple[pd.DataFrame, dict[str, str]]:
    """A table as a reader downloads it from a page: headers in words (the column catalogue), code-valued
    cells in words, numbers rounded to their quantity's decimals, times as Beijing wall-clock times (Excel
    dates in XLSX). Returns the frame and the units per header (the XLSX units row). The CLI's tables keep
    their machine-readable columns (:func:`write_table`)."""

    cols: dict[str, pd.Series] = {}
    units: dict[str, str] = {}
    for c in df.columns:
        s = df[c]
        code = str(c)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert(TZ).dt.tz_localize(None)
        elif pd.api.types.is_bool_dtype(s):
            s = s.map(lambda v: value_label(bool(v), lang) if pd.notna(v) else v)
        elif pd.api.types.is_numeric_dtype(s):
            s = s.round(decimals(code))
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            s = s.map(lambda v: value_label(v, lang) if isinstance(v, str) else v)
        label = column_label(code, lang)
        while label in cols:
            label = f"{label} ({code})"
        cols[label] = s
        units[label] = UNITS.get(code.removesuffix("_24h").removesuffix("_mean").removeprefix("mean_"), "")
    return pd.DataFrame(cols), units
