"""Products as staff see and change them: the back-office list, the edit view, saving, shelving
and bulk price/stock edits.

A merchant's people reach only their merchant's products (another's is not found, whatever id
was sent); every change is recorded in the audit log inside its own transaction. Stock is
only ever moved by deltas against what the editor was shown: orders keep reserving meanwhile.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from tortoise.expressions import F, Q, Subquery

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.catalog import services
from commerce.catalog.errors import CatalogError
from commerce.catalog.events import ProductChanged
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.queries import category_tree
from commerce.catalog.states import ProductStatus
from commerce.merchants.services import list_merchants
from commerce.transactions import unit_of_work, write_transaction

LOW_STOCK = 10  # at or below this many left, a product shows under "low stock"
PAGE_SIZE = 20
MAX_BULK = 100  # products on one bulk page


class StockFilter(StrEnum):
    ALL = ""
    LOW = "low"  # total stock at most LOW_STOCK (sold out included)
    SOLD_OUT = "sold_out"


@dataclass(frozen=True)
class ProductRow:
    id: int
    spu_code: str
    title: str
    image: str
    min_price: int
    max_price: int
    total_stock: int
    sales: int
    status: ProductStatus
    merchant_id: int
    merchant_name: str


@dataclass(frozen=True)
class ProductList:
    rows: list[ProductRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class StaffSku:
    id: int
    sku_code: str
    specs: dict[str, str]
    price: int
    market_price: int
    stock: int
    weight_g: int


@dataclass(frozen=True)
class StaffProduct:
    id: int
    spu_code: str
    title: str
    subtitle: str
    description: str
    images: list[str]
    category_id: int
    merchant_id: int
    status: ProductStatus
    spec_axes: list[dict]
    skus: list[StaffSku] = field(default_factory=list)
    # No longer sold (left the catalog while orders held them): shown, never edited here.
    retired_skus: list[StaffSku] = field(default_factory=list)


@dataclass(frozen=True)
class SkuChange:
    """One row of the bulk page: the new price, and the stock typed against the stock seen."""

    sku_id: int
    price: int  # fen
    stock: int
    stock_seen: int


def new_spu_code() -> str:
    """A product code for a product saved without one."""
    return f"SPU{clock.to_shanghai(clock.now()):%y%m%d}{secrets.token_hex(3).upper()}"


async def category_choices() -> list[tuple[int, str]]:
    """Every category as (id, "数码 / 手机 / 5G手机"), in tree order: the form's choices."""
    choices: list[tuple[int, str]] = []

    def walk(nodes, prefix: str) -> None:
        for node in nodes:
            label = f"{prefix}{node.name}"
            choices.append((node.id, label))
            walk(node.children, f"{label} / ")

    walk(await category_tree(), "")
    return choices


async def filtered_products(
    *,
    merchant_id: int | None,
    text: str = "",
    status: ProductStatus | None = None,
    category_id: int | None = None,
    stock: StockFilter = StockFilter.ALL,
):
    """The products the list's filters choose (the list and the export share them): text in
    the title, product code or a SKU code; a category with its descendants; low or no stock."""
    query = Product.all()
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    if text := text.strip()[:64]:
        by_sku = Subquery(Sku.filter(sku_code__icontains=text).values("product_id"))
        query = query.filter(Q(title__icontains=text) | Q(spu_code__icontains=text) | Q(id__in=by_sku))
    if status is not None:
        query = query.filter(status=status)
    if category_id is not None:
        path = await Category.filter(id=category_id).values_list("path", flat=True)
        query = query.filter(category__path__startswith=path[0]) if path else query.filter(id=0)
    if stock is StockFilter.LOW:
        query = query.filter(total_stock__lte=LOW_STOCK)
    elif stock is StockFilter.SOLD_OUT:
        query = query.filter(total_stock__lte=0)
    return query


async def list_products(
    *,
    merchant_id: int | None,
    text: str = "",
    status: ProductStatus | None = None,
    category_id: int | None = None,
    stock: StockFilter = StockFilter.ALL,
    owner_id: int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ProductList:
    """One page of products, newest first. merchant_id scopes to a merchant's people's own;
    owner_id is the platform's merchant filter."""
    query = await filtered_products(
        merchant_id=merchant_id if merchant_id is not None else owner_id,
        text=text,
        status=status,
        category_id=category_id,
        stock=stock,
    )
    total = await query.count()
    page = max(page, 1)
    products = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    names = {merchant.id: merchant.name for merchant in await list_merchants()}
    rows = [
        ProductRow(
            id=p.id,
            spu_code=p.spu_code,
            title=p.title,
            image=(p.images or [""])[0],
            min_price=p.min_price,
            max_price=p.max_price,
            total_stock=p.total_stock,
            sales=p.sales,
            status=ProductStatus(p.status),
            merchant_id=p.merchant_id,
            merchant_name=names.get(p.merchant_id, ""),
        )
        for p in products
    ]
    return ProductList(rows=rows, total=total, page=page, page_size=page_size)


async def product_for_staff(*, product_id: int, merchant_id: int | None) -> StaffProduct:
    """A product with its SKUs; not found when it is another merchant's."""
    return (await products_for_staff(product_ids=[product_id], merchant_id=merchant_id))[0]


async def products_for_staff(*, product_ids: Sequence[int], merchant_id: int | None) -> list[StaffProduct]:
    """These products with their SKUs, in the order asked; not found, all of them, when any is
    missing or another merchant's."""
    ids = list(dict.fromkeys(product_ids))[:MAX_BULK]
    if not ids:
        raise CatalogError.PRODUCT_NOT_FOUND.error()
    found = {p.id: p for p in await _scoped(ids, merchant_id)}
    skus: dict[int, list[StaffSku]] = {}
    retired: dict[int, list[StaffSku]] = {}
    for s in await Sku.filter(product_id__in=ids).order_by("id"):
        (skus if s.retired_at is None else retired).setdefault(s.product_id, []).append(
            StaffSku(s.id, s.sku_code, dict(s.specs), s.price, s.market_price, s.stock, s.weight_g)
        )
    return [
        StaffProduct(
            id=p.id,
            spu_code=p.spu_code,
            title=p.title,
            subtitle=p.subtitle,
            description=p.description,
            images=list(p.images),
            category_id=p.category_id,
            merchant_id=p.merchant_id,
            status=ProductStatus(p.status),
            spec_axes=list(p.spec_axes),
            skus=skus.get(p.id, []),
            retired_skus=retired.get(p.id, []),
        )
        for p in (found[i] for i in ids)
    ]


@unit_of_work
async def save_product(
    *, product: services.ProductInput, product_id: int | None, merchant_id: int | None, actor: str
) -> int:
    """Create a product (product_id None) or save an edit of one, through upsert_product;
    audited. A merchant's people always save for their own merchant; an edit keeps the
    product's code, merchant and status (shelving is change_status)."""
    if merchant_id is not None:
        product = replace(product, merchant_id=merchant_id)
    async with write_transaction() as conn:
        before = None
        if product_id is not None:
            (existing,) = await _scoped([product_id], merchant_id, conn)
            product = replace(
                product, spu_code=existing.spu_code, merchant_id=existing.merchant_id, status=None
            )
            before = await _snapshot(product_id, conn)
        result = await services.upsert_product(product=product, creating=product_id is None)
        await audit.record(
            actor=actor,
            action="product.create" if product_id is None else "product.update",
            object_type="product",
            object_id=result.product_id,
            summary=f"{product.title.strip()}（{product.spu_code}）",
            before=before,
            after=await _snapshot(result.product_id, conn),
            connection=conn,
        )
    return result.product_id


@unit_of_work
async def change_status(
    *, product_ids: Sequence[int], new_status: ProductStatus, merchant_id: int | None, actor: str
) -> int:
    """Put products on sale or take them off, all or none; how many changed. A product with no
    stock may go on sale: shoppers see it sold out, and it sells once restocked."""
    changed = 0
    async with write_transaction() as conn:
        for row in await _scoped(list(dict.fromkeys(product_ids)), merchant_id, conn):
            if not await services.change_product_status(product_id=row.id, new_status=new_status):
                continue  # there already (perhaps moved by someone else a moment ago)
            changed += 1
            await audit.record(
                actor=actor,
                action="product.status",
                object_type="product",
                object_id=row.id,
                summary=f"{row.title}（{row.spu_code}）",
                before={"status": ProductStatus(row.status).value},
                after={"status": new_status.value},
                connection=conn,
            )
    return changed


@unit_of_work
async def bulk_update_skus(*, changes: Sequence[SkuChange], merchant_id: int | None, actor: str) -> int:
    """Set prices and move stock (by typed minus seen) of many SKUs in one transaction; how
    many SKUs changed. Any SKU missing or another merchant's refuses the whole change."""
    wanted = {change.sku_id: change for change in changes}
    for change in wanted.values():
        if not 0 <= change.price <= services.MAX_SKU_PRICE:
            raise CatalogError.INVALID_PRICE.error()
        if not 0 <= change.stock <= services.MAX_SKU_STOCK or change.stock_seen < 0:
            raise CatalogError.INVALID_STOCK.error()
    if not wanted:
        return 0
    async with write_transaction() as conn:
        skus = await (
            Sku.filter(id__in=list(wanted), retired_at=None)
            .using_db(conn)
            .order_by("id")
            .values("id", "product_id", "sku_code", "price", "product__merchant_id", "product__title")
        )
        if len(skus) != len(wanted) or (
            merchant_id is not None and any(s["product__merchant_id"] != merchant_id for s in skus)
        ):
            raise CatalogError.PRODUCT_NOT_FOUND.error()
        edits: dict[int, dict] = {}
        for sku in skus:  # in id order, as checkout takes its locks
            change = wanted[sku["id"]]
            delta = change.stock - change.stock_seen
            if change.price == sku["price"] and not delta:
                continue
            if change.price != sku["price"]:
                await (
                    Sku.filter(id=sku["id"]).using_db(conn).update(price=change.price, updated_at=clock.now())
                )
            if delta:
                await services.adjust_sku_stock(sku_id=sku["id"], delta=delta, connection=conn)
            edit = edits.setdefault(sku["product_id"], {"title": sku["product__title"], "moved": 0})
            edit["moved"] += delta
            edit.setdefault("before", {})[sku["sku_code"]] = {
                "price": sku["price"],
                "stock": change.stock_seen,
            }
            edit.setdefault("after", {})[sku["sku_code"]] = {"price": change.price, "stock": change.stock}
        for product_id, edit in sorted(edits.items()):
            on_sale = Sku.filter(product_id=product_id, retired_at=None)
            prices = await on_sale.using_db(conn).values_list("price", flat=True)
            await (
                Product.filter(id=product_id)
                .using_db(conn)
                .update(
                    min_price=min(prices),
                    max_price=max(prices),
                    total_stock=F("total_stock") + edit["moved"],
                    updated_at=clock.now(),
                )
            )
            await outbox.emit(ProductChanged(product_id=product_id), connection=conn)
            await audit.record(
                actor=actor,
                action="product.bulk_edit",
                object_type="product",
                object_id=product_id,
                summary=f"{edit['title']}：批量修改 {len(edit['after'])} 个规格",
                before={"skus": edit["before"]},
                after={"skus": edit["after"]},
                connection=conn,
            )
    return sum(len(edit["after"]) for edit in edits.values())


async def _scoped(product_ids: list[int], merchant_id: int | None, conn=None) -> list[Product]:
    """The products with these ids, if every one exists and (for a merchant) is its own."""
    query = Product.filter(id__in=product_ids)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    rows = await query.using_db(conn).order_by("id")
    if not product_ids or len(rows) != len(set(product_ids)):
        raise CatalogError.PRODUCT_NOT_FOUND.error()
    return rows


async def _snapshot(product_id: int, conn) -> dict:
    """What the audit log keeps of a product before and after a change."""
    p = await Product.get(id=product_id).using_db(conn)
    skus = await (
        Sku.filter(product_id=product_id, retired_at=None)
        .using_db(conn)
        .order_by("id")
        .values("sku_code", "specs", "price", "market_price", "stock", "weight_g")
    )
    return {
        "spu_code": p.spu_code,
        "title": p.title,
        "subtitle": p.subtitle,
        "description": p.description,
        "category_id": p.category_id,
        "merchant_id": p.merchant_id,
        "images": list(p.images),
        "status": ProductStatus(p.status).value,
        "skus": {s.pop("sku_code"): s for s in skus},
    }
