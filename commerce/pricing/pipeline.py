"""One pricing pipeline: lines in, a quote out (one order quote per merchant, and totals).

Async steps run over a context (who buys, when, their choices, the fulfilment chosen, where
to) and each merchant's draft. A step adds line-level adjustments (a flash price touches only
its lines), order-level ones (split over all lines by largest remainder), and the claims the
order must take when it is committed (units of stock today; later a coupon, points, a flash
unit, a group seat). A new promotion is a new step, not an edit of the order code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from commerce.money import split_largest_remainder

SHIPPING = "shipping"  # the adjustment kind of a shipping fee: never split over the lines


@dataclass(frozen=True)
class PricingLine:
    sku_id: int
    title: str
    specs: dict[str, str]
    image: str
    unit_price: int  # fen
    quantity: int
    product_id: int = 0
    merchant_id: int = 0


@dataclass(frozen=True)
class GroupChoice:
    """A 拼团 deal bought at its group price: join the group, or open one (group_id None)."""

    deal_id: int
    group_id: int | None = None


@dataclass(frozen=True)
class Choices:
    """What the shopper chose for this checkout. Later steps read their own field here (a
    coupon code, points to spend); `extra` holds a step's choice before it has a field."""

    coupon_code: str | None = None
    points: int = 0
    group: GroupChoice | None = None
    community_sale_id: int | None = None  # a community sale (社区团购) the lines are bought in
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PricingContext:
    user_id: int
    now: datetime
    choices: Choices = field(default_factory=Choices)
    fulfilment: str = "express"  # "express", or "pickup" (at a point: no shipping fee)
    province: str = ""  # of the delivery address, for shipping by province


@dataclass(frozen=True)
class Adjustment:
    kind: str  # stable code: "shipping", later "coupon", "points", "flash", …
    label: str  # zh-CN, shown to the shopper
    amount: int  # fen; negative for a discount
    source_id: str = ""  # the coupon, campaign, … it comes from
    sku_ids: tuple[int, ...] | None = None  # the lines it touches; None: the whole order


@dataclass(frozen=True)
class Claim:
    """Something the order takes when committed and gives back when released."""

    kind: str  # a key of the claims registry: "stock", later "coupon", "points", …
    ref: str  # what is taken: a SKU id, a coupon id, …
    quantity: int = 1
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class OrderDraft:
    """One merchant's part of a checkout while the steps run."""

    merchant_id: int
    lines: list[PricingLine]
    items_total: int = 0
    shipping_fee: int = 0
    adjustments: list[Adjustment] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


@dataclass(frozen=True)
class PricedLine:
    line: PricingLine
    line_total: int  # unit_price * quantity
    discount: int  # this line's share of the discounts (<= 0)
    payable: int  # line_total + discount, never below zero


@dataclass(frozen=True)
class PricedAdjustment:
    kind: str
    label: str
    amount: int  # as applied (a discount is capped at what its lines still cost)
    source_id: str
    split: dict[int, int]  # sku id -> this line's part; empty for shipping (the order's)


@dataclass(frozen=True)
class OrderQuote:
    merchant_id: int
    lines: list[PricedLine]
    items_total: int
    shipping_fee: int
    adjustments: list[PricedAdjustment]  # shipping and discounts, in the order steps made them
    claims: list[Claim]
    discount_total: int  # <= 0
    payable: int  # the lines' payable plus shipping

    @property
    def discounts(self) -> list[PricedAdjustment]:
        return [adj for adj in self.adjustments if adj.kind != SHIPPING]


@dataclass(frozen=True)
class CheckoutQuote:
    """What the preview shows and what is charged: one order per merchant, and totals."""

    orders: list[OrderQuote]

    @property
    def lines(self) -> list[PricedLine]:
        return [line for order in self.orders for line in order.lines]

    @property
    def discounts(self) -> list[PricedAdjustment]:
        return [adj for order in self.orders for adj in order.discounts]

    @property
    def items_total(self) -> int:
        return sum(order.items_total for order in self.orders)

    @property
    def shipping_fee(self) -> int:
        return sum(order.shipping_fee for order in self.orders)

    @property
    def discount_total(self) -> int:
        return sum(order.discount_total for order in self.orders)

    @property
    def payable(self) -> int:
        return sum(order.payable for order in self.orders)


class PricingStep(Protocol):
    async def apply(self, context: PricingContext, draft: OrderDraft) -> None: ...


class ItemsTotal:
    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        draft.items_total = sum(line.unit_price * line.quantity for line in draft.lines)


class StockClaims:
    """Each line's units come out of stock when the order is committed."""

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        draft.claims += [
            Claim("stock", str(line.sku_id), line.quantity, {"product_id": line.product_id})
            for line in draft.lines
        ]


ShippingFee = Callable[..., Awaitable[int]]  # (*, merchant_id, items_total, province) -> fen


async def flat_shipping_fee(*, merchant_id: int, items_total: int, province: str) -> int:
    """Today's rule for every merchant: ¥10, free from ¥99 (merchant templates replace it)."""
    return 0 if items_total >= 9900 else 1000


@dataclass(frozen=True)
class Shipping:
    """One fee per merchant's order, from that merchant's template."""

    fee_of: ShippingFee = flat_shipping_fee

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        if not draft.lines or context.fulfilment != "express":
            return
        # "Free from ¥99" reads what the goods cost after the discounts of the steps before
        # (a group price): ¥120 of goods bought for ¥89 is under ¥99.
        goods = draft.items_total + sum(a.amount for a in draft.adjustments if a.kind != SHIPPING)
        fee = await self.fee_of(
            merchant_id=draft.merchant_id, items_total=max(goods, 0), province=context.province
        )
        draft.shipping_fee = fee
        if fee:
            draft.adjustments.append(Adjustment(SHIPPING, "运费", fee))


DEFAULT_STEPS: tuple[PricingStep, ...] = (ItemsTotal(), StockClaims(), Shipping())


async def price(
    lines: Sequence[PricingLine],
    *,
    context: PricingContext,
    steps: Sequence[PricingStep] = DEFAULT_STEPS,
) -> CheckoutQuote:
    """Quote the lines: one order per merchant (in the order their first line came)."""
    groups: dict[int, list[PricingLine]] = {}
    for line in lines:
        groups.setdefault(line.merchant_id, []).append(line)
    orders = []
    for merchant_id, merchant_lines in groups.items():
        draft = OrderDraft(merchant_id=merchant_id, lines=merchant_lines)
        for step in steps:
            await step.apply(context, draft)
        orders.append(settle(draft))
    return CheckoutQuote(orders=orders)


def settle(draft: OrderDraft) -> OrderQuote:
    """Split each discount over the lines it touches, in the order the steps made them.

    A discount is capped at what its lines still cost and split in proportion to that, so no
    line goes below zero and the lines always add up to what is paid for the goods.
    """
    totals = [line.unit_price * line.quantity for line in draft.lines]
    left = dict(zip((line.sku_id for line in draft.lines), totals, strict=True))
    priced_adjustments = []
    for adj in draft.adjustments:
        if adj.kind == SHIPPING:
            priced_adjustments.append(PricedAdjustment(adj.kind, adj.label, adj.amount, adj.source_id, {}))
            continue
        if adj.amount > 0:
            raise ValueError(f"a {adj.kind} adjustment must not add to the price of goods")
        touched = [sku for sku in left if adj.sku_ids is None or sku in adj.sku_ids]
        room = sum(left[sku] for sku in touched)
        amount = min(-adj.amount, room)
        shares = split_largest_remainder(amount, [left[sku] for sku in touched]) if amount else []
        split = {sku: -share for sku, share in zip(touched, shares, strict=False) if share}
        for sku, part in split.items():
            left[sku] += part
        priced_adjustments.append(PricedAdjustment(adj.kind, adj.label, -amount, adj.source_id, split))
    priced = [
        PricedLine(line=line, line_total=total, discount=left[line.sku_id] - total, payable=left[line.sku_id])
        for line, total in zip(draft.lines, totals, strict=True)
    ]
    discount_total = sum(p.discount for p in priced)
    return OrderQuote(
        merchant_id=draft.merchant_id,
        lines=priced,
        items_total=draft.items_total,
        shipping_fee=draft.shipping_fee,
        adjustments=priced_adjustments,
        claims=list(draft.claims),
        discount_total=discount_total,
        payable=draft.items_total + discount_total + draft.shipping_fee,
    )
