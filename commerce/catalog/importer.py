"""Load a catalog from CSV or Excel: one row per SKU, rows with the same spu_code form a product.

Bad rows are reported with the row number a person sees in the spreadsheet (the header is
row 1) and the good rows still load; a product whose rows disagree is rejected as a whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from commerce.catalog.services import ProductInput, SkuInput, ensure_category_path, upsert_product
from commerce.catalog.states import ProductStatus
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant, merchant_ids_by_code
from commerce.money import MoneyFormatError, yuan_to_fen

REQUIRED_COLUMNS = ("category", "spu_code", "title", "sku_code", "price", "stock")
OPTIONAL_COLUMNS = ("subtitle", "specs", "market_price", "images", "status", "merchant")
_SPEC_SEPARATORS = re.compile(r"[;；]")
_KEY_VALUE = re.compile(r"[:：]")
_IMPORTABLE_STATUSES = {ProductStatus.ON_SALE.value, ProductStatus.DRAFT.value}


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


def read_catalog_file(path: Path) -> Iterator[_Row]:
    """The data rows of a .csv (UTF-8 or GB18030) or .xlsx file, numbered as a person sees them."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path.read_bytes())
    raise CatalogFileError("只支持 .csv 或 .xlsx 文件")


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


def _read_xlsx(path: Path) -> Iterator[_Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise CatalogFileError(f"无法读取 Excel 文件：{exc}") from exc
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
        yield _Row(number, {k: v.strip() for k, v in values.items()})


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
    status = first.get("status") or ProductStatus.ON_SALE.value
    if status not in _IMPORTABLE_STATUSES:
        raise ValueError(f"状态「{status}」应为 on_sale 或 draft")
    if not first["title"]:
        raise ValueError("title 不能为空")
    images = next((row.values.get("images", "") for row in rows if row.values.get("images")), "")
    for url in images.split():
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"图片地址「{url[:60]}」应以 http:// 或 https:// 开头")
    return {**first, "status": status, "images": images}


async def import_rows(
    rows: Iterable[_Row | dict[str, str]],
    *,
    merchant_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import rows (already read, or plain dicts numbered from 2) on an initialised database."""
    report = ImportReport()
    products: dict[str, list[_Row]] = {}
    for index, raw in enumerate(rows, start=2):
        row = raw if isinstance(raw, _Row) else _Row(index, {k: (v or "").strip() for k, v in raw.items()})
        if not row.values.get("spu_code"):
            report.problems.append(RowProblem(row.number, "spu_code 不能为空"))
            continue
        products.setdefault(row.values["spu_code"], []).append(row)

    default_merchant = merchant_id or await ensure_merchant()
    merchants = await merchant_ids_by_code()
    categories: dict[str, int] = {}
    for spu_code, product_rows in products.items():
        try:
            result = await _import_product(spu_code, product_rows, default_merchant, merchants, categories)
        except _RowError as exc:
            report.problems.extend(
                RowProblem(row.number, exc.reason)
                if row.number == exc.row
                else RowProblem(row.number, f"同一商品的第 {exc.row} 行有误，该商品未导入")
                for row in product_rows
            )
        except (ValueError, CommerceError) as exc:
            reason = exc.message if isinstance(exc, CommerceError) else str(exc)
            report.problems.extend(RowProblem(row.number, reason) for row in product_rows)
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


async def _import_product(
    spu_code: str,
    rows: list[_Row],
    default_merchant: int,
    merchants: dict[str, int],
    categories: dict[str, int],
):
    fields = _product_fields(rows)
    skus = []
    for row in rows:
        try:
            skus.append(_sku_of(row))
        except ValueError as exc:
            raise _RowError(row.number, str(exc)) from exc
    merchant_code = fields.get("merchant", "")
    if merchant_code and merchant_code not in merchants:
        raise ValueError(f"商户「{merchant_code}」不存在")
    path = fields["category"]
    if path not in categories:
        categories[path] = await ensure_category_path(names=[part for part in path.split(">")])
    return await upsert_product(
        product=ProductInput(
            spu_code=spu_code,
            title=fields["title"],
            subtitle=fields.get("subtitle", ""),
            category_id=categories[path],
            merchant_id=merchants[merchant_code] if merchant_code else default_merchant,
            images=fields["images"].split(),
            status=ProductStatus(fields["status"]),
            skus=skus,
        )
    )


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
