"""Load a catalog from CSV or Excel: one row per SKU, rows with the same spu_code form a product.

Bad rows are reported with the row number a person sees in the spreadsheet (the header is
row 1) and the good rows still load; a product whose rows disagree is rejected as a whole.
What the file has no column for (description, video, SKU weight) is kept as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from commerce.catalog.catalog_file import Row, read_catalog_file
from commerce.catalog.models import Product, Sku
from commerce.catalog.services import ProductInput, SkuInput, ensure_category_path, upsert_product
from commerce.catalog.states import ProductStatus
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant, merchant_ids_by_code
from commerce.money import MoneyFormatError, yuan_to_fen

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


class _RowError(ValueError):
    """One row of a product is wrong: that row gets the reason, its siblings a pointer to it."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


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


def _sku_of(row: Row) -> SkuInput:
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


def _product_fields(rows: list[Row]) -> dict[str, str]:
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


def _problem(row: Row, reason: str) -> RowProblem:
    values = row.values
    return RowProblem(
        row.number, reason, values.get("spu_code", ""), values.get("sku_code", ""), values.get("title", "")
    )


async def import_rows(
    rows: Iterable[Row | dict[str, str]],
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
    products: dict[str, list[Row]] = {}
    for index, raw in enumerate(rows, start=2):
        row = raw if isinstance(raw, Row) else Row(index, {k: (v or "").strip() for k, v in raw.items()})
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


async def _import_product(spu_code: str, rows: list[Row], context: _Context):
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
    from commerce.core import no_subscribers, open_core

    rows = list(read_catalog_file(path))
    async with open_core(settings, no_subscribers, build_search_index=False):
        if not show_progress:
            return await import_rows(rows)
        from tqdm import tqdm

        spu_count = len({row.values.get("spu_code") for row in rows})
        with tqdm(total=spu_count, unit="个商品", desc="导入商品") as bar:
            return await import_rows(rows, progress=bar.update)
