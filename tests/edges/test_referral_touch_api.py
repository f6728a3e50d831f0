"""POST /api/v1/referrals/touch through the real app: anonymous and signed-in touches answered
202 and written by the flush, a bad or suspended code refused with 404, the client's address
as the app resolves it behind a trusted proxy, a share keeping its sharer, and a checkout right
after a touch attributed to the KOL before any flush."""

from __future__ import annotations

import pytest

from commerce.referrals import touches
from commerce.referrals.models import Kol, ReferralAttribution, ReferralDaily, ReferralTouch
from commerce.referrals.states import AttributionRule, KolStatus, TouchChannel
from shop.app import CORE
from tests.builders import Shopper
from tests.edges.shoppers import auth_headers
from tests.factories import seed_small_catalog
from tests.referral_builders import approved_kol

TOUCH = "/api/v1/referrals/touch"


@pytest.fixture
def settings(settings):
    """The shop behind a reverse proxy on this machine."""
    return settings.model_copy(update={"trusted_proxies": "127.0.0.1/32"})


async def _flush(client) -> int:
    core = client.app[CORE]
    return await touches.flush_all(core.redis, protection_days=core.settings.referral_protection_days)


async def test_an_anonymous_visitor_and_a_shopper_open_a_kols_link(client, simulator):
    # given a KOL and bob, a signed-in shopper
    kol = await approved_kol(user_id=999_001, name="小红")
    bob = await Shopper.start(client, simulator, "bob")
    # when a visitor opens her link from behind our proxy, and bob opens it on a product page
    anonymous = await client.post(
        TOUCH,
        json={"code": kol.code.lower(), "channel": "link", "visitor": "c-42", "device": "iPhone 15"},
        headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"},
    )
    signed_in = await client.post(
        TOUCH,
        json={"code": kol.code, "channel": "mp_code", "path": "pages/product/detail?id=3"},
        headers=bob.headers,
    )
    # then both are accepted at once, and nothing is written before the flush
    assert (anonymous.status, await anonymous.json()) == (202, {"accepted": True})
    assert signed_in.status == 202
    assert await ReferralTouch.all().count() == 0
    # when the flush runs, the touches are there: the address the proxy saw, bob's as his
    assert await _flush(client) == 2
    rows = (
        await ReferralTouch.all()
        .order_by("id")
        .values_list("user_id", "channel", "visitor", "ip", "device", "path")
    )
    assert rows == [
        (None, TouchChannel.LINK, "c-42", "203.0.113.9", "iPhone 15", ""),
        (bob.user_id, TouchChannel.MP_CODE, "", "127.0.0.1", "", "pages/product/detail?id=3"),
    ]
    # and the funnel counts them, bob as her new customer
    days = await ReferralDaily.filter(kol_id=kol.id).order_by("channel")
    assert [(d.channel, d.touches, d.customers) for d in days] == [
        (TouchChannel.LINK, 1, 0),
        (TouchChannel.MP_CODE, 1, 1),
    ]


async def test_a_link_passed_on_by_a_shopper_keeps_its_sharer(client, simulator):
    kol = await approved_kol(user_id=999_001, name="小红")
    carol = await auth_headers(client, simulator, "carol")
    shared = await client.post(
        TOUCH,
        json={
            "code": kol.code,
            "channel": "share",
            "path": "pages/index/index",
            "sharer": 77,
            "visitor": "c-9",
        },
        headers=carol,
    )
    assert shared.status == 202
    await _flush(client)
    touch = await ReferralTouch.get(kol_id=kol.id)
    assert (touch.channel, touch.path, touch.visitor) == (
        TouchChannel.SHARE,
        "pages/index/index#sharer=77",
        "c-9",
    )


async def test_a_code_no_approved_kol_owns_is_a_404_and_not_recorded(client, simulator):
    suspended = await approved_kol(user_id=999_002, name="阿强")
    await Kol.filter(id=suspended.id).update(status=KolStatus.SUSPENDED)
    for code in ("NOSUCH99", suspended.code):
        refused = await client.post(TOUCH, json={"code": code, "channel": "link"})
        assert refused.status == 404
        assert (await refused.json())["error"]["code"] == "referral_code_invalid"
    odd = await client.post(TOUCH, json={"code": suspended.code, "channel": "qr_follow"})
    assert (odd.status, (await odd.json())["error"]["code"]) == (400, "invalid_request")
    forged = await client.post(
        TOUCH, json={"code": "NOSUCH99", "channel": "link"}, headers={"Authorization": "Bearer nope"}
    )
    assert forged.status == 401
    assert await _flush(client) == 0 and await ReferralTouch.all().count() == 0


async def test_a_checkout_right_after_a_touch_is_attributed_before_any_flush(client, simulator):
    # given a KOL and dave, who opens her link and at once orders
    await seed_small_catalog()
    kol = await approved_kol(user_id=999_001, name="小红")
    dave = await Shopper.start(client, simulator, "dave")
    touched = await client.post(TOUCH, json={"code": kol.code, "channel": "link"}, headers=dave.headers)
    assert touched.status == 202
    order = await dave.order(["P2-W"], paid=False)
    # then the order is hers (she first brought him: protected), though nothing was flushed
    assert await ReferralTouch.all().count() == 0
    attribution = await ReferralAttribution.get(order_id=order["id"])
    assert (attribution.kol_id, attribution.rule, attribution.channel) == (
        kol.id,
        AttributionRule.PROTECTED,
        TouchChannel.LINK,
    )
    # and the flush writes the touch that won it
    assert await _flush(client) == 1
    assert await ReferralTouch.filter(kol_id=kol.id, user_id=dave.user_id).exists()
