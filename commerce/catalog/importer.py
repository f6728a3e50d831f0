"""Load a catalog from CSV or Excel: one row per SKU, rows with the same spu_code form a product.

Bad rows are reported with the row number a person sees in the spreadsheet (the header is
row 1) and the good rows still load; a product whose rows disagree is rejected as a whole.
What the file has no column for (description, video, SKU weight) is kept as it was.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from commerce.catalog.models import Product, Sku
from commerce.catalog.services import ProductInput, SkuInput, ensure_category_path, upsert_product
from commerce.catalog.states import ProductStatus
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant, merchant_ids_by_code
from commerce.money import MoneyFormatError, yuan_to_fen

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
_SPEC_SEPARATORS = re.compile(r"[;；]")
_KEY_VALUE = re.compile(r"[:：]")
# Exported files carry the codes; people typing a sheet by hand may write the Chinese names.
_STATUS_NAMES = {
    **{status.value: status.value for status in ProductStatus},
    "在售": ProductStatus.ON_SALE.value,
    "草稿": ProductStatus.DRAFT.value,
    "已下架": ProductStatus.OFF_SHELF.value,
    "下架": ProductStatus.OFF_SHELF.value,
}
# A spreadsheet runs a cell starting with one of these as a formula: exports put a ' before such
# a cell (formula injection), and reading a file takes that ' off again.
FORMULA_STARTS = ("=", "+", "-", "@")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # the old .xls (and .doc) container


class _RowError(ValueError):
    """One row of a product is wrong: that row gets the reason, its siblings a pointer to it."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


class CatalogFileError(ValueError):
    """The whole file cannot be imported (unreadable, or a required column is missing)."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str
    spu_code: str = ""
    sku_code: str = ""
    title: str = ""


@dataclass
class ImportReport:
    loaded_rows: int = 0
    created_products: int = 0
    updated_products: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"导入完成：成功 {self.loaded_rows} 行（新建 {self.created_products} 个商品，"
            f"更新 {self.updated_products} 个商品）"
        )
        if self.problems:
            text += f"，{len(self.problems)} 行有问题未导入"
        return text


@dataclass(frozen=True)
class _Row:
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


def read_catalog_file(path: Path) -> Iterator[_Row]:
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


def read_catalog_bytes(raw: bytes) -> Iterator[_Row]:
    """The data rows of an uploaded .csv or .xlsx file, whatever it was called."""
    if catalog_file_kind(raw) == "xlsx":
        return _read_xlsx(io.BytesIO(raw))
    return _read_csv(raw)


def _read_csv(raw: bytes) -> Iterator[_Row]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CatalogFileError("无法识别文件编码，请另存为 UTF-8 或 GB18030 的 CSV")
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    return _rows_with_header(header, rows)


def _read_xlsx(source: Path | io.BytesIO) -> Iterator[_Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise CatalogFileError(f"无法读取 Excel 文件：{exc}") from exc
    if not workbook.worksheets:
        raise CatalogFileError("Excel 文件里没有工作表")
    sheet = workbook.worksheets[0]
    rows = ([_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True))
    header = next(rows, None)
    return _rows_with_header(header, rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_with_header(header: list[str] | None, rows: Iterable[list[str]]) -> Iterator[_Row]:
    if not header:
        raise CatalogFileError("文件是空的")
    names = [name.strip().lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise CatalogFileError(f"缺少必需的列：{', '.join(missing)}")
    return _numbered(names, rows)


def _numbered(names: list[str], rows: Iterable[list[str]]) -> Iterator[_Row]:
    for number, cells in enumerate(rows, start=2):
        if not any((cell or "").strip() for cell in cells):
            continue  # blank lines are not rows
        values = {name: (cells[i] if i < len(cells) else "") or "" for i, name in enumerate(names)}
        yield _Row(number, {k: unguard_cell(v.strip()) for k, v in values.items()})


# --- turning rows into products --------------------------------------------------------------


def parse_specs(text: str) -> dict[str, str]:
    """ "颜色:黑色;容量:128GB" (full-width ：；too) into an ordered dict."""
    specs: dict[str, str] = {}
    for part in _SPEC_SEPARATORS.split(text):
        if not part.strip():
            continue
        pieces = _KEY_VALUE.split(part, maxsplit=1)
        if len(pieces) != 2 or not pieces[0].strip() or not pieces[1].strip():
            raise ValueError(f"规格「{part.strip()}」应写成 名称:取值")
        name, value = pieces[0].strip(), pieces[1].strip()
        if name in specs:
            raise ValueError(f"规格「{name}」重复")
        specs[name] = value
    return specs


def _sku_of(row: _Row) -> SkuInput:
    values = row.values
    try:
        price = yuan_to_fen(values["price"])
        market_price = yuan_to_fen(values["market_price"]) if values.get("market_price") else 0
    except MoneyFormatError as exc:
        raise ValueError("价格应为不小于 0、最多两位小数的金额，如 5999.00") from exc
    stock_text = values["stock"] or "0"
    if not stock_text.isdigit():
        raise ValueError(f"库存「{stock_text}」应为不小于 0 的整数")
    if not values["sku_code"]:
        raise ValueError("sku_code 不能为空")
    return SkuInput(
        sku_code=values["sku_code"],
        specs=parse_specs(values.get("specs", "")),
        price=price,
        market_price=market_price,
        stock=int(stock_text),
    )


def _product_fields(rows: list[_Row]) -> dict[str, str]:
    """The product-level columns, which every row of one product must agree on."""
    first = rows[0].values
    for column in ("title", "category", "subtitle", "status", "merchant"):
        differing = {row.values.get(column, "") for row in rows}
        if len(differing) > 1:
            raise ValueError(f"同一商品（{first['spu_code']}）的各行「{column}」不一致")
    status_text = first.get("status") or ProductStatus.ON_SALE.value
    status = _STATUS_NAMES.get(status_text.lower())
    if status is None:
        raise ValueError(f"状态「{status_text}」应为 on_sale（在售）、draft（草稿）或 off_shelf（已下架）")
    if not first["title"]:
        raise ValueError("title 不能为空")
    images = next((row.values.get("images", "") for row in rows if row.values.get("images")), "")
    for url in images.split():
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"图片地址「{url[:60]}」应以 http:// 或 https:// 开头")
    return {**first, "status": status, "images": images}


@dataclass
class _Context:
    """What every product of one import shares."""

    default_merchant: int
    merchants: dict[str, int]  # code -> id
    only_own_merchant: bool  # a merchant's own people: other merchants' codes are errors
    categories: dict[str, int] = field(default_factory=dict)  # path -> leaf id, as created

    def merchant_of(self, code: str) -> int:
        if not code:
            return self.default_merchant
        if self.only_own_merchant:
            if self.merchants.get(code) != self.default_merchant:
                raise ValueError(f"只能导入本商户的商品：merchant 列应留空或填写本商户编码，不能是「{code}」")
            return self.default_merchant
        if code not in self.merchants:
            raise ValueError(f"商户「{code}」不存在")
        return self.merchants[code]


def _problem(row: _Row, reason: str) -> RowProblem:
    values = row.values
    return RowProblem(
        row.number, reason, values.get("spu_code", ""), values.get("sku_code", ""), values.get("title", "")
    )


async def import_rows(
    rows: Iterable[_Row | dict[str, str]],
    *,
    merchant_id: int | None = None,
    only_own_merchant: bool = False,
    progress: Callable[[int], None] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import rows (already read, or plain dicts numbered from 2) on an initialised database.

    Products go to `merchant_id` (the platform's own shop when None) unless a row's merchant
    column names another; with `only_own_merchant` (a merchant's people importing) a row naming
    any other merchant is an error for that product. `report`, when given, is filled in as the
    import goes, so that someone else can watch its counts.
    """
    report = report if report is not None else ImportReport()
    products: dict[str, list[_Row]] = {}
    for index, raw in enumerate(rows, start=2):
        row = raw if isinstance(raw, _Row) else _Row(index, {k: (v or "").strip() for k, v in raw.items()})
        if not row.values.get("spu_code"):
            report.problems.append(_problem(row, "spu_code 不能为空"))
            continue
        products.setdefault(row.values["spu_code"], []).append(row)

    context = _Context(
        default_merchant=merchant_id or await ensure_merchant(),
        merchants=await merchant_ids_by_code(),
        only_own_merchant=only_own_merchant and merchant_id is not None,
    )
    for spu_code, product_rows in products.items():
        try:
            result = await _import_product(spu_code, product_rows, context)
        except _RowError as exc:
            report.problems.extend(
                _problem(row, exc.reason)
                if row.number == exc.row
                else _problem(row, f"同一商品的第 {exc.row} 行有误，该商品未导入")
                for row in product_rows
            )
        except (ValueError, CommerceError) as exc:
            reason = exc.message if isinstance(exc, CommerceError) else str(exc)
            report.problems.extend(_problem(row, reason) for row in product_rows)
        else:
            report.loaded_rows += len(product_rows)
            if result.created:
                report.created_products += 1
            else:
                report.updated_products += 1
        if progress:
            progress(1)
    report.problems.sort(key=lambda problem: problem.row)
    return report


async def _import_product(spu_code: str, rows: list[_Row], context: _Context):
    fields = _product_fields(rows)
    merchant_id = context.merchant_of(fields.get("merchant", ""))
    parsed = []
    for row in rows:
        try:
            parsed.append(_sku_of(row))
        except ValueError as exc:
            raise _RowError(row.number, str(exc)) from exc
    path = fields["category"]
    if path not in context.categories:
        context.categories[path] = await ensure_category_path(names=[part for part in path.split(">")])
    kept = await _kept_values(spu_code, [sku.sku_code for sku in parsed])
    skus = [replace(sku, weight_g=kept.weights.get(sku.sku_code, 0)) for sku in parsed]
    return await upsert_product(
        product=ProductInput(
            spu_code=spu_code,
            title=fields["title"],
            subtitle=fields.get("subtitle", ""),
            description=kept.description,
            video_url=kept.video_url,
            category_id=context.categories[path],
            merchant_id=merchant_id,
            images=fields["images"].split(),
            status=ProductStatus(fields["status"]),
            skus=skus,
        )
    )


@dataclass(frozen=True)
class _Kept:
    description: str = ""
    video_url: str = ""
    weights: dict[str, int] = field(default_factory=dict)  # sku_code -> weight_g


async def _kept_values(spu_code: str, sku_codes: list[str]) -> _Kept:
    """What an existing product has that a file has no column for: an import must not wipe it."""
    found = await Product.filter(spu_code=spu_code).values("id", "description", "video_url")
    if not found:
        return _Kept()
    weights = await Sku.filter(product_id=found[0]["id"], sku_code__in=sku_codes).values_list(
        "sku_code", "weight_g"
    )
    return _Kept(found[0]["description"], found[0]["video_url"], dict(weights))


async def import_catalog_file(settings: Settings, path: Path, *, show_progress: bool = False) -> ImportReport:
    """`shop import-products FILE`: read the whole file first, then import product by product."""
    from commerce.core import open_core

    rows = list(read_catalog_file(path))
    async with open_core(settings, build_search_index=False):
        if not show_progress:
            return await import_rows(rows)
        from tqdm import tqdm

        spu_count = len({row.values.get("spu_code") for row in rows})
        with tqdm(total=spu_count, unit="个商品", desc="导入商品") as bar:
            return await import_rows(rows, progress=bar.update)
