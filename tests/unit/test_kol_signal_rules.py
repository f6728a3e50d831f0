"""The fraud signals' rules without a database: one address however it is typed, what staff see
of an address, a network address and a device, and the funnel's rates."""

from commerce.referrals import signals
from commerce.referrals.funnel import Figures


def test_an_address_is_one_however_it_is_typed():
    a = signals.normal_address("广东省", "深圳市", "南山区", "科技园 1 号 A 座")
    b = signals.normal_address(" 广东省", "深圳市 ", "南山区", "科技园1号a座\t")
    assert a == b == "广东省深圳市南山区科技园1号a座"
    assert signals.normal_address("广东省", "深圳市", "南山区", "科技园 2 号") != a


def test_staff_see_the_district_and_two_characters_of_the_detail():
    assert (
        signals.mask_address("广东省", "深圳市", "南山区", "科技园 1 号 1201 室")
        == "广东省深圳市南山区科技******"
    )
    assert signals.mask_address("北京市", "北京市", "朝阳区", "甲") == "北京市北京市朝阳区甲*"


def test_network_addresses_and_devices_are_masked():
    assert signals._mask_ip("10.1.2.3") == "10.1.2.*"
    assert signals._mask_ip("2408:8207:1234::1") == "2408:8207:*"
    assert signals._mask_token("iphone-abc") == "ipho***"
    assert signals._mask_token("ab") == "***"


def test_the_funnels_rates_are_basis_points_and_zero_without_touches():
    figures = Figures(touches=3, follows=1, customers=1, orders=2, paid_gmv=1001)
    assert figures.rates() == {
        "follow_rate_bps": 3333,
        "customer_rate_bps": 3333,
        "order_rate_bps": 6666,
        "orders_per_customer_bps": 20000,
    }
    assert figures.average_order == 500
    assert Figures().rates() == dict.fromkeys(figures.rates(), 0)
    assert (figures + figures).touches == 6
