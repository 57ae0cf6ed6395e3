"""Tables out — kept for its callers: the one writer is :mod:`regionair.render.tables`.

CSV (UTF-8 with BOM so Excel opens Chinese correctly, CRLF rows) and XLSX (formatted header, units
row, frozen pane). Text cells that a spreadsheet would run as a formula (= + - @ tab CR …) are
neutralised with a leading apostrophe (OWASP "CSV injection"), headers included.
"""

from __future__ import annotations

from regionair.render.tables import FORMULA_START, neutralise, to_csv_bytes, to_xlsx_bytes, write_table

__all__ = ["FORMULA_START", "neutralise", "to_csv_bytes", "to_xlsx_bytes", "write_table"]
