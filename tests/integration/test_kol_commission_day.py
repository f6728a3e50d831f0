"""KOLs' commissions over a day of mixed orders, fen by fen, through the real checkout, WeChat
Pay simulator, a group deal's discount and after-sales, with two levels on: three KOLs in two
tiers, a recruit earning for their recruiter, a partial and a full refund, the window passing
for some orders and not others; every figure worked out by hand below. Then, on MariaDB, the
same payment or refund told many times at once posts once."""

from __future__ import annotations

import asyncio

import pytest

from commerce import outbox
from commerce.aftersales.services import LineAsk
from commerce.groupbuy.models import GroupSeat
from commerce.ledger import checks
from commerce.ledger.models import JournalEntry
from commerce.outbox import Subscriptions
from commerce.payments.events import RefundSucceeded
from commerce.referrals import commission_earning as earning
from commerce.referrals import commission_queries, commissions, holds, paid
from commerce.referrals.commission_models import KolCommission, KolCommissionRefund
from commerce.referrals.models import ReferralDaily
from commerce.referrals.states import KolCommissionStatus, TouchChannel
from shop.app import CORE, create_app
from shop.subscriptions import subscribers
from tests.builders import Shopper
from tests.concurrency import needs_real_database
from tests.edges.group_deals import group_order, tea_deal
from tests.edges.paying import pay_order, settle_outbox
from tests.kol_commission_builders import (
    WINDOW,
    after_window,
    balances,
    books_balanced,
    completed,
    kol_catalog,
    lines_of,
    referred_order,
    refunded,
    tier,
)
from tests.referral_builders import approved_kol, touched

PENDING, EARNED, REVERSED = (
    KolCommissionStatus.PENDING,
    KolCommissionStatus.EARNED,
    KolCommissionStatus.REVERSED,
)


@pytest.fixture
async def shop(aiohttp_client, wired_settings, app_port, empty_database, empty_redis):
    """The shop with two levels on, on the port WeChat Pay calls back."""
    app = create_app(wired_settings.model_copy(update={"referral_two_levels": True}), mount_simulator=False)
    return await aiohttp_client(app, server_kwargs={"port": app_port})


async def _group_order(shopper: Shopper, deal: dict, group_id: int | None = None) -> dict:
    """The shopper's order of the deal's tea at the group price (¥19.90 against ¥30.00), paid."""
    placed = await group_order(
        shopper.client, {"headers": shopper.headers, "address_id": shopper.address_id}, deal, group_id
    )
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    await pay_order(shopper.client, shopper.simulator, shopper.headers, order["id"])
    await settle_outbox()
    return order


async def test_a_day_of_mixed_orders_fen_by_fen(shop, simulator, settings):
    # given two tiers: 金牌 5% by default, 食品 8% (so 绿茶 and its group-deal tea take it), its own
    # 零食 3%, and 2% for the second level; 银牌 4% by default, 粮油 6%, 1% for the second level
    await kol_catalog()
    gold = await tier("金牌", rate_bps=500, second_level_bps=200, categories={"食品": 800, "零食": 300})
    silver = await tier("银牌", rate_bps=400, second_level_bps=100, categories={"粮油": 600})
    deal = await tea_deal(size=2)
    people = ["amy", "ben", "cat", "d1", "d2", "d3", "d4", "d5"]
    amy, ben, cat, d1, d2, d3, d4, d5 = [await Shopper.start(shop, simulator, n) for n in people]
    # and three KOLs: A (金牌), B (银牌, recruited by A), C (金牌)
    a = await approved_kol(user_id=amy.user_id, name="阿美", tier_id=gold)
    b = await approved_kol(user_id=ben.user_id, name="阿斌", tier_id=silver, parent_kol_id=a.id)
    c = await approved_kol(user_id=cat.user_id, name="小猫", tier_id=gold)
    # and the customers they brought: d1 by A's link, d2 by B's mini-program code, d3 by C's QR
    # code, d4 by a share of B's link; d5 by nobody
    await touched(a, d1.user_id)
    await touched(b, d2.user_id, channel=TouchChannel.MP_CODE)
    await touched(c, d3.user_id, channel=TouchChannel.QR_FOLLOW)
    await touched(b, d4.user_id, channel=TouchChannel.SHARE)

    # when the day's orders are paid (each with ¥10 shipping, which earns nothing):
    o1 = await referred_order(d1, {"KT1-1": 3, "KS1-1": 1})  # 3000 + 777
    o2 = await referred_order(d2, {"KR1-1": 2, "KT1-1": 1})  # 1800 + 1000
    o3 = await referred_order(d3, {"KS1-1": 5})  # 3885
    o4 = await _group_order(d4, deal)  # the group tea: 1990 after the group discount
    group_id = (await GroupSeat.get(order_id=o4["id"])).group_id
    o5 = await _group_order(d1, deal, group_id)  # d1 joins: the group of two succeeds
    o6 = await referred_order(d5, {"KT1-1": 1})  # nobody's
    # then each level accrued, fen by fen, on what each line paid:
    # o1 A:  3000 × 8% (食品) = 240; 777 × 3% (零食) = 23.31 → 23: 263, on 3777
    # o2 B:  1800 × 6% (粮油) = 108; 1000 × 4% (银牌's default) = 40: 148, on 2800
    #    A2: (1800 + 1000) × 2% (金牌's second level) = 36 + 20 = 56
    # o3 C:  3885 × 3% = 116.55 → 117
    # o4 B:  1990 × 4% = 79.6 → 80;  A2: 1990 × 2% = 39.8 → 40
    # o5 A:  1990 × 8% = 159.2 → 159 (d1 is A's: a group deal is no reason to lose the KOL)
    # o6: nothing
    accrued = {(r.order_id, r.level): (r.kol_id, r.basis, r.amount) for r in await KolCommission.all()}
    assert accrued == {
        (o1["id"], 1): (a.id, 3777, 263),
        (o2["id"], 1): (b.id, 2800, 148),
        (o2["id"], 2): (a.id, 2800, 56),
        (o3["id"], 1): (c.id, 3885, 117),
        (o4["id"], 1): (b.id, 1990, 80),
        (o4["id"], 2): (a.id, 1990, 40),
        (o5["id"], 1): (a.id, 1990, 159),
    }
    assert not await KolCommission.exists(order_id=o6["id"])
    await books_balanced()

    # when one of o2's two rice is refunded (partial) and all of o3's snacks (full)
    rice, _ = await lines_of(o2["id"])
    await refunded(settings, o2["id"], [LineAsk(rice.id, 1)])
    [snacks] = await lines_of(o3["id"])
    await refunded(settings, o3["id"], [LineAsk(snacks.id, 5)])
    # then o2's rice line reverses half at each level: B 108 × 900/1800 = 54, A2 36 × ½ = 18;
    # o3 reverses exactly its 117, wholly reversed
    rows = {(r.order_id, r.level): (r.status, r.refunded, r.reversed) for r in await KolCommission.all()}
    assert rows[(o2["id"], 1)] == (PENDING, 900, 54)
    assert rows[(o2["id"], 2)] == (PENDING, 900, 18)
    assert rows[(o3["id"], 1)] == (REVERSED, 3885, 117)
    await books_balanced()

    # when o1, o2 and o5 complete, o4 does not, and the window passes (the hourly job)
    for who, order in ((d1, o1), (d2, o2), (d1, o5)):
        await completed(who, order)
    with after_window():
        assert await earning.settle_due(window_days=WINDOW) == 4
    # then earned: o1 A 263; o2 B 148 − 54 = 94, A2 56 − 18 = 38; o5 A 159; o4 still pending
    rows = {(r.order_id, r.level): (r.status, r.earned) for r in await KolCommission.all()}
    assert rows == {
        (o1["id"], 1): (EARNED, 263),
        (o2["id"], 1): (EARNED, 94),
        (o2["id"], 2): (EARNED, 38),
        (o3["id"], 1): (REVERSED, 0),
        (o4["id"], 1): (PENDING, 0),
        (o4["id"], 2): (PENDING, 0),
        (o5["id"], 1): (EARNED, 159),
    }
    # and the books: A may withdraw 263 + 38 + 159 = 460 and waits for 40; B 94 and 80; C nothing
    found = await balances()
    assert (found[f"payee_payable:{amy.user_id}"], found[f"kol_pending:{amy.user_id}"]) == (-460, -40)
    assert (found[f"payee_payable:{ben.user_id}"], found[f"kol_pending:{ben.user_id}"]) == (-94, -80)
    assert found.get(f"payee_payable:{cat.user_id}", 0) == found[f"kol_pending:{cat.user_id}"] == 0
    # and the platform paid, out of its commission, what was accrued (263 + 148 + 56 + 117 + 80
    # + 40 + 159 = 863) less what came back (54 + 18 + 117 = 189): 674 = 460 + 40 + 94 + 80
    kol_entries = await JournalEntry.filter(key__startswith="kol_commission:").values_list("key", flat=True)
    assert len(kol_entries) == 7 + 3 + 4  # accrued, reversed (54, 18, 117), earned
    assert 863 - 189 == 460 + 40 + 94 + 80

    # and each KOL's funnel, by channel, says the same
    async def funnel(kol_id: int) -> dict[str, tuple[int, int, int]]:
        by_channel: dict[str, tuple[int, int, int]] = {}
        for row in await ReferralDaily.filter(kol_id=kol_id):
            p, e, r = by_channel.get(row.channel.value, (0, 0, 0))
            got = (row.commission_pending, row.commission_earned, row.commission_reversed)
            by_channel[row.channel.value] = (p + got[0], e + got[1], r + got[2])
        return {k: v for k, v in by_channel.items() if any(v)}

    # A: link (o1 263 + o5 159; earned both), mp_code (o2's second level 56, 38 earned, 18
    # reversed), share (o4's second level 40)
    assert await funnel(a.id) == {"link": (422, 422, 0), "mp_code": (56, 38, 18), "share": (40, 0, 0)}
    assert await funnel(b.id) == {"mp_code": (148, 94, 54), "share": (80, 0, 0)}
    assert await funnel(c.id) == {"qr_follow": (117, 0, 117)}

    # and each KOL's earnings say the same
    mine = await commission_queries.earnings(user_id=amy.user_id)
    assert (mine.pending, mine.held, mine.earned, mine.reversed, mine.withdrawable) == (40, 0, 460, 18, 460)
    theirs = await commission_queries.earnings(user_id=ben.user_id)
    assert (theirs.pending, theirs.earned, theirs.reversed, theirs.withdrawable) == (80, 94, 54, 94)
    await books_balanced()
    assert (await checks.check_balances()).differences == []


# --- at once, on MariaDB ------------------------------------------------------------------


def _without(client, name: str) -> None:
    """Hold one subscriber back (the test delivers its events by hand)."""
    table = subscribers(client.server.app[CORE])
    outbox.install(Subscriptions([s for s in table if s.name != name]))


@needs_real_database
async def test_one_payment_accrued_many_times_at_once_posts_once(shop, simulator, settings):
    # given a referred order with two levels whose accrual was held back (frozen, not accrued)
    await kol_catalog()
    amy, ben, carol = [await Shopper.start(shop, simulator, n) for n in ("amy", "ben", "carol")]
    parent = await approved_kol(
        user_id=amy.user_id, tier_id=await tier("金牌", rate_bps=500, second_level_bps=200)
    )
    child = await approved_kol(user_id=ben.user_id, parent_kol_id=parent.id)
    await touched(child, carol.user_id)
    _without(shop, "referrals.freeze_attribution")
    order = await referred_order(carol, {"KT1-1": 2})
    assert await paid.freeze(order_id=order["id"])
    # when eight deliveries accrue it at once
    ids = await asyncio.gather(*(commissions.accrue(order_id=order["id"]) for _ in range(8)))
    # then one commission per level, one entry each: 2000 × 5% = 100, 2000 × 2% = 40
    assert len({tuple(i) for i in ids}) == 1 and len(ids[0]) == 2
    assert await KolCommission.filter(order_id=order["id"]).count() == 2
    for level in (1, 2):
        assert await JournalEntry.filter(key=f"kol_commission:{order['id']}:{level}:accrued").count() == 1
    found = await balances()
    assert (found[f"kol_pending:{ben.user_id}"], found[f"kol_pending:{amy.user_id}"]) == (-100, -40)
    await books_balanced()


@needs_real_database
async def test_two_refunds_told_many_times_at_once_reverse_exactly_what_was_accrued(
    shop, simulator, settings
):
    # given 2 teas at 3.33% (2000: 66.6 → 67), paid, the reversal subscriber held back
    await kol_catalog()
    amy, carol = [await Shopper.start(shop, simulator, n) for n in ("amy", "carol")]
    kol = await approved_kol(user_id=amy.user_id, tier_id=await tier("奇数", rate_bps=333))
    await touched(kol, carol.user_id)
    order = await referred_order(carol, {"KT1-1": 2})
    _without(shop, "referrals.reverse_kol_commissions")
    [line] = await lines_of(order["id"])
    refunds = [await refunded(settings, order["id"], [LineAsk(line.id, 1)]) for _ in range(2)]
    # when the two refunds, each told three times, are reversed all at once
    await asyncio.gather(
        *(
            commissions.reverse_refunded(
                RefundSucceeded(refund_id=r.id, order_id=order["id"], aftersale_id=r.aftersale_id)
            )
            for r in refunds
            for _ in range(3)
        )
    )
    # then each counted once; together exactly 67 (34 then 33, or the other way round)
    assert await KolCommissionRefund.all().count() == 2
    commission = await KolCommission.get(order_id=order["id"])
    assert (commission.status, commission.refunded, commission.reversed) == (REVERSED, 2000, 67)
    assert sorted(await KolCommissionRefund.all().values_list("reversed", flat=True)) == [33, 34]
    assert (await balances())[f"kol_pending:{amy.user_id}"] == 0
    await books_balanced()


@needs_real_database
async def test_voiding_while_a_refund_is_counted_leaves_nothing_pending(shop, simulator, settings):
    # given a held commission of 4 teas (4000 × 5% = 200)
    await kol_catalog()
    amy, carol = [await Shopper.start(shop, simulator, n) for n in ("amy", "carol")]
    kol = await approved_kol(user_id=amy.user_id)
    await touched(kol, carol.user_id)
    order = await referred_order(carol, {"KT1-1": 4})
    assert await holds.hold_kol(kol_id=kol.id, flag_id=1) == 200
    commission = await KolCommission.get(order_id=order["id"])
    [line] = await lines_of(order["id"])
    # when the review voids it while a refund of one tea (50) is counted, both at once
    await asyncio.gather(
        holds.void_kol(kol_id=kol.id, flag_id=1, actor="staff:1"),
        commissions.reverse(commission_id=commission.id, refund_id=990_001, parts={line.id: 1000}),
    )
    # then whichever went first, all 200 went back to the platform, nothing left pending
    done = await KolCommission.get(id=commission.id)
    assert (done.status, done.reversed) == (KolCommissionStatus.VOIDED, 200)
    assert (await balances())[f"kol_pending:{amy.user_id}"] == 0
    await books_balanced()


@needs_real_database
async def test_a_refund_racing_the_earning_job_leaves_the_kol_exactly_what_is_left(shop, simulator, settings):
    # given a completed order of 4 teas (4000 × 5% = 200) whose window has passed
    await kol_catalog()
    amy, carol = [await Shopper.start(shop, simulator, n) for n in ("amy", "carol")]
    kol = await approved_kol(user_id=amy.user_id)
    await touched(kol, carol.user_id)
    order = await referred_order(carol, {"KT1-1": 4})
    await completed(carol, order)
    commission = await KolCommission.get(order_id=order["id"])
    [line] = await lines_of(order["id"])
    # when a refund of one tea (a finance-made one: 50 of commission) is counted while the job
    # earns it, both at once
    with after_window():
        await asyncio.gather(
            earning.earn(commission_id=commission.id),
            commissions.reverse(commission_id=commission.id, refund_id=990_001, parts={line.id: 1000}),
        )
        await earning.earn_due(window_days=WINDOW)  # the next run, if the refund went first
    # then whichever went first, the KOL holds exactly 150, withdrawable, nothing pending
    found = await balances()
    assert (found[f"payee_payable:{amy.user_id}"], found[f"kol_pending:{amy.user_id}"]) == (-150, 0)
    done = await KolCommission.get(id=commission.id)
    assert (done.status, done.reversed) == (EARNED, 50)
    await books_balanced()
