"""The shopper's cart: add, change, select, remove, and what it looks like right now."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from commerce.cart.errors import CartError
from commerce.cart.models import CartItem
from commerce.catalog.queries import SkuSnapshot, sku_snapshots
from commerce.transactions import unit_of_work
from commerce.users.services import Shopper

MAX_QUANTITY = 999
MAX_LINES = 100


class LineState(StrEnum):
    OK = "ok"  # can be bought as it is
    OFF_SHELF = "off_shelf"  # the product is no longer on sale
    OUT_OF_STOCK = "out_of_stock"  # none left
    EXCEEDS_STOCK = "exceeds_stock"  # fewer left than the quantity asked for


@dataclass(frozen=True)
class CartLine:
    id: int
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    price: int  # the current price, fen
    quantity: int
    selected: bool
    stock: int
    state: LineState

    @property
    def buyable(self) -> bool:
        return self.state is LineState.OK


@dataclass(frozen=True)
class CartView:
    lines: list[CartLine]
    selected_quantity: int  # items that would go to checkout
    selected_total: int  # their price, fen, before shipping and discounts


def check_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise CartError.INVALID_QUANTITY.error()


def _buyable_snapshot(snapshot: SkuSnapshot | None, wanted: int) -> SkuSnapshot:
    if snapshot is None:
        raise CartError.SKU_NOT_FOUND.error()
    if not snapshot.on_sale:
        raise CartError.NOT_ON_SALE.error()
    if snapshot.stock <= 0:
        raise CartError.OUT_OF_STOCK.error()
    if wanted > snapshot.stock:
        raise CartError.OUT_OF_STOCK.error(f"库存不足，最多可买 {snapshot.stock} 件")
    return snapshot


@unit_of_work
async def add_item(*, shopper: Shopper, sku_id: int, quantity: int) -> CartView:
    """Put a SKU in the cart; adding one already there raises its quantity."""
    check_quantity(quantity)
    snapshot = (await sku_snapshots([sku_id])).get(sku_id)
    existing = await CartItem.filter(user_id=shopper.user_id, sku_id=sku_id).values_list(
        "quantity", flat=True
    )
    _buyable_snapshot(snapshot, quantity + (existing[0] if existing else 0))
    if not existing and await CartItem.filter(user_id=shopper.user_id).count() >= MAX_LINES:
        raise CartError.CART_FULL.error()
    if not await _raise_quantity(shopper, sku_id, quantity):
        try:
            await CartItem.create(user_id=shopper.user_id, sku_id=sku_id, quantity=quantity)
        except IntegrityError:  # a concurrent add of the same SKU created the line: add to it
            if not await _raise_quantity(shopper, sku_id, quantity):
                raise CartError.INVALID_QUANTITY.error() from None
    return await view_cart(shopper=shopper)


async def _raise_quantity(shopper: Shopper, sku_id: int, quantity: int) -> bool:
    """Add to an existing line in one statement, never past the maximum; False if no line."""
    for _ in range(3):
        moved = await CartItem.filter(
            user_id=shopper.user_id, sku_id=sku_id, quantity__lte=MAX_QUANTITY - quantity
        ).update(quantity=F("quantity") + quantity, selected=True)
        if moved:
            return True
        current = await CartItem.filter(user_id=shopper.user_id, sku_id=sku_id).values_list(
            "quantity", flat=True
        )
        if not current:
            return False
        if current[0] > MAX_QUANTITY - quantity:
            raise CartError.INVALID_QUANTITY.error(f"同一商品最多加购 {MAX_QUANTITY} 件")
        # The line appeared between our update and our read (a concurrent add): update again.
    raise CartError.INVALID_QUANTITY.error()


@unit_of_work
async def update_item(
    *, shopper: Shopper, item_id: int, quantity: int | None = None, selected: bool | None = None
) -> CartView:
    """Change a line's quantity and/or whether it goes to checkout."""
    item = await CartItem.get_or_none(id=item_id, user_id=shopper.user_id)
    if item is None:
        raise CartError.ITEM_NOT_FOUND.error()
    changes: dict[str, object] = {}
    if quantity is not None:
        check_quantity(quantity)
        _buyable_snapshot((await sku_snapshots([item.sku_id])).get(item.sku_id), quantity)
        changes["quantity"] = quantity
    if selected is not None:
        changes["selected"] = selected
    if changes:
        await CartItem.filter(id=item_id, user_id=shopper.user_id).update(**changes)
    return await view_cart(shopper=shopper)


@unit_of_work
async def remove_item(*, shopper: Shopper, item_id: int) -> CartView:
    if not await CartItem.filter(id=item_id, user_id=shopper.user_id).delete():
        raise CartError.ITEM_NOT_FOUND.error()
    return await view_cart(shopper=shopper)


async def view_cart(*, shopper: Shopper) -> CartView:
    """Every line with today's price and whether it can still be bought."""
    items = await CartItem.filter(user_id=shopper.user_id).order_by("-created_at", "-id")
    snapshots = await sku_snapshots([item.sku_id for item in items])
    lines = [_line(item, snapshots[item.sku_id]) for item in items if item.sku_id in snapshots]
    chosen = [line for line in lines if line.selected and line.buyable]
    return CartView(
        lines=lines,
        selected_quantity=sum(line.quantity for line in chosen),
        selected_total=sum(line.price * line.quantity for line in chosen),
    )


async def selected_items(*, shopper: Shopper) -> list[tuple[int, int]]:
    """(sku_id, quantity) of the lines selected for checkout."""
    rows = await CartItem.filter(user_id=shopper.user_id, selected=True).order_by("id")
    return [(row.sku_id, row.quantity) for row in rows]


async def remove_ordered(*, shopper: Shopper, sku_ids: list[int], connection) -> None:
    """Take lines that were just ordered out of the cart, inside the order's transaction."""
    await CartItem.filter(user_id=shopper.user_id, sku_id__in=sku_ids).using_db(connection).delete()


def line_state(snapshot: SkuSnapshot, quantity: int) -> LineState:
    """Whether this quantity of the SKU can be bought now, and if not, why."""
    if not snapshot.on_sale:
        return LineState.OFF_SHELF
    if snapshot.stock <= 0:
        return LineState.OUT_OF_STOCK
    if quantity > snapshot.stock:
        return LineState.EXCEEDS_STOCK
    return LineState.OK


def _line(item: CartItem, snapshot: SkuSnapshot) -> CartLine:
    state = line_state(snapshot, item.quantity)
    return CartLine(
        id=item.id,
        sku_id=item.sku_id,
        product_id=snapshot.product_id,
        title=snapshot.title,
        specs=snapshot.specs,
        image=snapshot.image,
        price=snapshot.price,
        quantity=item.quantity,
        selected=item.selected,
        stock=snapshot.stock,
        state=state,
    )
