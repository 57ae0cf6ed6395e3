"""Tables out: CSV (UTF-8 with BOM so Excel opens Chinese correctly) and XLSX (formatted header,
units row, frozen pane). Cells that a spreadsheet would run as a formula (= + - @ …) are neutralised
with a leading apostrophe (OWASP "CSV injection")."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.core.files import atomic_write
from regionair.core.nomenclature import TZ, UNITS
from regionair.errors import InputError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` whose text cells cannot be run as spreadsheet formulas.

    A text cell starting with ``= + - @``, tab or CR gets a leading ``'``; numbers are untouched
    (a negative *number* is data, a text ``-1+cmd`` is not).
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            txt = s.astype("string")
            bad = txt.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if bad.any():
                out[col] = np.where(bad, "'" + txt.fillna(""), s.astype(object))
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = neutralise(df)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].map(lambda t: t.isoformat() if pd.notna(t) else "")
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM, CRLF rows (RFC 4180); missing values are empty cells (never 0).

    CRLF also makes the writer quote any cell holding a bare CR or LF: an unquoted CR would start a
    new row in Excel, and a neutralised ``'\r=1`` would become a live ``=1`` formula there.
    """
    return _plain(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, *, sheet: str = "data", units: dict[str, str] | None = None) -> bytes:
    """XLSX with a bold header row, a units row under it, a frozen pane and sensible column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    units = {**UNITS, **(units or {})}
    plain = _plain(df)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in plain.columns])
    ws.append([units.get(str(c).removesuffix("_24h").removesuffix("_mean"), "") for c in plain.columns])
    for row in plain.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT else v for v in row])
    for i, col in enumerate(plain.columns, start=1):  # naive (Beijing) times are Excel dates, not text
        if pd.api.types.is_datetime64_dtype(plain[col]):
            for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd hh:mm"
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = head
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="666666")
    ws.freeze_panes = "A3"
    for i, col in enumerate(plain.columns, start=1):
        width = max(len(str(col)), *(len(str(v)) for v in plain[col].head(200))) if len(plain) else len(str(col))
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(8, width + 2), 40)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_table(df: pd.DataFrame, out: str | os.PathLike, fmt: str | None = None) -> None:
    """The CLI's tables out (``aqi``, ``daily``, ``export``): CSV, XLSX or Parquet by ``fmt`` or the suffix.

    Written atomically (:func:`regionair.core.files.atomic_write`). A ``.xls.csv`` name gets a BOM so Excel
    opens Chinese text correctly; machine-readable columns are written as they are.
    """
    out = str(out)
    fmt = fmt or Path(out).suffix.lstrip(".").lower() or "csv"
    if fmt == "csv":
        atomic_write(out, lambda p: df.to_csv(p, index=False, encoding="utf-8-sig" if out.endswith(".xls.csv") else "utf-8"))
    elif fmt == "parquet":
        atomic_write(out, lambda p: df.to_parquet(p, index=False))
    elif fmt == "xlsx":
        atomic_write(out, lambda p: Path(p).write_bytes(to_xlsx_bytes(df)))
    else:
        raise InputError(f"unknown format {fmt!r}; choose csv, xlsx or parquet")


def for_people(df: pd.DataFrame, lang: str = "zh") -> tuple[pd.DataFrame, dict[str, str]]:
    """A table as a reader downloads it from a page: headers in words (the column catalogue), code-valued
    cells in words, numbers rounded to their quantity's decimals, times as Beijing wall-clock times (Excel
    dates in XLSX). Returns the frame and the units per header (the XLSX units row). The CLI's tables keep
    their machine-readable columns (:func:`write_table`)."""
    from regionair.core.i18n import column_label, decimals, value_label

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
