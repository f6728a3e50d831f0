"""The pricing pipeline: one unit test per step, and the invariants of a quote (the lines add up
to what is paid; no line below zero; one order per merchant)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce.errors import CommerceError
from commerce.fulfilment.choice import ServedAt
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.queries import PickupPointView
from commerce.pricing.pipeline import (
    Adjustment,
    Claim,
    ItemsTotal,
    OrderDraft,
    PricingContext,
    PricingLine,
    Shipping,
    StockClaims,
    flat_shipping_fee,
    price,
)

CONTEXT = PricingContext(user_id=1, now=datetime(2026, 12, 7, tzinfo=UTC), province="广东省")


def _line(sku_id: int, unit_price: int, quantity: int, merchant_id: int = 1) -> PricingLine:
    return PricingLine(sku_id, f"商品{sku_id}", {}, "", unit_price, quantity, 100 + sku_id, merchant_id)


def _draft(*lines: PricingLine) -> OrderDraft:
    return OrderDraft(merchant_id=lines[0].merchant_id if lines else 1, lines=list(lines))


# --- one test per step


async def test_items_total_adds_up_every_line():
    draft = _draft(_line(1, 1990, 2), _line(2, 2500, 1))
    await ItemsTotal().apply(CONTEXT, draft)
    assert draft.items_total == 6480


async def test_stock_claims_one_claim_per_line_with_its_quantity():
    draft = _draft(_line(1, 1990, 2), _line(2, 2500, 1))
    await StockClaims().apply(CONTEXT, draft)
    assert draft.claims == [
        Claim("stock", "1", 2, {"product_id": 101}),
        Claim("stock", "2", 1, {"product_id": 102}),
    ]


async def test_shipping_asks_the_merchants_fee_with_its_items_total_and_the_province():
    asked = []

    async def fee_of(*, merchant_id: int, items_total: int, province: str) -> int:
        asked.append((merchant_id, items_total, province))
        return 800

    draft = _draft(_line(1, 1000, 1, merchant_id=7))
    draft.items_total = 1000
    await Shipping(fee_of=fee_of).apply(CONTEXT, draft)
    assert asked == [(7, 1000, "广东省")]
    assert draft.shipping_fee == 800
    assert [(a.kind, a.amount) for a in draft.adjustments] == [("shipping", 800)]


async def test_shipping_is_nothing_for_a_pickup():
    draft = _draft(_line(1, 1000, 1))
    draft.items_total = 1000
    pickup = PricingContext(user_id=1, now=CONTEXT.now, fulfilment="pickup")
    await Shipping().apply(pickup, draft)
    assert draft.shipping_fee == 0 and draft.adjustments == []


async def test_a_pickup_point_serves_its_merchant_and_the_platform_serves_all():
    pickup = PricingContext(user_id=1, now=CONTEXT.now, fulfilment="pickup")
    merchants_point = PickupPointView(id=1, name="甲店", address="甲路", merchant_id=1, active=True)
    platform_point = PickupPointView(id=2, name="驿站", address="中心路", merchant_id=None, active=True)
    for point in (merchants_point, platform_point):
        await ServedAt(point).apply(pickup, _draft(_line(1, 1000, 1, merchant_id=1)))
    await ServedAt(platform_point).apply(pickup, _draft(_line(2, 1000, 1, merchant_id=2)))
    with pytest.raises(CommerceError) as caught:
        await ServedAt(merchants_point).apply(pickup, _draft(_line(2, 1000, 1, merchant_id=2)))
    assert caught.value.error_code is FulfilmentError.POINT_NOT_SERVING


async def test_the_flat_fee_is_ten_yuan_and_free_from_99():
    assert await flat_shipping_fee(merchant_id=1, items_total=9899, province="") == 1000
    assert await flat_shipping_fee(merchant_id=1, items_total=9900, province="") == 0


# --- the pipeline


async def test_items_and_shipping_below_the_free_threshold():
    quote = await price([_line(1, 1990, 2), _line(2, 2500, 1)], context=CONTEXT)
    assert quote.items_total == 6480
    assert quote.shipping_fee == 1000
    assert quote.payable == 7480
    assert [p.line_total for p in quote.lines] == [3980, 2500]


async def test_one_order_per_merchant_each_with_its_own_shipping():
    quote = await price(
        [
            _line(1, 5000, 1, merchant_id=1),
            _line(2, 9900, 1, merchant_id=2),
            _line(3, 1000, 1, merchant_id=1),
        ],
        context=CONTEXT,
    )
    assert [o.merchant_id for o in quote.orders] == [1, 2]
    assert [[p.line.sku_id for p in o.lines] for o in quote.orders] == [[1, 3], [2]]
    assert [o.shipping_fee for o in quote.orders] == [1000, 0]  # 60.00 ships for 10, 99.00 free
    assert quote.payable == 5000 + 1000 + 1000 + 9900


class TenOff:
    """An order-level promotion as later issues add them: ten yuan off."""

    async def apply(self, context, draft):
        draft.adjustments.append(Adjustment("coupon", "满减券", -1000, source_id="c1"))


class FlashOnSku1:
    """A line-level promotion: three yuan off SKU 1 only."""

    async def apply(self, context, draft):
        draft.adjustments.append(Adjustment("flash", "秒杀价", -300, sku_ids=(1,)))


STEPS = (ItemsTotal(), StockClaims(), Shipping())


async def test_an_order_discount_is_split_over_lines_and_everything_adds_up():
    lines = [_line(1, 3333, 1), _line(2, 3333, 1), _line(3, 3334, 1)]
    quote = await price(lines, context=CONTEXT, steps=[ItemsTotal(), TenOff(), Shipping()])
    order = quote.orders[0]
    assert order.discount_total == -1000
    assert sum(p.discount for p in order.lines) == -1000
    coupon = order.discounts[0]
    assert (coupon.kind, coupon.source_id, coupon.amount) == ("coupon", "c1", -1000)
    assert sum(coupon.split.values()) == -1000 and set(coupon.split) == {1, 2, 3}
    # 100.00 of goods, 10.00 off: 90.00 is under the 99.00 free-shipping line (as JD reads it)
    assert order.payable == 10000 - 1000 + 1000


async def test_a_line_discount_touches_only_its_lines():
    quote = await price(
        [_line(1, 1000, 2), _line(2, 1000, 1)], context=CONTEXT, steps=[ItemsTotal(), FlashOnSku1(), TenOff()]
    )
    order = quote.orders[0]
    flash, coupon = order.discounts
    assert flash.split == {1: -300}
    # the coupon is split over what the lines still cost: 1700 and 1000
    assert coupon.split == {1: -630, 2: -370}
    assert [p.payable for p in order.lines] == [2000 - 300 - 630, 1000 - 370]


async def test_a_discount_never_makes_goods_cost_less_than_nothing():
    quote = await price([_line(1, 500, 1)], context=CONTEXT, steps=[ItemsTotal(), TenOff(), Shipping()])
    order = quote.orders[0]
    assert order.discount_total == -500
    assert order.discounts[0].amount == -500  # stored as applied, not as offered
    assert order.lines[0].payable == 0
    assert order.payable == 1000  # only the shipping is left to pay


async def test_a_step_may_not_raise_the_price_of_goods():
    class Surcharge:
        async def apply(self, context, draft):
            draft.adjustments.append(Adjustment("fee", "附加费", 100))

    with pytest.raises(ValueError):
        await price([_line(1, 500, 1)], context=CONTEXT, steps=[ItemsTotal(), Surcharge()])


@given(
    st.lists(st.tuples(st.integers(1, 3), st.integers(0, 50000), st.integers(1, 5)), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 30000), st.booleans()), max_size=4),
)
async def test_invariants_lines_add_up_to_the_payable_and_none_is_below_zero(specs, discounts):
    lines = [_line(i + 1, unit, qty, merchant) for i, (merchant, unit, qty) in enumerate(specs)]

    class Discounts:
        async def apply(self, context, draft):
            for amount, on_first_line in discounts:
                skus = (draft.lines[0].sku_id,) if on_first_line else None
                draft.adjustments.append(Adjustment("coupon", "券", -amount, sku_ids=skus))

    quote = await price(lines, context=CONTEXT, steps=[ItemsTotal(), Discounts(), StockClaims(), Shipping()])
    for order in quote.orders:
        assert all(p.payable >= 0 for p in order.lines)
        assert sum(p.payable for p in order.lines) + order.shipping_fee == order.payable
        assert sum(adj.amount for adj in order.discounts) == order.discount_total
        for priced in order.lines:
            parts = sum(adj.split.get(priced.line.sku_id, 0) for adj in order.discounts)
            assert priced.discount == parts
        assert {c.ref for c in order.claims} == {str(p.line.sku_id) for p in order.lines}
    assert sum(o.payable for o in quote.orders) == quote.payable
