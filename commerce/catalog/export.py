"""The catalog as a file in the importer's format: one row per SKU, so that an exported file,
edited in Excel and imported again, updates the same products.

Cells a spreadsheet would run as formulas get a leading ' (the importer takes it off again).
Products are read in batches by id, so a large catalog never sits in memory as models.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from commerce.audit import services as audit
from commerce.catalog import backoffice
from commerce.catalog.backoffice import StockFilter
from commerce.catalog.catalog_file import COLUMNS, guard_cell
from commerce.catalog.models import Category, Sku
from commerce.catalog.states import ProductStatus
from commerce.merchants.services import merchant_ids_by_code
from commerce.money import fen_to_yuan

BATCH = 500  # products per query
_NUMBER_COLUMNS = {"price", "market_price", "stock"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Two products in the importer's format: what the template downloads hold.
TEMPLATE_ROWS = [
    {
        "category": "数码 > 手机 > 5G手机",
        "spu_code": "SPU-001",
        "title": "示例手机",
        "subtitle": "大屏 长续航",
        "specs": "颜色:黑色;容量:128GB",
        "sku_code": "SPU-001-B128",
        "price": "1999.00",
        "market_price": "2299.00",
        "stock": "50",
        "images": "https://img.example.com/spu-001/1.jpg https://img.example.com/spu-001/2.jpg",
        "status": "on_sale",
        "merchant": "",
    },
    {
        "category": "数码 > 手机 > 5G手机",
        "spu_code": "SPU-001",
        "title": "示例手机",
        "subtitle": "大屏 长续航",
        "specs": "颜色:黑色;容量:256GB",
        "sku_code": "SPU-001-B256",
        "price": "2299.00",
        "market_price": "",
        "stock": "20",
        "images": "",
        "status": "on_sale",
        "merchant": "",
    },
    {
        "category": "食品生鲜 > 水果 > 柑橘",
        "spu_code": "SPU-002",
        "title": "示例脐橙 5斤装",
        "subtitle": "",
        "specs": "",
        "sku_code": "SPU-002-5J",
        "price": "39.90",
        "market_price": "",
        "stock": "100",
        "images": "",
        "status": "draft",
        "merchant": "",
    },
]


@dataclass(frozen=True)
class ExportFilter:
    """Which products to export; merchant_id is forced to their own for a merchant's people."""

    q: str = ""
    status: ProductStatus | None = None
    category_id: int | None = None
    merchant_id: int | None = None
    stock: str = ""  # "low" (at most LOW_STOCK left, sold out included) or "out"

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, own_merchant_id: int | None) -> ExportFilter:
        """The filters of the products list's URL (category or category_id, merchant or
        merchant_id, stock=low|sold_out|out); anything unknown or malformed is ignored."""
        status = params.get("status", "")
        stock = {"low": "low", "out": "out", "sold_out": "out"}.get(params.get("stock", ""), "")
        return cls(
            q=params.get("q", "").strip()[:64],
            status=ProductStatus(status) if status in set(ProductStatus) else None,
            category_id=_small_int(params.get("category_id") or params.get("category", "")),
            merchant_id=own_merchant_id
            or _small_int(params.get("merchant_id") or params.get("merchant", "")),
            stock=stock,
        )

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in vars(self).items() if value not in (None, "")]
        return "，".join(parts) or "全部商品"


def _small_int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


class CatalogExport:
    """One export: its rows as CSV chunks or an .xlsx file, and how many there were."""

    def __init__(self, chosen: ExportFilter) -> None:
        self.filter = chosen
        self.rows = 0

    async def csv_chunks(self) -> AsyncIterator[bytes]:
        """UTF-8 with a BOM (so Excel reads the Chinese), a chunk per batch of products."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        yield buffer.getvalue().encode("utf-8-sig")
        async for batch in self._batches():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([guard_cell(row[column]) for column in COLUMNS] for row in batch)
            yield buffer.getvalue().encode("utf-8")

    async def xlsx_bytes(self) -> bytes:
        rows = [row async for batch in self._batches() for row in batch]
        return await asyncio.to_thread(workbook_bytes, rows)

    async def record(self, *, actor: str, file_format: str) -> None:
        await audit.record(
            actor=actor,
            action="product.export",
            object_type="product_export",
            object_id=file_format,
            summary=f"导出商品（{file_format.upper()}，{self.rows} 行）：{self.filter.describe()}"[:200],
            after={"rows": self.rows, "format": file_format, "filter": self.filter.describe()},
        )

    async def _batches(self) -> AsyncIterator[list[dict[str, str]]]:
        query = await self._query()
        categories = await _category_paths()
        merchant_codes = {id_: code for code, id_ in (await merchant_ids_by_code()).items()}
        last_id = 0
        while True:
            products = await (
                query.filter(id__gt=last_id)
                .order_by("id")
                .limit(BATCH)
                .values(
                    "id",
                    "spu_code",
                    "title",
                    "subtitle",
                    "images",
                    "status",
                    "spec_axes",
                    "category_id",
                    "merchant_id",
                )
            )
            if not products:
                return
            last_id = products[-1]["id"]
            skus: dict[int, list[dict]] = {}
            for sku in (
                await Sku.filter(product_id__in=[p["id"] for p in products], retired_at=None)
                .order_by("id")
                .values("product_id", "sku_code", "specs", "price", "market_price", "stock")
            ):
                skus.setdefault(sku["product_id"], []).append(sku)
            batch = [
                _row(product, sku, categories, merchant_codes)
                for product in products
                for sku in skus.get(product["id"], [])
            ]
            self.rows += len(batch)
            yield batch

    async def _query(self):
        chosen = self.filter
        return await backoffice.filtered_products(
            merchant_id=chosen.merchant_id,
            text=chosen.q,
            status=chosen.status,
            category_id=chosen.category_id,
            stock={"low": StockFilter.LOW, "out": StockFilter.SOLD_OUT}.get(chosen.stock, StockFilter.ALL),
        )


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows([row[column] for column in COLUMNS] for row in TEMPLATE_ROWS)
    return buffer.getvalue().encode("utf-8-sig")


def workbook_bytes(rows: list[dict[str, str]]) -> bytes:
    """An .xlsx of rows in the importer's format: prices and stock as numbers, codes as text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("商品")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(
            [
                _number(row[column])
                if column in _NUMBER_COLUMNS and row[column]
                else ILLEGAL_CHARACTERS_RE.sub("", guard_cell(row[column]))
                for column in COLUMNS
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(text: str) -> int | Decimal:
    return int(text) if text.isdigit() else Decimal(text)


def _row(
    product: dict, sku: dict, categories: dict[int, str], merchant_codes: dict[int, str]
) -> dict[str, str]:
    specs = sku["specs"] or {}
    # The product's axes give the order (a JSON column may not keep the keys' order).
    names = [axis["name"] for axis in product["spec_axes"] or []] or list(specs)
    return {
        "category": categories.get(product["category_id"], ""),
        "spu_code": product["spu_code"],
        "title": product["title"],
        "subtitle": product["subtitle"],
        "specs": ";".join(f"{name}:{specs[name]}" for name in names if name in specs),
        "sku_code": sku["sku_code"],
        "price": fen_to_yuan(sku["price"]),
        "market_price": fen_to_yuan(sku["market_price"]) if sku["market_price"] else "",
        "stock": str(sku["stock"]),
        "images": " ".join(product["images"] or []),
        "status": ProductStatus(product["status"]).value,
        "merchant": merchant_codes.get(product["merchant_id"], ""),
    }


async def _category_paths() -> dict[int, str]:
    """Every category's path as the importer reads it: "数码 > 手机 > 5G手机"."""
    rows = await Category.all().values_list("id", "name", "path")
    names = {id_: name for id_, name, _ in rows}
    return {
        id_: " > ".join(names.get(int(part), "") for part in path.strip("/").split("/") if part)
        for id_, _, path in rows
    }
