"""The pricing pipeline: totals, the shipping template, discounts split so lines add up."""

from commerce.pricing.pipeline import Adjustment, Draft, FlatShipping, ItemsTotal, PricingLine, price


def _line(sku_id: int, unit_price: int, quantity: int) -> PricingLine:
    return PricingLine(sku_id, f"商品{sku_id}", {}, "", unit_price, quantity)


def test_items_and_shipping_below_the_free_threshold():
    breakdown = price([_line(1, 1990, 2), _line(2, 2500, 1)])
    assert breakdown.items_total == 6480
    assert breakdown.shipping_fee == 1000
    assert breakdown.payable == 7480
    assert [p.line_total for p in breakdown.lines] == [3980, 2500]


def test_shipping_is_free_from_the_threshold():
    assert price([_line(1, 9900, 1)]).shipping_fee == 0
    assert price([_line(1, 9899, 1)]).shipping_fee == 1000


class TenOff:
    """A promotion step as later issues will add them: ten yuan off."""

    def apply(self, draft: Draft) -> None:
        draft.discounts.append(Adjustment("coupon", "满减券", -1000))


def test_a_discount_is_split_over_lines_and_everything_adds_up():
    lines = [_line(1, 3333, 1), _line(2, 3333, 1), _line(3, 3334, 1)]
    breakdown = price(lines, steps=[ItemsTotal(), TenOff(), FlatShipping()])
    assert breakdown.discount_total == -1000
    assert sum(p.discount for p in breakdown.lines) == -1000
    assert sum(p.payable for p in breakdown.lines) == breakdown.items_total - 1000
    assert breakdown.payable == 10000 - 1000  # 100.00 of goods ships free, then 10.00 off


def test_a_discount_never_makes_goods_cost_less_than_nothing():
    breakdown = price([_line(1, 500, 1)], steps=[ItemsTotal(), TenOff(), FlatShipping()])
    assert breakdown.discount_total == -500
    assert breakdown.lines[0].payable == 0
    assert breakdown.payable == 1000  # only the shipping is left to pay
