"""Workbook containers inspected before anything decompresses them (zip bombs, macros, encryption).

Shared by the upload loader and the quotsoft reader (both accept ``.xlsx``), below both.
"""

from __future__ import annotations

import io
import zipfile

from regionair.errors import InputError

#: Largest total uncompressed size of a workbook's members [bytes], compression ratio and member count
#: (a zip bomb expands thousands of times; a real CNEMC workbook a few times).
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100
XLSX_MAX_MEMBERS = 10_000


def check_xlsx_container(
    data: bytes,
    name: str = "<upload>",
    *,
    max_uncompressed: int = XLSX_MAX_UNCOMPRESSED,
    max_ratio: float = XLSX_MAX_RATIO,
    max_members: int = XLSX_MAX_MEMBERS,
) -> None:
    """Inspect an ``.xlsx`` zip container before anything decompresses it.

    Parameters
    ----------
    data : bytes
        The workbook.
    name : str
        For messages.
    max_uncompressed : int
        Largest total uncompressed size of all members [bytes] (default 200 MB).
    max_ratio : float
        Largest overall compression ratio (uncompressed / compressed; default 100).
    max_members : int
        Largest number of members.

    Raises
    ------
    InputError
        Not a zip (e.g. a password-protected workbook, an ``.xls``), encrypted members, a macro
        project (``xl/vbaProject.bin``), not a workbook, or a limit exceeded (zip bomb).
    """
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InputError("this is an old .xls or a password-protected workbook; save it as a plain .xlsx",
                         path=name)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a valid .xlsx file ({exc})", path=name) from None
    with zf:
        infos = zf.infolist()
    if len(infos) > max_members:
        raise InputError(f"workbook has {len(infos)} parts (limit {max_members}); refusing it", path=name)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > max_uncompressed:
        raise InputError(
            f"workbook expands to {total / 1e6:.0f} MB (limit {max_uncompressed / 1e6:.0f} MB); split it or upload CSV",
            path=name,
        )
    ratio = total / max(packed, 1)
    if ratio > max_ratio:
        raise InputError(
            f"workbook compression ratio {ratio:.0f} exceeds {max_ratio:.0f} (zip-bomb guard); refusing it",
            path=name,
        )
    names = {i.filename for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise InputError("encrypted workbook parts; remove the password and save as .xlsx", path=name)
    if "xl/vbaProject.bin" in names:
        raise InputError("macro-enabled workbook (.xlsm content) is not accepted; save as a plain .xlsx", path=name)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise InputError("zip file is not an Excel workbook (.xlsx)", path=name)
