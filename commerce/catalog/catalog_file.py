"""Catalog files as people keep them: CSV (UTF-8 or GB18030) or Excel (.xlsx), one row per SKU,
its columns, reading them (rows numbered as a spreadsheet shows them), and the guard that keeps a
cell from running as a formula. What the rows mean is the importer's business."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from commerce.spreadsheets import SpreadsheetTooLarge, check_unzipped_size

REQUIRED_COLUMNS = ("category", "spu_code", "title", "sku_code", "price", "stock")
OPTIONAL_COLUMNS = ("subtitle", "specs", "market_price", "images", "status", "merchant")
# Every column in the order exports and the template write them.
COLUMNS = (
    "category",
    "spu_code",
    "title",
    "subtitle",
    "specs",
    "sku_code",
    "price",
    "market_price",
    "stock",
    "images",
    "status",
    "merchant",
)
# What each column means, for the people who fill a file in (the import page shows it).
COLUMN_NOTES = {
    "category": "分类路径，最多三级，用 > 分隔，如「数码 > 手机 > 5G手机」；不存在的分类会自动创建",
    "spu_code": "商品编码：同一编码的各行是同一个商品的不同规格；编码已存在则更新该商品",
    "title": "商品标题，最长 120 字；同一商品的各行须一致",
    "subtitle": "副标题（可空），最长 200 字；同一商品的各行须一致",
    "specs": "规格，如「颜色:黑色;容量:128GB」；多规格商品每行都要写，且规格名一致",
    "sku_code": "SKU 编码，全平台唯一；文件中不再出现的 SKU 会从该商品删除",
    "price": "售价（元），最多两位小数，如 5999.00",
    "market_price": "划线价（元，可空）",
    "stock": "库存，不小于 0 的整数；以文件为准",
    "images": "图片地址（可空），以 http:// 或 https:// 开头，多张用空格分隔",
    "status": "on_sale（在售，默认）、draft（草稿）或 off_shelf（已下架）",
    "merchant": "商户编码（可空，空为平台自营）",
}

# A spreadsheet runs a cell starting with one of these as a formula (OWASP's CSV injection list:
# a tab or a carriage return before the = slips past guards that look only for =): exports put
# a ' before such a cell, and reading a file takes that ' off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # the old .xls (and .doc) container


class CatalogFileError(ValueError):
    """The whole file cannot be imported (unreadable, or a required column is missing)."""


class CatalogFileTooLarge(CatalogFileError):
    """More rows than one import takes, or an .xlsx that unpacks to too much."""


# The rows one file may hold (a product's SKUs are rows): more is split into several files.
MAX_ROWS = 20_000
_TOO_MANY_ROWS = f"一个文件最多 {MAX_ROWS} 行，请分成几个文件导入"


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]


# --- reading files ---------------------------------------------------------------------------


def guard_cell(text: str) -> str:
    """A cell as exports write it: a ' before anything a spreadsheet would run as a formula.

    Leading 's are looked through, so that unguard_cell(guard_cell(x)) == x for every x.
    """
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unguard_cell(text: str) -> str:
    """Take off the ' that guard_cell put before a formula-like cell."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text


def read_catalog_file(path: Path) -> Iterator[Row]:
    """The data rows of a .csv (UTF-8 or GB18030) or .xlsx file, numbered as a person sees them."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path.read_bytes())
    raise CatalogFileError("只支持 .csv 或 .xlsx 文件")


def catalog_file_kind(raw: bytes) -> str:
    """ "xlsx" or "csv", judged by the content (an uploaded file's name proves nothing)."""
    if not raw.strip():
        raise CatalogFileError("文件是空的")
    if raw.startswith(_XLSX_MAGIC):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(raw)).namelist())
        except zipfile.BadZipFile as exc:
            raise CatalogFileError("Excel 文件已损坏，无法读取") from exc
        if "xl/workbook.xml" not in names:
            raise CatalogFileError("这是一个压缩包（或 Word 等文档），不是 Excel 工作簿（.xlsx）")
        return "xlsx"
    if raw.startswith(_OLE2_MAGIC):
        raise CatalogFileError("这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或「CSV UTF-8」")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogFileError("这是 UTF-16 的「Unicode 文本」：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」")
    if b"\x00" in raw[:65536]:
        raise CatalogFileError("只支持 CSV（UTF-8 或 GB18030）或 Excel（.xlsx）文件")
    return "csv"


def read_catalog_bytes(raw: bytes) -> Iterator[Row]:
    """The data rows of an uploaded .csv or .xlsx file, whatever it was called."""
    if catalog_file_kind(raw) == "xlsx":
        return _read_xlsx(io.BytesIO(raw))
    return _read_csv(raw)


def _read_csv(raw: bytes) -> Iterator[Row]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CatalogFileError("无法识别文件编码，请另存为 UTF-8 或 GB18030 的 CSV")
    rows = list(_csv_rows(text))  # the text is in memory already: count its rows at once
    if len(rows) > MAX_ROWS + 1:
        raise CatalogFileTooLarge(_TOO_MANY_ROWS)
    header = rows[0] if rows else None
    return _rows_with_header(header, iter(rows[1:]))


def _csv_rows(text: str) -> Iterator[list[str]]:
    """The CSV's rows; a row the csv module cannot read (a cell over its size limit, say) is
    a CatalogFileError naming the line."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CatalogFileError(f"第 {reader.line_num} 行无法读取：{exc}") from exc
        yield row


def _read_xlsx(source: Path | io.BytesIO) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        check_unzipped_size(source)
        workbook = load_workbook(source, read_only=True, data_only=True)
    except SpreadsheetTooLarge as exc:
        raise CatalogFileTooLarge(str(exc)) from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise CatalogFileError(f"无法读取 Excel 文件：{exc}") from exc
    if not workbook.worksheets:
        raise CatalogFileError("Excel 文件里没有工作表")
    sheet = workbook.worksheets[0]
    if (sheet.max_row or 0) > MAX_ROWS + 1:  # as the sheet declares it: refused before reading
        raise CatalogFileTooLarge(_TOO_MANY_ROWS)
    rows = _at_most([_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True))
    header = next(rows, None)
    return _rows_with_header(header, rows)


def _at_most(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """The rows, and CatalogFileTooLarge past MAX_ROWS (a sheet may declare fewer than it has)."""
    for count, row in enumerate(rows):
        if count > MAX_ROWS:  # the header and MAX_ROWS rows were fine
            raise CatalogFileTooLarge(_TOO_MANY_ROWS)
        yield row


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_with_header(header: list[str] | None, rows: Iterable[list[str]]) -> Iterator[Row]:
    if not header:
        raise CatalogFileError("文件是空的")
    names = [name.strip().lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise CatalogFileError(f"缺少必需的列：{', '.join(missing)}")
    return _numbered(names, rows)


def _numbered(names: list[str], rows: Iterable[list[str]]) -> Iterator[Row]:
    for number, cells in enumerate(rows, start=2):
        if not any((cell or "").strip() for cell in cells):
            continue  # blank lines are not rows
        values = {name: (cells[i] if i < len(cells) else "") or "" for i, name in enumerate(names)}
        yield Row(number, {k: unguard_cell(v.strip()) for k, v in values.items()})
