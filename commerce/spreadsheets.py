"""What every spreadsheet upload is checked for before it is read: an .xlsx is a zip, so a small
file may unpack to gigabytes (a zip bomb) and a sheet may hold a million rows."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO

# What the parts of one .xlsx may unpack to: a 500-row shipping list or a catalog of thousands of
# SKUs is a few MB; more is a file meant to fill our memory.
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024


class SpreadsheetTooLarge(ValueError):
    """The file holds more than may be read at once; the message says what (zh-CN)."""


def check_unzipped_size(source: bytes | Path | BinaryIO, *, limit: int = MAX_UNZIPPED_BYTES) -> None:
    """Refuse an .xlsx whose parts would unpack to more than `limit` bytes. The sizes are the
    ones the archive declares, and Python's zipfile never unpacks more than a part declares.
    A file that is no zip raises zipfile.BadZipFile (the caller says it is no .xlsx)."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    start = None if isinstance(source, Path) else source.tell()
    with zipfile.ZipFile(source) as archive:
        unzipped = sum(entry.file_size for entry in archive.infolist())
    if start is not None:
        source.seek(start)  # the reader that follows starts where we did
    if unzipped > limit:
        mb = 1024 * 1024
        raise SpreadsheetTooLarge(
            f"Excel 文件解压后超过 {limit // mb} MB（{unzipped // mb} MB）：请分成几个文件"
        )


def xlsx_of(
    title: str, header: list[str], rows: list[list[object]], *, money_columns: set[int] = frozenset()
) -> bytes:
    """One sheet as an .xlsx: text guarded like the CSV exports (no formulas run), the columns
    in `money_columns` (yuan, as Decimal or str) written as numbers with two decimals."""
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from commerce.catalog.catalog_file import guard_cell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])

    def cell(n: int, value: object) -> object:
        if n in money_columns and value is not None:
            amount = WriteOnlyCell(sheet, Decimal(str(value)))
            amount.number_format = "0.00"
            return amount
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("", guard_cell(value))
        return value

    sheet.append(header)
    for row in rows:
        sheet.append([cell(n, v) for n, v in enumerate(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
