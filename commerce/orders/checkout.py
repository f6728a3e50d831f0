"""Checkout preview: what the shopper would pay for these items, delivered to that address.

Order creation prices through the same function, so the quote shown is the quote charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce import clock
from commerce.cart import services as cart
from commerce.cart.errors import CartError
from commerce.cart.services import LineState, check_quantity, line_state
from commerce.catalog.queries import sku_snapshots
from commerce.community.pricing import community_steps
from commerce.config import Settings
from commerce.fulfilment.choice import Contact, FulfilmentChoice, ServedAt, checked_contact, chosen_point
from commerce.fulfilment.queries import PickupPointView
from commerce.groupbuy.pricing import GroupPrice
from commerce.money import fen_to_yuan
from commerce.orders.errors import CheckoutError
from commerce.pricing.pipeline import (
    CheckoutQuote,
    Choices,
    ItemsTotal,
    PricingContext,
    PricingLine,
    PricingStep,
    Shipping,
    StockClaims,
    price,
)
from commerce.referrals.attribution import ReferralStep, Rules
from commerce.shipping.fees import shipping_fee
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
    quote: CheckoutQuote  # of the buyable lines only: one order per merchant
    address: AddressView | None
    problems: list[LineProblem]  # lines that cannot be bought now, left out of the price
    order_problem: OrderProblem | None = None
    pickup_point: PickupPointView | None = None  # chosen: collected there, no shipping fee

    @property
    def breakdown(self) -> CheckoutQuote:  # the totals, as callers read them before quotes
        return self.quote

    @property
    def can_submit(self) -> bool:
        return (
            bool(self.quote.orders)
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
    settings: Settings,
    choices: Choices | None = None,
    fulfilment: FulfilmentChoice | None = None,
    contact: Contact | None = None,
) -> Preview:
    """Price the given (sku_id, quantity) items, or the cart's selected lines; a checkout
    costing more than the settings' order_max_payable_fen (it is one payment) cannot be
    submitted. Delivered to the address, or collected at the chosen pickup point by the
    contact (or the address's receiver)."""
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
    point = await chosen_point(fulfilment)
    address = await addresses.get_address(shopper=shopper, address_id=address_id) if address_id else None
    if point is not None and (address is not None or contact is not None):
        address = _contact_only(address, contact)
    context = PricingContext(
        user_id=shopper.user_id,
        now=clock.now(),
        choices=choices or Choices(),
        fulfilment="pickup" if point else "express",
        province=address.province if address else "",
    )
    steps = pricing_steps(settings) + ((ServedAt(point),) if point else ()) + community_steps(choices, point)
    steps += (ReferralStep(Rules.of(settings)),)  # last: it prices nothing, it attributes
    quote = await price(lines, context=context, steps=steps)
    return Preview(
        quote=quote,
        address=address,
        problems=problems,
        order_problem=_payable_problem(quote.payable, settings.order_max_payable_fen),
        pickup_point=point,
    )


def _contact_only(address: AddressView | None, contact: Contact | None) -> AddressView:
    """A pickup order keeps who collects it, not where to deliver: the contact given, or the
    chosen address's receiver."""
    if contact is None:
        assert address is not None
        contact = Contact(name=address.receiver_name, phone=address.phone)
    contact = checked_contact(contact)
    return AddressView(0, contact.name, contact.phone, "", "", "", "", False)


def pricing_steps(settings: Settings) -> tuple[PricingStep, ...]:
    """Today's steps; each merchant's shipping fee comes from its template (or the platform's
    default), and a province it does not deliver to refuses the checkout."""

    async def fee_of(*, merchant_id: int, items_total: int, province: str) -> int:
        quote = await shipping_fee(
            merchant_id=merchant_id, items_total=items_total, province=province or None, settings=settings
        )
        return quote.payable_fee()

    # A group deal's price is a line discount (its seat a claim), like any later promotion.
    group = GroupPrice(hold_minutes=settings.group_seat_hold_minutes)
    return (ItemsTotal(), StockClaims(), group, Shipping(fee_of=fee_of))


def _payable_problem(payable: int, max_payable: int) -> OrderProblem | None:
    if payable <= max_payable:
        return None
    error = CheckoutError.PAYABLE_TOO_LARGE
    return OrderProblem(error.code, f"单笔订单最多支付 ¥{fen_to_yuan(max_payable)}，请减少数量或分开下单")


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
