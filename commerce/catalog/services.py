"""Catalog use cases: the only way anything changes categories, products and SKUs.

Every change moves Product.updated_at: the search index in every process watches it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from commerce import clock, outbox
from commerce.catalog.errors import CatalogError
from commerce.catalog.events import ProductChanged
from commerce.catalog.models import Category, Product, Sku
from commerce.catalog.states import ALLOWED_TRANSITIONS, ProductStatus
from commerce.db import execute, fetch_rows
from commerce.transactions import unit_of_work, write_transaction

log = logging.getLogger(__name__)

MAX_CATEGORY_DEPTH = 3
# A product's total stock (≤ 200 SKUs × 10,000,000) stays below 2^31 (an INT column); a price
# (¥20,000,000) is far below what its BIGINT holds, so any order line's quantity (≤ 999) times
# it does too. Orders themselves stop at settings.order_max_payable_fen.
MAX_SKUS_PER_PRODUCT = 200
MAX_SKU_STOCK = 10_000_000
MAX_SKU_PRICE = 2_000_000_000  # fen
PRODUCT_CHANGED = ProductChanged.topic


@dataclass(frozen=True)
class SkuInput:
    sku_code: str
    specs: dict[str, str]
    price: int  # fen
    market_price: int = 0  # fen
    stock: int = 0
    weight_g: int = 0
    # The stock the editor was shown. Given: an existing SKU's stock moves by (stock - stock_seen)
    # in one guarded statement, so orders placed meanwhile are kept. None: stock is set as given.
    stock_seen: int | None = None


@dataclass(frozen=True)
class ProductInput:
    spu_code: str
    title: str
    category_id: int
    merchant_id: int
    skus: Sequence[SkuInput]
    subtitle: str = ""
    description: str = ""
    images: Sequence[str] = field(default_factory=tuple)
    video_url: str = ""
    # None: an existing product keeps its status (shelving is change_product_status), a new one
    # is a draft.
    status: ProductStatus | None = ProductStatus.DRAFT


@dataclass(frozen=True)
class UpsertResult:
    product_id: int
    created: bool


async def ensure_category_path(*, names: Sequence[str]) -> int:
    """The id of the leaf of a category path like ["数码", "手机", "5G手机"], created as needed."""
    clean = [name.strip() for name in names]
    if not clean or len(clean) > MAX_CATEGORY_DEPTH or not all(clean) or any(len(n) > 50 for n in clean):
        raise CatalogError.INVALID_CATEGORY.error()
    parent: Category | None = None
    for level, name in enumerate(clean, start=1):
        parent = await _child_category(parent, name, level)
    assert parent is not None
    return parent.id


@unit_of_work
async def _child_category(parent: Category | None, name: str, level: int) -> Category:
    parent_id = parent.id if parent else None
    existing = await Category.get_or_none(parent_key=parent_id or 0, name=name)
    if existing:
        return existing
    try:
        async with write_transaction() as conn:
            category = await Category.create(
                name=name, parent_id=parent_id, parent_key=parent_id or 0, level=level, path="", using_db=conn
            )
            category.path = f"{parent.path if parent else '/'}{category.id}/"
            await category.save(update_fields=["path"], using_db=conn)
            return category
    except IntegrityError:  # another importer created it first: the unique (parent, name) decided
        return await Category.get(parent_key=parent_id or 0, name=name)


def spec_axes_of(skus: Sequence[SkuInput]) -> list[dict]:
    """Validate the SKUs' spec combinations and derive the axes in first-seen order."""
    if not skus:
        raise CatalogError.NO_SKUS.error()
    if len(skus) > MAX_SKUS_PER_PRODUCT:
        raise CatalogError.INVALID_SPECS.error(f"一个商品最多 {MAX_SKUS_PER_PRODUCT} 个规格组合")
    names = list(skus[0].specs)
    if len(skus) > 1 and not names:
        raise CatalogError.INVALID_SPECS.error("多个 SKU 的商品，每个 SKU 都要填写规格")
    seen: set[tuple[str, ...]] = set()
    values: dict[str, list[str]] = {name: [] for name in names}
    for sku in skus:
        if list(sku.specs) != names:
            raise CatalogError.INVALID_SPECS.error(
                f"SKU {sku.sku_code} 的规格项应为：{'、'.join(names) or '无'}"
            )
        combo = tuple(sku.specs[name] for name in names)
        if combo in seen:
            raise CatalogError.DUPLICATE_SKU_SPECS.error(f"规格组合重复：{'/'.join(combo)}")
        seen.add(combo)
        for name, value in sku.specs.items():
            if not value.strip():
                raise CatalogError.INVALID_SPECS.error(f"SKU {sku.sku_code} 的「{name}」没有取值")
            if value not in values[name]:
                values[name].append(value)
        _check_sku(sku)
    return [{"name": name, "values": values[name]} for name in names]


def _check_sku(sku: SkuInput) -> None:
    if not sku.sku_code.strip() or len(sku.sku_code) > 64:
        raise CatalogError.INVALID_PRODUCT.error("SKU 编码不能为空，最长 64 个字符")
    for amount in (sku.price, sku.market_price):
        if not isinstance(amount, int) or not 0 <= amount <= MAX_SKU_PRICE:
            raise CatalogError.INVALID_PRICE.error()
    if not isinstance(sku.stock, int) or not 0 <= sku.stock <= MAX_SKU_STOCK:
        raise CatalogError.INVALID_STOCK.error()


def _check_product(product: ProductInput) -> None:
    if not product.spu_code.strip() or len(product.spu_code) > 64:
        raise CatalogError.INVALID_PRODUCT.error("商品编码不能为空，最长 64 个字符")
    if not product.title.strip() or len(product.title) > 120:
        raise CatalogError.INVALID_PRODUCT.error("商品标题不能为空，最长 120 个字符")
    if len(product.subtitle) > 200:
        raise CatalogError.INVALID_PRODUCT.error("副标题最长 200 个字符")


@unit_of_work
async def upsert_product(*, product: ProductInput, creating: bool | None = None) -> UpsertResult:
    """Create the product with this spu_code, or bring it and its SKUs to the given state.

    SKUs are keyed by sku_code; SKUs no longer given are removed (retired when an order ever
    held them: see _sync_skus). `creating` True refuses an
    spu_code already in use, False a product that does not exist; None (imports) does either.
    """
    _check_product(product)
    spec_axes = spec_axes_of(product.skus)
    codes = [sku.sku_code for sku in product.skus]
    if len(set(codes)) != len(codes):
        raise CatalogError.INVALID_PRODUCT.error("同一商品内 SKU 编码重复")
    if not await Category.exists(id=product.category_id):
        raise CatalogError.CATEGORY_NOT_FOUND.error()
    try:
        return await _upsert(product, spec_axes, creating)
    except IntegrityError:
        # A racing writer created the same spu or sku code between our check and insert.
        taken = await Sku.filter(sku_code__in=codes).exclude(product__spu_code=product.spu_code).exists()
        if taken:
            raise CatalogError.SKU_CODE_TAKEN.error() from None
        return await _upsert(product, spec_axes, creating)


async def _upsert(product: ProductInput, spec_axes: list[dict], creating: bool | None) -> UpsertResult:
    codes = [sku.sku_code for sku in product.skus]
    prices = [sku.price for sku in product.skus]
    fields = {
        "title": product.title.strip(),
        "subtitle": product.subtitle.strip(),
        "description": product.description,
        "images": list(product.images),
        "video_url": product.video_url,
        "category_id": product.category_id,
        "merchant_id": product.merchant_id,
        "spec_axes": spec_axes,
        "min_price": min(prices),
        "max_price": max(prices),
    }
    if product.status is not None:
        fields["status"] = product.status
    async with write_transaction() as conn:
        clash = await (
            Sku.filter(sku_code__in=codes)
            .exclude(product__spu_code=product.spu_code)
            .using_db(conn)
            .values_list("sku_code", flat=True)
        )
        if clash:
            raise CatalogError.SKU_CODE_TAKEN.error(f"SKU 编码 {clash[0]} 已被其他商品使用")
        existing = await Product.get_or_none(spu_code=product.spu_code).using_db(conn)
        if existing is not None and existing.merchant_id != product.merchant_id:
            # A product never changes hands: one merchant's code cannot overwrite another's.
            raise CatalogError.SPU_CODE_TAKEN.error()
        if creating is True and existing is not None:
            raise CatalogError.SPU_CODE_EXISTS.error(f"商品编码 {product.spu_code} 已存在，请换一个")
        if creating is False and existing is None:
            raise CatalogError.PRODUCT_NOT_FOUND.error()
        if existing is None:
            fields.setdefault("status", ProductStatus.DRAFT)
            total = sum(sku.stock for sku in product.skus)
            row = await Product.create(spu_code=product.spu_code, total_stock=total, using_db=conn, **fields)
            await _sync_skus(row.id, product.skus, conn)
        else:
            row = existing
            # SKUs first, then the product: the order checkout takes its locks in.
            moved = await _sync_skus(row.id, product.skus, conn)
            await (
                Product.filter(id=row.id)
                .using_db(conn)
                .update(updated_at=clock.now(), total_stock=F("total_stock") + moved, **fields)
            )
        await outbox.emit(ProductChanged(product_id=row.id), connection=conn)
    return UpsertResult(product_id=row.id, created=existing is None)


async def _sync_skus(product_id: int, skus: Sequence[SkuInput], conn) -> int:
    """Bring the product's SKUs to the given state; how much its stock moved in all.

    The SKUs are locked first (MySQL; SQLite runs one transaction at a time), so the stock of
    SKUs set or removed is known exactly while orders keep reserving. A SKU no longer given is
    deleted if no order ever held it, else retired (orders refer to it by id for good); a
    retired SKU given again is back on sale with the stock given.
    """
    locked = await Sku.filter(product_id=product_id).select_for_update().using_db(conn).order_by("id")
    current = {sku.sku_code: sku for sku in locked}
    wanted = {sku.sku_code for sku in skus}
    gone = [row for code, row in current.items() if code not in wanted and row.retired_at is None]
    moved = -sum(row.stock for row in gone)
    at = clock.now()
    if unordered := [row.id for row in gone if not row.ever_ordered]:
        await Sku.filter(id__in=unordered).using_db(conn).delete()
    if ordered := [row.id for row in gone if row.ever_ordered]:
        await Sku.filter(id__in=ordered).using_db(conn).update(retired_at=at, updated_at=at)
    new_rows = []
    for sku in skus:
        values = {
            "specs": dict(sku.specs),
            "price": sku.price,
            "market_price": sku.market_price,
            "weight_g": sku.weight_g,
        }
        row = current.get(sku.sku_code)
        if row is not None and row.retired_at is not None:  # back in the catalog
            await (
                Sku.filter(id=row.id)
                .using_db(conn)
                .update(retired_at=None, stock=sku.stock, updated_at=at, **values)
            )
            moved += sku.stock
            continue
        if row is None:
            new_rows.append(
                Sku(
                    product_id=product_id,
                    sku_code=sku.sku_code,
                    stock=sku.stock,
                    created_at=at,
                    updated_at=at,
                    **values,
                )
            )
            moved += sku.stock
            continue
        if any(getattr(row, name) != value for name, value in values.items()):
            await Sku.filter(id=row.id).using_db(conn).update(updated_at=at, **values)
        delta = sku.stock - (row.stock if sku.stock_seen is None else sku.stock_seen)
        if delta:
            await adjust_sku_stock(sku_id=row.id, delta=delta, connection=conn)
            moved += delta
    if new_rows:
        await Sku.bulk_create(new_rows, using_db=conn)
    return moved


async def adjust_sku_stock(*, sku_id: int, delta: int, connection) -> None:
    """Move a SKU's stock by delta in one statement that never takes it below 0, inside the
    caller's transaction (which keeps the product's total in step). An edit made against a
    stock that orders have since taken too much of is refused, saying what is left."""
    guard = {"stock__gte": -delta} if delta < 0 else {}
    moved = await (
        Sku.filter(id=sku_id, **guard)
        .using_db(connection)
        .update(stock=F("stock") + delta, updated_at=clock.now())
    )
    if not moved:
        row = await Sku.filter(id=sku_id).using_db(connection).values_list("sku_code", "stock")
        code, now = row[0] if row else ("", 0)
        raise CatalogError.STOCK_CHANGED.error(
            f"SKU {code} 的库存已被订单改为 {now}，按您的修改将小于 0，请核对后重新保存",
            sku_id=sku_id,
            sku_code=code,
            stock_now=now,
        )


@unit_of_work
async def change_product_status(*, product_id: int, new_status: ProductStatus) -> bool:
    """Move a product to a new status, if its current status allows it; False when it was
    there already (asking twice, or someone else first, is not an error)."""
    allowed_from = [old for old, targets in ALLOWED_TRANSITIONS.items() if new_status in targets]
    async with write_transaction() as conn:
        moved = await (
            Product.filter(id=product_id, status__in=allowed_from)
            .using_db(conn)
            .update(status=new_status, updated_at=clock.now())
        )
        if not moved:
            current = await Product.get_or_none(id=product_id).using_db(conn).values_list("status", flat=True)
            if current is None:
                raise CatalogError.PRODUCT_NOT_FOUND.error()
            if current == new_status:
                return False
            raise CatalogError.INVALID_STATUS_TRANSITION.error()
        await outbox.emit(ProductChanged(product_id=product_id), connection=conn)
    return True


async def reserve_stock(
    *, items: Sequence[tuple[int, int]], connection, products: dict[int, int] | None = None
) -> bool:
    """Take (sku_id, quantity) out of stock inside the caller's transaction, all or nothing.

    One conditional statement per SKU (never read-check-write), in SKU order so that two
    orders never wait for each other's rows. False when any SKU has too little left: the
    caller rolls its transaction back, returning what was already taken. `products` (sku id
    -> product id), when the caller knows it, saves a query.
    """
    at = clock.now()
    for sku_id, quantity in sorted(items):
        taken = await execute(  # hand-written: the hottest write there is
            "UPDATE `sku` SET `stock` = `stock` - ?, `ever_ordered` = 1, `updated_at` = ?"
            " WHERE `id` = ? AND `stock` >= ? AND `retired_at` IS NULL",
            [quantity, at, sku_id, quantity],
            connection=connection,
        )
        if not taken:
            return False
    await _move_product_stock(items, -1, at, connection, products)
    return True


async def release_stock(*, items: Sequence[tuple[int, int]], connection) -> None:
    """Give reserved stock back (a cancelled or refunded order), inside the caller's
    transaction, by SKU id whatever became of the SKU: a retired SKU gets its units back but
    its product's total (what is on sale) does not; a SKU gone altogether is skipped."""
    at = clock.now()
    # A locking read, in id order as reserving takes them: a retirement committed meanwhile is
    # seen, not this transaction's older snapshot.
    ids = sorted({sku_id for sku_id, _ in items})
    if not ids:
        return
    lock = " FOR UPDATE" if connection.capabilities.dialect == "mysql" else ""  # SQLite: one writer
    rows = await fetch_rows(
        f"SELECT `id`, `product_id`, `retired_at` FROM `sku` WHERE `id` IN ({', '.join('?' for _ in ids)})"
        f" ORDER BY `id`{lock}",
        ids,
        connection=connection,
    )
    found = {row["id"] for row in rows}
    on_sale = {row["id"]: row["product_id"] for row in rows if row["retired_at"] is None}
    for sku_id, quantity in sorted(items):
        if sku_id not in found:
            log.warning("stock of SKU %s not released: the SKU no longer exists", sku_id)
            continue
        await Sku.filter(id=sku_id).using_db(connection).update(stock=F("stock") + quantity, updated_at=at)
    await _move_product_stock([item for item in items if item[0] in on_sale], +1, at, connection, on_sale)


async def _move_product_stock(
    items: Sequence[tuple[int, int]], sign: int, at, connection, product_of: dict[int, int] | None = None
) -> None:
    """Keep the products' stock totals in step, and move their stamps so search indexes refresh."""
    if product_of is None or any(sku_id not in product_of for sku_id, _ in items):
        product_of = dict(
            await Sku.filter(id__in=[sku_id for sku_id, _ in items])
            .using_db(connection)
            .values_list("id", "product_id")
        )
    per_product: dict[int, int] = {}
    for sku_id, quantity in items:
        per_product[product_of[sku_id]] = per_product.get(product_of[sku_id], 0) + quantity
    for product_id, quantity in sorted(per_product.items()):
        await execute(
            "UPDATE `product` SET `total_stock` = `total_stock` + ?, `updated_at` = ? WHERE `id` = ?",
            [sign * quantity, at, product_id],
            connection=connection,
        )


async def touch_merchant_products(*, merchant_id: int, connection) -> int:
    """Move the stamps of a merchant's products (its status changed: suspended products leave
    every process's search index, resumed ones come back), in the caller's transaction."""
    return await Product.filter(merchant_id=merchant_id).using_db(connection).update(updated_at=clock.now())
