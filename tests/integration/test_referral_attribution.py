"""Which KOL an order is attributed to, on a real database, through the real checkout and
WeChat Pay: the last touch within the window; nobody once it expired; the protection period's
first KOL first while it lasts; two levels only when enabled; never a KOL on their own order;
stamped on the order's lines at placement and frozen at payment despite later touches."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from commerce import clock
from commerce.referrals import paid
from commerce.referrals.models import (
    ReferralAttribution,
    ReferralAttributionLine,
    ReferralCustomer,
    ReferralDaily,
    ReferralTouch,
)
from commerce.referrals.states import AttributionRule, AttributionStatus, TouchChannel
from shop.app import create_app
from tests.builders import Shopper
from tests.concurrency import needs_real_database
from tests.edges.paying import pay_order, settle_outbox
from tests.factories import seed_small_catalog
from tests.referral_builders import approved_kol, touched


async def _people(client, simulator, *names: str) -> list[Shopper]:
    await seed_small_catalog()
    return [await Shopper.start(client, simulator, name) for name in names]


async def _attribution(order: dict) -> ReferralAttribution | None:
    return await ReferralAttribution.get_or_none(order_id=order["id"])


async def test_the_last_touch_within_the_window_wins_and_is_frozen_at_payment(client, simulator, settings):
    # given two KOLs and a shopper who was brought by A long ago (protection over), then B
    amy, ben, carol = await _people(client, simulator, "amy", "ben", "carol")
    a = await approved_kol(user_id=amy.user_id, name="阿美")
    b = await approved_kol(user_id=ben.user_id, name="阿斌")
    now = clock.now()
    await touched(a, carol.user_id, at=now - timedelta(days=40))
    await touched(b, carol.user_id, at=now - timedelta(days=2), channel=TouchChannel.MP_CODE)
    # when carol orders two things and pays
    order = await carol.order(["P1-B128", "P2-W"], paid=False)
    placed = await _attribution(order)
    assert (placed.kol_id, placed.rule, placed.channel, placed.status) == (
        b.id,
        AttributionRule.LAST_TOUCH,
        TouchChannel.MP_CODE,
        AttributionStatus.PLACED,
    )
    # then each of its lines carries B
    lines = await ReferralAttributionLine.filter(attribution_id=placed.id).values_list("kol_id", flat=True)
    assert lines == [b.id, b.id]
    # and a touch of A before payment changes nothing; paying freezes it
    await touched(a, carol.user_id)
    await pay_order(client, simulator, carol.headers, order["id"])
    await settle_outbox()
    frozen = await _attribution(order)
    assert (frozen.kol_id, frozen.status) == (b.id, AttributionStatus.FROZEN)
    # the funnel counts the order and what it paid on B's mini-program-code channel
    days = await ReferralDaily.filter(kol_id=b.id, channel=TouchChannel.MP_CODE)
    assert [sum(getattr(d, n) for d in days) for n in ("touches", "orders", "paid_gmv")] == [
        1,
        1,
        order["payable"],
    ]
    # and a later order goes to A (last touch now), the first one still B's
    later = await carol.order(["P1-B128"])
    await settle_outbox()
    assert (await _attribution(later)).kol_id == a.id
    assert (await _attribution(order)).kol_id == b.id


async def test_a_touch_older_than_the_window_attributes_nothing(client, simulator, settings):
    amy, carol = await _people(client, simulator, "amy", "carol")
    a = await approved_kol(user_id=amy.user_id)
    await touched(a, carol.user_id, at=clock.now() - timedelta(days=40), protection_days=30)
    order = await carol.order(["P1-B128"])
    assert await _attribution(order) is None


async def test_the_protection_period_takes_precedence_while_it_lasts(client, simulator, settings):
    amy, ben, carol = await _people(client, simulator, "amy", "ben", "carol")
    a = await approved_kol(user_id=amy.user_id)
    b = await approved_kol(user_id=ben.user_id)
    now = clock.now()
    # given carol first brought by A 20 days ago (protected for 30), then touched by B today
    await touched(a, carol.user_id, at=now - timedelta(days=20))
    await touched(b, carol.user_id, at=now)
    customer = await ReferralCustomer.get(user_id=carol.user_id)
    assert (customer.first_kol_id, customer.last_kol_id) == (a.id, b.id)
    # then her order is A's, by protection
    order = await carol.order(["P1-B128"])
    found = await _attribution(order)
    assert (found.kol_id, found.rule) == (a.id, AttributionRule.PROTECTED)
    # and once the protection ended (11 days on), B's touch of then wins if within the window
    with clock.frozen(now + timedelta(days=11)):
        await touched(b, carol.user_id)
        carol = await Shopper.start(client, simulator, "carol")  # her session expired meanwhile
        later = await carol.order(["P2-W"], paid=False)
    found = await _attribution(later)
    assert (found.kol_id, found.rule) == (b.id, AttributionRule.LAST_TOUCH)


@pytest.fixture
async def two_levels(aiohttp_client, wired_settings, empty_database, empty_redis):
    """The shop with two levels on (the mini-program API only: these orders are not paid)."""
    app = create_app(wired_settings.model_copy(update={"referral_two_levels": True}), mount_simulator=False)
    return await aiohttp_client(app)


async def test_two_levels_only_when_enabled(client, two_levels, simulator):
    # given B recruited by A, and two shoppers brought by B
    amy, ben, carol, dora = await _people(client, simulator, "amy", "ben", "carol", "dora")
    parent = await approved_kol(user_id=amy.user_id, name="上级")
    child = await approved_kol(user_id=ben.user_id, name="下级", parent_kol_id=parent.id)
    await touched(child, carol.user_id)
    await touched(child, dora.user_id)
    # then with one level (the default) only B is stamped; with two levels A is too
    one_level = await carol.order(["P1-B128"], paid=False)
    assert (await _attribution(one_level)).parent_kol_id is None
    dora.client = two_levels
    found = await _attribution(await dora.order(["P1-B128"], paid=False))
    assert (found.kol_id, found.parent_kol_id) == (child.id, parent.id)


async def test_a_kol_never_earns_on_their_own_orders(client, two_levels, simulator):
    amy, ben = await _people(client, simulator, "amy", "ben")
    a = await approved_kol(user_id=amy.user_id)
    # given A opening their own link: the touch is kept, but binds nobody
    own = await touched(a, amy.user_id)
    assert own.own and not own.new_customer
    assert await ReferralTouch.filter(kol_id=a.id, user_id=amy.user_id).count() == 1
    assert not await ReferralCustomer.exists(user_id=amy.user_id)
    # when A buys
    order = await amy.order(["P1-B128"])
    # then the order is attributed to nobody
    assert await _attribution(order) is None
    # and with two levels on, A's order through their recruit B gives A nothing either
    b = await approved_kol(user_id=ben.user_id, parent_kol_id=a.id)
    await touched(b, amy.user_id)
    amy.client = two_levels
    found = await _attribution(await amy.order(["P2-W"], paid=False))
    assert (found.kol_id, found.parent_kol_id) == (b.id, None)


async def test_an_order_cancelled_unpaid_voids_its_attribution(client, simulator, settings):
    amy, carol = await _people(client, simulator, "amy", "carol")
    a = await approved_kol(user_id=amy.user_id)
    await touched(a, carol.user_id)
    order = await carol.order(["P1-B128"], paid=False)
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=carol.headers)
    assert cancelled.status == 200, await cancelled.text()
    await settle_outbox()
    assert (await _attribution(order)).status is AttributionStatus.VOID
    assert not await ReferralDaily.filter(kol_id=a.id, orders__gt=0).exists()


@needs_real_database
async def test_a_payment_told_many_times_at_once_counts_the_order_once(client, simulator, settings):
    # given carol's order attributed to A, paid
    amy, carol = await _people(client, simulator, "amy", "carol")
    a = await approved_kol(user_id=amy.user_id)
    await touched(a, carol.user_id)
    order = await carol.order(["P2-W"], paid=False)
    await pay_order(client, simulator, carol.headers, order["id"])
    # when eight deliveries of the payment freeze it at once (the subscriber's already did)
    await ReferralAttribution.filter(order_id=order["id"]).update(status=AttributionStatus.PLACED)
    frozen = await asyncio.gather(*(paid.freeze(order_id=order["id"]) for _ in range(8)))
    # then one froze it, and the funnel counts the order once more than the subscriber did
    assert frozen.count(True) == 1
    days = await ReferralDaily.filter(kol_id=a.id)
    assert sum(d.orders for d in days) == 2
