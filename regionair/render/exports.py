"""Tables out: CSV (UTF-8 with BOM so Excel opens Chinese correctly) and XLSX (formatted header,
units row, frozen pane). Cells that a spreadsheet would run as a formula (= + - @ …) are neutralised
with a leading apostrophe (OWASP "CSV injection")."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from regionair.core.nomenclature import UNITS

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
        ws.append([None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v for v in row])
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
