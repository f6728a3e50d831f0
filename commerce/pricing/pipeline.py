"""One pricing pipeline: lines in, a breakdown out (items, shipping, discounts, payable).

Each step reads and adds to a draft. Promotions (coupons, points, member, group and flash
prices) arrive later as further steps; a discount is an adjustment with a negative amount,
split over the lines by largest remainder so the lines always add up to what is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from commerce.money import split_largest_remainder


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
class Adjustment:
    kind: str  # stable code: "shipping", later "coupon", "points", …
    label: str  # zh-CN, shown to the shopper
    amount: int  # fen; negative for a discount


@dataclass
class Draft:
    lines: list[PricingLine]
    items_total: int = 0
    shipping_fee: int = 0
    discounts: list[Adjustment] = field(default_factory=list)


@dataclass(frozen=True)
class PricedLine:
    line: PricingLine
    line_total: int  # unit_price * quantity
    discount: int  # this line's share of the discounts (<= 0)
    payable: int  # line_total + discount


@dataclass(frozen=True)
class PriceBreakdown:
    lines: list[PricedLine]
    items_total: int
    shipping_fee: int
    discounts: list[Adjustment]
    discount_total: int  # <= 0
    payable: int


class PricingStep(Protocol):
    def apply(self, draft: Draft) -> None: ...


class ItemsTotal:
    def apply(self, draft: Draft) -> None:
        draft.items_total = sum(line.unit_price * line.quantity for line in draft.lines)


@dataclass(frozen=True)
class FlatShipping:
    """A simple shipping template: a flat fee, free from a threshold (merchant templates later)."""

    fee: int = 1000  # 10.00 yuan
    free_from: int = 9900  # 99.00 yuan

    def apply(self, draft: Draft) -> None:
        draft.shipping_fee = 0 if draft.items_total >= self.free_from or not draft.lines else self.fee


DEFAULT_STEPS: tuple[PricingStep, ...] = (ItemsTotal(), FlatShipping())


def price(lines: Sequence[PricingLine], *, steps: Sequence[PricingStep] = DEFAULT_STEPS) -> PriceBreakdown:
    draft = Draft(lines=list(lines))
    for step in steps:
        step.apply(draft)
    discount_total = max(sum(adj.amount for adj in draft.discounts), -draft.items_total)
    totals = [line.unit_price * line.quantity for line in draft.lines]
    shares = (
        split_largest_remainder(-discount_total, totals)
        if discount_total and any(totals)
        else [0] * len(totals)
    )
    priced = [
        PricedLine(line=line, line_total=total, discount=-share, payable=total - share)
        for line, total, share in zip(draft.lines, totals, shares, strict=True)
    ]
    return PriceBreakdown(
        lines=priced,
        items_total=draft.items_total,
        shipping_fee=draft.shipping_fee,
        discounts=list(draft.discounts),
        discount_total=discount_total,
        payable=draft.items_total + discount_total + draft.shipping_fee,
    )
