"""Checkout preview: what the shopper would pay for these items, delivered to that address.

Order creation (next) prices through the same function, so the preview and the order agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce.cart import services as cart
from commerce.cart.errors import CartError
from commerce.cart.services import LineState, check_quantity, line_state
from commerce.catalog.queries import sku_snapshots
from commerce.money import fen_to_yuan
from commerce.orders.errors import CheckoutError
from commerce.pricing.pipeline import PriceBreakdown, PricingLine, price
from commerce.users import addresses
from commerce.users.addresses import AddressView
from commerce.users.services import Shopper

MAX_LINES = 50


@dataclass(frozen=True)
class LineProblem:
    sku_id: int
    state: LineState
    message: str


@dataclass(frozen=True)
class OrderProblem:
    """Why the order as a whole cannot be submitted (its lines may each be fine)."""

    code: str
    message: str


@dataclass(frozen=True)
class Preview:
    breakdown: PriceBreakdown  # of the buyable lines only
    address: AddressView | None
    problems: list[LineProblem]  # lines that cannot be bought now, left out of the price
    order_problem: OrderProblem | None = None

    @property
    def can_submit(self) -> bool:
        return (
            bool(self.breakdown.lines)
            and not self.problems
            and self.order_problem is None
            and self.address is not None
        )


_PROBLEM_TEXT = {
    LineState.OFF_SHELF: "商品已下架",
    LineState.OUT_OF_STOCK: "商品已售罄",
    LineState.EXCEEDS_STOCK: "库存不足，最多可买 {stock} 件",
}


async def preview_checkout(
    *,
    shopper: Shopper,
    items: list[tuple[int, int]] | None = None,
    from_cart: bool = False,
    address_id: int | None = None,
    max_payable: int,
) -> Preview:
    """Price the given (sku_id, quantity) items, or the cart's selected lines; an order costing
    more than max_payable (fen) cannot be submitted."""
    wanted = await _wanted_items(shopper, items, from_cart)
    snapshots = await sku_snapshots(list(wanted))
    if from_cart:  # a cart line whose SKU left the catalog is hidden in the cart: not bought either
        wanted = {sku_id: quantity for sku_id, quantity in wanted.items() if sku_id in snapshots}
        if not wanted:
            raise CheckoutError.NOTHING_TO_CHECK_OUT.error()
    if missing := [sku_id for sku_id in wanted if sku_id not in snapshots]:
        raise CartError.SKU_NOT_FOUND.error(f"商品规格 {missing[0]} 不存在")
    lines: list[PricingLine] = []
    problems: list[LineProblem] = []
    for sku_id, quantity in wanted.items():
        snap = snapshots[sku_id]
        state = line_state(snap, quantity)
        if state is LineState.OK:
            lines.append(
                PricingLine(
                    sku_id,
                    snap.title,
                    snap.specs,
                    snap.image,
                    snap.price,
                    quantity,
                    snap.product_id,
                    snap.merchant_id,
                )
            )
        else:
            problems.append(LineProblem(sku_id, state, _PROBLEM_TEXT[state].format(stock=snap.stock)))
    address = await addresses.get_address(shopper=shopper, address_id=address_id) if address_id else None
    breakdown = price(lines)
    return Preview(
        breakdown=breakdown,
        address=address,
        problems=problems,
        order_problem=_payable_problem(breakdown.payable, max_payable),
    )


def _payable_problem(payable: int, max_payable: int) -> OrderProblem | None:
    if payable <= max_payable:
        return None
    error = CheckoutError.PAYABLE_TOO_LARGE
    return OrderProblem(
        error.code, f"单笔订单最多支付 ¥{fen_to_yuan(max_payable)}，请减少数量或分开下单"
    )


async def _wanted_items(
    shopper: Shopper, items: list[tuple[int, int]] | None, from_cart: bool
) -> dict[int, int]:
    if (items is None) == (not from_cart):
        raise CheckoutError.ITEMS_OR_CART.error()
    chosen = await cart.selected_items(shopper=shopper) if from_cart else items or []
    wanted: dict[int, int] = {}
    for sku_id, quantity in chosen:
        check_quantity(quantity)
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity  # the same SKU twice is one line
    if not wanted:
        raise CheckoutError.NOTHING_TO_CHECK_OUT.error()
    if len(wanted) > MAX_LINES:
        raise CheckoutError.TOO_MANY_LINES.error()
    for quantity in wanted.values():
        check_quantity(quantity)
    return wanted
