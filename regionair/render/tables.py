"""One writer for every table RegionAir writes: CSV and XLSX, formula-neutralised, written atomically.

The CLI (``aqi``, ``daily``, ``export``), the dashboard's download buttons and the export bundle all
write through :func:`to_csv_bytes`, :func:`to_xlsx_bytes` or :func:`write_table`, so that no output
can carry a live spreadsheet formula (OWASP "CSV injection"):

* a **text** cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``
  (:func:`neutralise`); numbers are never touched (``-3.5`` stays the number −3.5) and neither is
  a text that only looks like one further in (``a=1``). Column headers are text cells too;
* CSV rows end with CRLF (RFC 4180), which also makes the writer quote any cell holding a CR or
  LF — an unquoted CR would start a new row in Excel, where ``'\\r=1`` would become a live ``=1``;
* XLSX cells are written as values (a neutralised text is never a formula cell), and characters
  XML cannot hold (``\\x00``–``\\x08`` …) are dropped instead of failing the whole file;
* a file is written to a temporary name in the target folder and renamed: nothing partial is ever
  left under the target name (:func:`atomic_write`).

Machine-readable columns stay as documented: column names and order unchanged, numbers as numbers,
missing values as empty cells (never 0), tz-aware times as ISO 8601 with their offset
(``2026-03-10T10:00:00+08:00``). CLI files are UTF-8 without BOM (``.xls.csv`` and the dashboard's
downloads carry a BOM so that Excel reads Chinese correctly); Parquet keeps the typed data exactly.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from regionair.core import files
from regionair.core.nomenclature import UNITS
from regionair.errors import InputError

__all__ = ["FORMATS", "FORMULA_START", "atomic_write", "neutralise", "to_csv_bytes", "to_xlsx_bytes", "write_table"]

#: First characters that make a spreadsheet run a cell as a formula (OWASP CSV injection).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")

#: Characters an XLSX (XML 1.0) cell cannot hold (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE).
_XML_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _safe_text(v):
    """A text cell neutralised (``'`` in front of a formula start); anything else unchanged."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` whose text cells and headers cannot be run as spreadsheet formulas.

    A text cell (a Python ``str`` in an object, string or categorical column) starting with
    ``= + - @``, tab or CR gets a leading ``'``; numbers are untouched, also inside object columns
    (a negative *number* is data, a text ``-1+cmd`` is not). Headers are neutralised the same way.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        elif not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        if pd.api.types.is_string_dtype(s) and s.dtype != object:
            s = s.astype(object).where(s.notna(), None)
        bad = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(dtype=bool)
        if bad.any() or isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = s.map(_safe_text)
    out.columns = [_safe_text(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = neutralise(df)
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out.isetitem(i, col.map(lambda t: t.isoformat() if pd.notna(t) else ""))
    return out


def to_csv_bytes(df: pd.DataFrame, *, bom: bool = True) -> bytes:
    """CSV as UTF-8 (with BOM unless ``bom=False``), CRLF rows (RFC 4180); missing values are empty cells (never 0).

    CRLF also makes the writer quote any cell holding a bare CR or LF: an unquoted CR would start a
    new row in Excel, and a neutralised ``'\\r=1`` would become a live ``=1`` formula there.
    """
    return _plain(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig" if bom else "utf-8")


def _xlsx_cell(v):
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, str):
        return _XML_ILLEGAL.sub("", v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def to_xlsx_bytes(df: pd.DataFrame, *, sheet: str = "data", units: dict[str, str] | None = None) -> bytes:
    """XLSX with a bold header row, a units row under it, a frozen pane and sensible column widths.

    Every cell is a value (never a formula: text is neutralised as in :func:`neutralise`).
    """
    from openpyxl import Workbook  # imported on use: openpyxl costs start-up time
    from openpyxl.styles import (  # openpyxl loads only when a workbook is read or written
        Alignment,
        Font,
        PatternFill,
    )

    units = {**UNITS, **(units or {})}
    plain = _plain(df)
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", _XML_ILLEGAL.sub("", sheet))[:31] or "data"
    ws.append([_xlsx_cell(str(c)) for c in plain.columns])
    ws.append([units.get(str(c).removesuffix("_24h").removesuffix("_mean"), "") for c in df.columns])
    for row in plain.itertuples(index=False):
        ws.append([_xlsx_cell(v) for v in row])
    for i in range(1, plain.shape[1] + 1):  # naive (Beijing) times are Excel dates, not text
        if pd.api.types.is_datetime64_dtype(plain.iloc[:, i - 1]):
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
        values = plain.iloc[:200, i - 1]
        width = max(len(str(col)), *(len(str(v)) for v in values)) if len(plain) else len(str(col))
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(max(8, width + 2), 40)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def atomic_write(out, write: Callable[[str], object]) -> Path:
    """:func:`regionair.core.files.atomic_write`, returning the path written."""
    files.atomic_write(out, write)
    return Path(out)


def write_table(df: pd.DataFrame, path, fmt: str | None = None, *, bom: bool | None = None) -> Path:
    """Write ``df`` to ``path`` as CSV, XLSX or Parquet, atomically; CSV/XLSX neutralised.

    Parameters
    ----------
    df : DataFrame
        The table (written without its index).
    path : str or Path
        Target file.
    fmt : {"csv", "xlsx", "parquet"}, optional
        Default: from the file's suffix, else ``csv``.
    bom : bool, optional
        UTF-8 BOM in a CSV. Default: only for a ``.xls.csv`` file (machine-readable files start with
        the header itself).

    Raises
    ------
    InputError
        An unknown format.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt == "csv":
        data = to_csv_bytes(df, bom=path.name.endswith(".xls.csv") if bom is None else bom)
        return atomic_write(path, lambda p: Path(p).write_bytes(data))
    if fmt == "xlsx":
        data = to_xlsx_bytes(df)
        return atomic_write(path, lambda p: Path(p).write_bytes(data))
    if fmt == "parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    raise InputError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}", column="format")
