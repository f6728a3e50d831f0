"""KOLs' commissions in the books, fen by fen, through the real checkout, WeChat Pay simulator
and after-sales: accrued at payment at the KOL's tier rate of each line's category (else the
nearest ancestor's, else the tier's default) on the line's paid amount, one commission per
level; earned once the order completed and the after-sales window passed; reversed in
proportion to refunds (exactly, for a line refunded in full); held, released and voided by the
fraud review; the books balanced after each step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce import clock, outbox
from commerce.aftersales.services import LineAsk
from commerce.ledger.models import JournalEntry
from commerce.ledger.services import is_posted
from commerce.outbox import Subscriptions
from commerce.payments.events import PaymentReceived, RefundSucceeded
from commerce.referrals import commission_earning as earning
from commerce.referrals import commissions, holds, paid
from commerce.referrals.commission_models import (
    KolCommission,
    KolCommissionEvent,
    KolCommissionLine,
    KolCommissionRefund,
)
from commerce.referrals.models import KolFlag, KolTier, ReferralDaily
from commerce.referrals.states import FlagStatus, KolCommissionStatus, TouchChannel
from scheduler import JOBS, run_job_once
from shop.app import CORE, create_app
from shop.subscriptions import subscribers
from tests.builders import Shopper
from tests.kol_commission_builders import (
    WINDOW,
    after_window,
    balances,
    books_balanced,
    completed,
    kol_catalog,
    lines_of,
    postings,
    referred_order,
    refunded,
    tier,
)
from tests.referral_builders import approved_kol, touched


async def _gold_tier() -> int:
    """金牌: 5% by default, 食品 8% (so 绿茶 under 食品 > 茶叶 takes it), 零食 3% of its own."""
    await kol_catalog()
    return await tier("金牌", rate_bps=500, categories={"食品": 800, "零食": 300})


async def _funnel(kol_id: int) -> dict[str, int]:
    rows = await ReferralDaily.filter(kol_id=kol_id)
    names = ("commission_pending", "commission_earned", "commission_reversed")
    return {n: sum(getattr(r, n) for r in rows) for n in names}


async def _flag(kol_id: int) -> int:
    now = clock.now()
    flag = await KolFlag.create(
        kol_id=kol_id, open_key=kol_id, status=FlagStatus.OPEN, kinds=["shared_address"], created_at=now
    )
    return flag.id


# --- accrued, earned ---------------------------------------------------------------------------


async def test_accrues_per_tier_and_category_and_is_earned_after_the_window(client, simulator, settings):
    # given a KOL in 金牌 who brought carol
    gold = await _gold_tier()
    amy, carol = Shopper.start(client, simulator, "amy"), Shopper.start(client, simulator, "carol")
    amy, carol = await amy, await carol
    kol = await approved_kol(user_id=amy.user_id, name="阿美", tier_id=gold)
    await touched(kol, carol.user_id, channel=TouchChannel.MP_CODE)
    # when carol pays 3 teas (3000), a snack (777) and 2 rice (1800), with ¥10 shipping
    order = await referred_order(carol, {"KT1-1": 3, "KS1-1": 1, "KR1-1": 2})
    assert order["payable"] == 5577 + 1000
    # then the commission accrued on the lines only: tea 3000 × 8% (食品, an ancestor) = 240,
    # the snack 777 × 3% (its own 零食) = 23.31 → 23, rice 1800 × 5% (the default) = 90
    commission = await KolCommission.get(order_id=order["id"])
    assert (commission.level, commission.kol_id, commission.tier_id, commission.channel) == (
        1,
        kol.id,
        gold,
        "mp_code",
    )
    assert (commission.basis, commission.amount, commission.status) == (
        5577,
        353,
        KolCommissionStatus.PENDING,
    )
    lines = await KolCommissionLine.filter(commission_id=commission.id).order_by("id")
    assert [(line.basis, line.rate_bps, line.amount) for line in lines] == [
        (3000, 800, 240),
        (777, 300, 23),
        (1800, 500, 90),
    ]
    pending = f"kol_pending:{amy.user_id}"
    assert await postings(f"kol_commission:{order['id']}:1:accrued") == [
        ("platform_commission", 353),
        (pending, -353),
    ]
    assert await _funnel(kol.id) == {
        "commission_pending": 353,
        "commission_earned": 0,
        "commission_reversed": 0,
    }
    await books_balanced()
    # and the payment told again accrues nothing more
    await paid.on_paid(
        PaymentReceived(payment_id=0, paid_order_ids=[order["id"]], returned_order_ids=[], amount=0)
    )
    assert await commissions.accrue(order_id=order["id"]) == [commission.id]
    assert await JournalEntry.filter(key__startswith="kol_commission:").count() == 1
    assert (await _funnel(kol.id))["commission_pending"] == 353
    # when the order completes, nothing is earned within the after-sales window
    await completed(carol, order)
    assert await earning.earn_due(window_days=WINDOW) == 0
    with clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=-1)):
        assert await earning.earn_due(window_days=WINDOW) == 0
    # then once the window passed (the hourly job, as the scheduler runs it), it is earned, once
    [job] = [s for s in JOBS if s.name == "settle_kol_commissions"]
    with after_window():
        assert await run_job_once(client.server.app[CORE], job)
        assert await earning.earn_due(window_days=WINDOW) == 0
    assert await postings(f"kol_commission:{order['id']}:1:earned") == [
        (pending, 353),
        (f"payee_payable:{amy.user_id}", -353),
    ]
    earned = await KolCommission.get(id=commission.id)
    assert (earned.status, earned.earned, earned.reversed) == (KolCommissionStatus.EARNED, 353, 0)
    found = await balances()
    assert (found[pending], found[f"payee_payable:{amy.user_id}"]) == (0, -353)
    assert (await _funnel(kol.id))["commission_earned"] == 353
    assert await KolCommissionEvent.filter(commission_id=commission.id).order_by("id").values_list(
        "type", "to_status"
    ) == [("accrued", ""), ("status_changed", "earned")]
    await books_balanced()


@pytest.fixture
async def two_levels(aiohttp_client, wired_settings, app_port, empty_database, empty_redis):
    """The shop with two levels on, on the port WeChat Pay calls back."""
    app = create_app(wired_settings.model_copy(update={"referral_two_levels": True}), mount_simulator=False)
    return await aiohttp_client(app, server_kwargs={"port": app_port})


async def test_two_levels_each_accrue_their_own_commission(two_levels, simulator, settings):
    # given 金牌's parent KOL (second level 2%) who recruited a 银牌 KOL (4% default)
    gold = await _gold_tier()
    silver = await tier("银牌", rate_bps=400, second_level_bps=100)
    await KolTier.filter(id=gold).update(second_level_bps=200)
    amy, ben, carol = [await Shopper.start(two_levels, simulator, n) for n in ("amy", "ben", "carol")]
    parent = await approved_kol(user_id=amy.user_id, name="上级", tier_id=gold)
    child = await approved_kol(user_id=ben.user_id, name="下级", tier_id=silver, parent_kol_id=parent.id)
    await touched(child, carol.user_id)
    # when carol pays 2 teas (2000) and a snack (777)
    order = await referred_order(carol, {"KT1-1": 2, "KS1-1": 1})
    # then the child earns its tier's default 4% (银牌 has no category rates): 80 + 31.08 → 31
    # and the parent its own tier's flat second level 2%: 40 + 15.54 → 16
    found = {c.level: c for c in await KolCommission.filter(order_id=order["id"])}
    assert {lv: (c.kol_id, c.tier_id, c.basis, c.amount) for lv, c in found.items()} == {
        1: (child.id, silver, 2777, 111),
        2: (parent.id, gold, 2777, 56),
    }
    assert await postings(f"kol_commission:{order['id']}:2:accrued") == [
        ("platform_commission", 56),
        (f"kol_pending:{amy.user_id}", -56),
    ]
    assert (await _funnel(parent.id))["commission_pending"] == 56
    await books_balanced()
    # when the snack is refunded in full: each level reverses exactly its snack line
    [_, snack] = await lines_of(order["id"])
    refund = await refunded(settings, order["id"], [LineAsk(snack.id, 1)])
    assert await postings(f"kol_commission:{order['id']}:1:refund:{refund.id}") == [
        (f"kol_pending:{ben.user_id}", 31),
        ("platform_commission", -31),
    ]
    assert await postings(f"kol_commission:{order['id']}:2:refund:{refund.id}") == [
        (f"kol_pending:{amy.user_id}", 16),
        ("platform_commission", -16),
    ]
    await books_balanced()
    # and both earn what is left once the order completed and the window passed
    await completed(carol, order)
    with after_window():
        assert await earning.settle_due(window_days=WINDOW) == 2
    found = await balances()
    assert (found[f"payee_payable:{ben.user_id}"], found[f"payee_payable:{amy.user_id}"]) == (-80, -40)
    await books_balanced()


async def _kol_and_customer(client, simulator, *, tier_id: int | None = None):
    amy, carol = [await Shopper.start(client, simulator, n) for n in ("amy", "carol")]
    kol = await approved_kol(user_id=amy.user_id, name="阿美", tier_id=tier_id)
    await touched(kol, carol.user_id)
    return kol, amy, carol


async def test_an_order_paid_while_the_accrual_was_lost_is_caught_up_by_the_job(client, simulator, settings):
    # given a referred order paid while the attribution's subscriber was held back
    await kol_catalog()
    _kol, amy, carol = await _kol_and_customer(client, simulator)
    table = subscribers(client.server.app[CORE])
    outbox.install(Subscriptions([s for s in table if s.name != "referrals.freeze_attribution"]))
    order = await referred_order(carol, {"KT1-1": 2})
    assert not await KolCommission.exists(order_id=order["id"])
    # and frozen later without its accrual (as if the accrual had failed)
    assert await paid.freeze(order_id=order["id"])
    # when the hourly job runs
    [job] = [s for s in JOBS if s.name == "settle_kol_commissions"]
    assert await run_job_once(client.server.app[CORE], job)
    # then it accrued: 2000 × 5% (the default tier) = 100
    assert await postings(f"kol_commission:{order['id']}:1:accrued") == [
        ("platform_commission", 100),
        (f"kol_pending:{amy.user_id}", -100),
    ]
    await books_balanced()


# --- reversed --------------------------------------------------------------------------------


async def test_refunds_reverse_in_proportion_and_a_full_refund_exactly(client, simulator, settings):
    # given 3 teas at 3.33% (3000: 99.9 → 100) and 2 rice at 3.33% (1800: 59.94 → 60)
    await kol_catalog()
    odd = await tier("奇数", rate_bps=333)
    kol, amy, carol = await _kol_and_customer(client, simulator, tier_id=odd)
    order = await referred_order(carol, {"KT1-1": 3, "KR1-1": 2})
    commission = await KolCommission.get(order_id=order["id"])
    assert commission.amount == 160
    tea, rice = await lines_of(order["id"])
    pending = f"kol_pending:{amy.user_id}"
    # when the tea line is refunded in three parts: 333, 1333, then the rest (1334)
    expected = [  # (refunded, commission reversed: the cumulative share minus the past)
        (333, 11),  # 100 × 333/3000 = 11.1 → 11
        (1333, 45),  # 100 × 1666/3000 = 55.53 → 56: 56 − 11
        (1334, 44),  # all 3000: all 100: 100 − 56
    ]
    for amount, reversed_ in expected:
        asked = LineAsk(tea.id, 1, amount) if amount != 1334 else LineAsk(tea.id, 1)
        refund = await refunded(settings, order["id"], [asked])
        assert refund.amount == amount
        # then each refund reverses its share, fen by fen, back to the platform
        assert await postings(f"kol_commission:{order['id']}:1:refund:{refund.id}") == [
            (pending, reversed_),
            ("platform_commission", -reversed_),
        ]
        await books_balanced()
    # and the tea line is reversed exactly; the commission is still pending on the rice
    row = await KolCommission.get(id=commission.id)
    assert (row.status, row.refunded, row.reversed) == (KolCommissionStatus.PENDING, 3000, 100)
    assert (await balances())[pending] == -60
    assert (await _funnel(kol.id))["commission_reversed"] == 100
    # when a refund is told again, nothing more is reversed
    before = await balances()
    await commissions.reverse_refunded(
        RefundSucceeded(refund_id=refund.id, order_id=order["id"], aftersale_id=refund.aftersale_id)
    )
    assert await balances() == before
    assert await KolCommissionRefund.filter(commission_id=commission.id).count() == 3
    # when the rice is refunded in full too: the commission is wholly reversed, nothing pending
    await refunded(settings, order["id"], [LineAsk(rice.id, 2)])
    row = await KolCommission.get(id=commission.id)
    assert (row.status, row.refunded, row.reversed) == (KolCommissionStatus.REVERSED, 4800, 160)
    assert (await balances())[pending] == 0
    await books_balanced()


async def test_a_refund_after_earning_comes_from_the_balance_and_is_refused_once_withdrawn(
    client, simulator, settings
):
    from commerce.errors import CommerceError
    from commerce.ledger.services import PAYOUTS_IN_TRANSIT, Line, payee_payable, record
    from commerce.ledger.states import EntryKind
    from commerce.referrals.errors import KolCommissionError
    from tests.builders import refused

    # given 4 teas (4000 × 5% = 200) earned after completion and the window
    await kol_catalog()
    _kol, amy, carol = await _kol_and_customer(client, simulator)
    order = await referred_order(carol, {"KT1-1": 4})
    await completed(carol, order)
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    commission = await KolCommission.get(order_id=order["id"])
    [line] = await lines_of(order["id"])
    payee = f"payee_payable:{amy.user_id}"
    # when finance refunds one tea anyway (outside after-sales)
    assert (
        await commissions.reverse(commission_id=commission.id, refund_id=990_002, parts={line.id: 1000}) == 50
    )
    # then its 50 come back from the withdrawable balance
    assert await postings(f"kol_commission:{order['id']}:1:refund:990002") == [
        (payee, 50),
        ("platform_commission", -50),
    ]
    # when the KOL has withdrawn the rest and another tea is refunded
    await record(
        key="payout:1:requested",
        kind=EntryKind.PAYOUT_REQUESTED,
        lines=[Line(payee_payable(amy.user_id), 150), Line(PAYOUTS_IN_TRANSIT, -150)],
    )
    before = await balances()
    with pytest.raises(CommerceError) as caught:
        await commissions.reverse(commission_id=commission.id, refund_id=990_003, parts={line.id: 1000})
    # then it is refused (finance adjusts by hand), nothing of it written
    assert refused(caught, KolCommissionError.ALREADY_EARNED)
    assert await balances() == before
    assert not await KolCommissionRefund.exists(refund_id=990_003)
    await books_balanced()


# --- held, released, voided ---------------------------------------------------------------------


async def test_a_flagged_kol_s_commissions_are_held_then_released_and_earned(client, simulator, settings):
    # given a KOL with one pending commission (2 teas: 100)
    await kol_catalog()
    kol, amy, carol = await _kol_and_customer(client, simulator)
    first = await referred_order(carol, {"KT1-1": 2})
    # when the fraud review flags them and holds their pending earnings
    flag_id = await _flag(kol.id)
    assert await holds.hold_kol(kol_id=kol.id, flag_id=flag_id) == 100
    assert await holds.hold_kol(kol_id=kol.id, flag_id=flag_id) == 0  # twice: nothing more
    # then a commission accrued while the flag is open starts held (a snack: 777 × 5% = 39)
    second = await referred_order(carol, {"KS1-1": 1})
    rows = {c.order_id: c.status for c in await KolCommission.filter(kol_id=kol.id)}
    assert rows == {first["id"]: KolCommissionStatus.HELD, second["id"]: KolCommissionStatus.HELD}
    # and held ones stay in kol_pending, never earned however long
    await completed(carol, first)
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 0
    assert (await balances())[f"kol_pending:{amy.user_id}"] == -139
    await books_balanced()
    # when the review releases them
    await KolFlag.filter(id=flag_id).update(open_key=None, status=FlagStatus.RELEASED)
    assert await holds.release_kol(kol_id=kol.id, flag_id=flag_id, actor="staff:9") == 139
    assert await holds.release_kol(kol_id=kol.id, flag_id=flag_id, actor="staff:9") == 0
    # then they earn as usual: the completed order's 100 once the window passed
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    found = await balances()
    assert (found[f"kol_pending:{amy.user_id}"], found[f"payee_payable:{amy.user_id}"]) == (-39, -100)
    events = await KolCommissionEvent.filter(commission_id=(await KolCommission.get(order_id=first["id"])).id)
    assert [(e.to_status, e.actor) for e in events if e.to_status] == [
        ("held", "system:kol_commissions"),
        ("pending", "staff:9"),
        ("earned", "system:kol_commissions"),
    ]
    await books_balanced()


async def test_voiding_a_flagged_kol_s_held_commissions_returns_what_is_left_to_the_platform(
    client, simulator, settings
):
    # given a KOL with two commissions: 3 teas (150) partly refunded (one tea: 50 back), a snack (39)
    await kol_catalog()
    kol, amy, carol = await _kol_and_customer(client, simulator)
    first = await referred_order(carol, {"KT1-1": 3})
    second = await referred_order(carol, {"KS1-1": 1})
    [tea] = await lines_of(first["id"])
    await refunded(settings, first["id"], [LineAsk(tea.id, 1)])
    # when flagged, held, and voided on review
    flag_id = await _flag(kol.id)
    assert await holds.hold_kol(kol_id=kol.id, flag_id=flag_id) == 100 + 39
    assert await holds.void_kol(kol_id=kol.id, flag_id=flag_id, actor="staff:9") == 139
    assert await holds.void_kol(kol_id=kol.id, flag_id=flag_id, actor="staff:9") == 0  # twice: nothing
    # then what was left of each went back to the platform, nothing pending
    one = await KolCommission.get(order_id=first["id"])
    assert await postings(f"kol_commission:{one.id}:voided") == [
        (f"kol_pending:{amy.user_id}", 100),
        ("platform_commission", -100),
    ]
    rows = {c.order_id: (c.status, c.reversed) for c in await KolCommission.filter(kol_id=kol.id)}
    assert rows == {
        first["id"]: (KolCommissionStatus.VOIDED, 150),
        second["id"]: (KolCommissionStatus.VOIDED, 39),
    }
    assert (await balances())[f"kol_pending:{amy.user_id}"] == 0
    assert (await _funnel(kol.id))["commission_reversed"] == 50 + 139
    await books_balanced()
    # and a refund of a voided commission reverses nothing more
    await refunded(settings, first["id"], [LineAsk(tea.id, 1)])
    assert (await balances())[f"kol_pending:{amy.user_id}"] == 0
    assert (await KolCommission.get(order_id=first["id"])).reversed == 150
    assert not await is_posted(f"kol_commission:{first['id']}:1:refund:0")
    await books_balanced()
