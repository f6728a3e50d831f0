"""The fraud signals and their review, on a real database, with touches through the real touch
service and orders through the real checkout, the simulated WeChat Pay and after-sales: a ring
of referred accounts on one delivery address trips the flag and holds the KOL's earnings (one
flag, however many runs); self-referral attempts, the refund rate, a device, a phone prefix and a
burst of touches from one address are measured with their evidence; releasing and voiding both
leave the books balanced, once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales.services import LineAsk
from commerce.audit.models import AuditEntry
from commerce.errors import CommerceError
from commerce.ledger import services as ledger
from commerce.ledger.services import is_posted
from commerce.orders.models import Order
from commerce.outbox import OutboxEvent
from commerce.referrals import flags, signals, touches
from commerce.referrals.commission_models import KolCommission, KolCommissionRefund
from commerce.referrals.models import Kol, KolEvent, KolFlag, KolSignal, ReferralDaily
from commerce.referrals.states import FlagStatus, KolCommissionStatus, KolEventType, SignalKind, TouchChannel
from scheduler import JOBS, run_job_once
from shop.app import CORE
from tests.builders import Shopper
from tests.edges.shoppers import ADDRESS
from tests.kol_commission_builders import (
    balances,
    books_balanced,
    kol_catalog,
    lines_of,
    referred_order,
    refunded,
)
from tests.referral_builders import approved_kol, touched

ELSEWHERE = {**ADDRESS, "phone": "13900139000", "detail": "海岸城 8 栋 1201"}


async def _ring(client, simulator, *names: str) -> tuple:
    """A KOL (amy) and shoppers she brought, all delivering to the one ADDRESS, each with a
    paid order (her commissions pending)."""
    await kol_catalog()
    amy = await Shopper.start(client, simulator, "amy", ELSEWHERE)
    kol = await approved_kol(user_id=amy.user_id)
    ring = [await Shopper.start(client, simulator, name) for name in names]
    for shopper in ring:
        await touched(kol, shopper.user_id)
        await referred_order(shopper, {"KT1-1": 1})
    return kol, ring


async def _pending(kol_id: int) -> int:
    rows = await KolCommission.filter(kol_id=kol_id).values_list("amount", "reversed")
    return sum(a - r for a, r in rows)


async def _funnel_reversed(kol_id: int) -> int:
    return sum(await ReferralDaily.filter(kol_id=kol_id).values_list("commission_reversed", flat=True))


async def _statuses(kol_id: int) -> set[KolCommissionStatus]:
    return set(await KolCommission.filter(kol_id=kol_id).values_list("status", flat=True))


async def test_a_ring_on_one_address_is_flagged_once_and_its_earnings_held_then_released(
    client, simulator, settings
):
    # given a KOL whose three referred accounts deliver to one address (typed differently by
    # one of them), and a fourth who lives elsewhere
    kol, ring = await _ring(client, simulator, "ben", "carol", "dan")
    edited = await ring[2].client.put(
        f"/api/v1/addresses/{ring[2].address_id}",
        json={**ADDRESS, "detail": "科技园1号 ", "city": " 深圳市"},
        headers=ring[2].headers,
    )
    assert edited.status == 200, await edited.text()
    eve = await Shopper.start(client, simulator, "eve", {**ELSEWHERE, "phone": "13700137000"})
    await touched(kol, eve.user_id)
    await referred_order(eve, {"KR1-1": 1})
    pending = await _pending(kol.id)
    assert pending > 0
    # when the signals job runs
    done = await signals.scan_now(settings=settings)
    # then the KOL is flagged for the shared address, with the three accounts as evidence
    [flag] = await KolFlag.filter(kol_id=kol.id)
    assert done.flagged == [flag.id]
    assert (flag.status, flag.open_key, flag.kinds) == (FlagStatus.OPEN, kol.id, ["shared_address"])
    [group] = flag.evidence["shared_address"]["evidence"]["groups"]
    assert group["user_ids"] == sorted(s.user_id for s in ring)
    assert group["address"] == "广东省深圳市南山区科技***"
    assert flag.evidence["shared_address"]["value"] == 3
    # and every pending commission is held, to the fen
    assert (flag.held, await _statuses(kol.id)) == (pending, {KolCommissionStatus.HELD})
    # and the measures are kept, one per kind
    kept = {s.kind: s for s in await KolSignal.filter(kol_id=kol.id)}
    assert set(kept) == set(SignalKind)
    assert [k for k, s in kept.items() if s.tripped] == [SignalKind.SHARED_ADDRESS]
    # and it was published, audited and written on the KOL's timeline
    assert await OutboxEvent.filter(topic="kol.flagged").count() == 1
    assert await AuditEntry.filter(action="kol.flag", object_id=str(flag.id)).count() == 1
    assert await KolEvent.filter(kol_id=kol.id, type=KolEventType.FLAGGED).count() == 1
    await books_balanced()
    # when the job runs again, and two checks race
    again = await signals.scan_now(settings=settings)
    thresholds = signals.Thresholds.of(settings)
    raced = await asyncio.gather(*(signals.check_kol(kol_id=kol.id, thresholds=thresholds) for _ in range(2)))
    # then there is still one flag
    assert (again.flagged, raced, await KolFlag.filter(kol_id=kol.id).count()) == ([], [None, None], 1)
    # and an order paid while the flag is open accrues held
    await referred_order(ring[0], {"KS1-1": 1})
    assert await _statuses(kol.id) == {KolCommissionStatus.HELD}
    flagged_total = await _pending(kol.id)
    assert flagged_total > pending
    assert (await flags.flag_detail(flag_id=flag.id)).held_now == flagged_total
    # when the platform releases it with a note
    decided = await flags.release(flag_id=flag.id, note="核实为同一小区的真实客户", actor="staff:7")
    # then the commissions are pending again, the flag decided and closed, the books balanced
    assert decided.amount == flagged_total
    flag = await KolFlag.get(id=flag.id)
    assert (flag.status, flag.open_key, flag.decided_by, flag.note) == (
        FlagStatus.RELEASED,
        None,
        "staff:7",
        "核实为同一小区的真实客户",
    )
    assert await _statuses(kol.id) == {KolCommissionStatus.PENDING}
    assert await AuditEntry.filter(action="kol_flag.release", object_id=str(flag.id)).count() == 1
    await books_balanced()
    # and a second reviewer is told it was decided
    with pytest.raises(CommerceError) as refused:
        await flags.void(flag_id=flag.id, note="作废", actor="staff:8")
    assert refused.value.code == "kol_flag_already_decided"
    # and the next run does not flag the KOL again on the same evidence
    assert (await signals.scan_now(settings=settings)).flagged == []
    # but does when a fourth account joins the ring
    frank = await Shopper.start(client, simulator, "frank")
    await touched(kol, frank.user_id)
    assert len((await signals.scan_now(settings=settings)).flagged) == 1
    assert await KolFlag.filter(kol_id=kol.id, status=FlagStatus.OPEN).count() == 1


async def test_voiding_a_flag_reverses_the_held_earnings_in_the_books(client, simulator, settings):
    # given a ring flagged, its earnings held
    kol, _ = await _ring(client, simulator, "ben", "carol", "dan")
    held = await _pending(kol.id)
    [flag_id] = (await signals.scan_now(settings=settings)).flagged
    # when the platform voids it (a note is required)
    with pytest.raises(CommerceError) as refused:
        await flags.void(flag_id=flag_id, note="  ", actor="staff:7")
    assert refused.value.code == "kol_flag_note_required"
    decided = await flags.void(flag_id=flag_id, note="刷单：同一地址多个账号", actor="staff:7")
    # then every held commission is voided, what was left reversed in the books and the funnel
    assert decided.amount == held
    assert await _statuses(kol.id) == {KolCommissionStatus.VOIDED}
    assert await _pending(kol.id) == 0
    assert (await KolFlag.get(id=flag_id)).status is FlagStatus.VOIDED
    reversed_ = sum(await ReferralDaily.filter(kol_id=kol.id).values_list("commission_reversed", flat=True))
    assert reversed_ == held
    await books_balanced()
    # and a second decision is refused
    with pytest.raises(CommerceError) as again:
        await flags.release(flag_id=flag_id, note="再次", actor="staff:8")
    assert again.value.code == "kol_flag_already_decided"
    assert await KolEvent.filter(kol_id=kol.id, type=KolEventType.FLAG_VOIDED).count() == 1


async def test_a_refund_after_voiding_takes_nothing_more_from_anyone(client, simulator, settings):
    # given a ring flagged and voided: each commission given back to the platform whole
    kol, ring = await _ring(client, simulator, "ben", "carol", "dan")
    [flag_id] = (await signals.scan_now(settings=settings)).flagged
    await flags.void(flag_id=flag_id, note="刷单：同一地址多个账号", actor="staff:7")
    voided = {c.id: c.reversed for c in await KolCommission.filter(kol_id=kol.id)}
    before = (await balances(), await _funnel_reversed(kol.id))
    # when one of their orders is refunded after all
    order = await Order.get(user_id=ring[0].user_id)
    [line] = await lines_of(order.id)
    refund = await refunded(settings, order.id, [LineAsk(line.id, 1)])
    # then the refund is counted against the commission, reversing nothing: no entry, the KOL's
    # accounts unmoved, the funnel counting nothing more
    commission = await KolCommission.get(order_id=order.id)
    assert commission.status is KolCommissionStatus.VOIDED and commission.reversed == voided[commission.id]
    [counted] = await KolCommissionRefund.filter(refund_id=refund.id)
    assert (counted.commission_id, counted.reversed) == (commission.id, 0)
    assert not await is_posted(f"kol_commission:{order.id}:1:refund:{refund.id}")
    after = (await balances(), await _funnel_reversed(kol.id))
    for account in (ledger.kol_pending(kol.user_id), ledger.payee_payable(kol.user_id)):
        assert after[0].get(account.code, 0) == before[0].get(account.code, 0), account.code
    assert after[1] == before[1]
    assert await OutboxEvent.filter(delivered_at=None).count() == 0  # the refund's delivery went through
    await books_balanced()


async def test_self_referral_attempts_trip_the_flag_with_their_times(client, simulator, settings):
    # given a KOL who opened their own link three times
    await kol_catalog()
    amy = await Shopper.start(client, simulator, "amy")
    kol = await approved_kol(user_id=amy.user_id)
    for minutes in (30, 20, 10):
        await touched(kol, amy.user_id, at=clock.now() - timedelta(minutes=minutes))
    # when the hourly job runs, as the scheduler runs it
    [job] = [s for s in JOBS if s.name == "check_kol_signals"]
    assert await run_job_once(client.server.app[CORE], job)
    # then the self-referrals are the evidence (nothing to hold: she earned nothing)
    flag = await KolFlag.get(kol_id=kol.id)
    assert (flag.kinds, flag.held) == (["self_referral"], 0)
    evidence = flag.evidence["self_referral"]
    assert (evidence["value"], evidence["threshold"], len(evidence["evidence"]["touches"])) == (3, 3, 3)


async def test_a_high_refund_rate_counts_from_the_minimum_of_orders(client, simulator, settings):
    # given a KOL's two referred shoppers (different addresses), each with a paid order
    await kol_catalog()
    amy = await Shopper.start(client, simulator, "amy")
    kol = await approved_kol(user_id=amy.user_id)
    ben = await Shopper.start(client, simulator, "ben")
    carol = await Shopper.start(client, simulator, "carol", ELSEWHERE)
    orders = []
    for shopper in (ben, carol):
        await touched(kol, shopper.user_id)
        orders.append(await referred_order(shopper, {"KT1-1": 1}))
    # and one of the orders refunded in full through after-sales
    [line] = await lines_of(orders[0]["id"])
    await refunded(settings, orders[0]["id"], [LineAsk(line.id, 1)])
    row = await Kol.get(id=kol.id)
    thresholds = signals.Thresholds.of(settings)
    # when it is measured from 2 orders at 50%
    measured = {
        m.kind: m
        for m in await signals.measure(row, replace(thresholds, refund_min_orders=2), since=_since())
    }
    # then the rate is 50%, tripped, with the refunded order as evidence
    rate = measured[SignalKind.HIGH_REFUND_RATE]
    assert (rate.value, rate.tripped) == (5000, True)
    assert rate.evidence["refunded"] == [{"order_id": orders[0]["id"], "amount": orders[0]["payable"]}]
    assert (rate.evidence["paid_orders"], rate.evidence["refunded_orders"]) == (2, 1)
    # and below the minimum of orders (the default 5) it does not count
    default = {m.kind: m for m in await signals.measure(row, thresholds, since=_since())}
    assert (default[SignalKind.HIGH_REFUND_RATE].value, default[SignalKind.HIGH_REFUND_RATE].tripped) == (
        5000,
        False,
    )


def _since():
    return clock.now() - signals.WINDOW


async def test_a_burst_from_one_address_a_shared_device_and_a_phone_prefix_are_measured(
    client, simulator, settings
):
    # given a KOL; six anonymous touches from one network address within a minute, two from
    # another; and three shoppers who touched from one phone, with numbers of one prefix
    await kol_catalog()
    amy = await Shopper.start(client, simulator, "amy")
    kol = await approved_kol(user_id=amy.user_id)
    minute = clock.now().replace(second=5, microsecond=0) - timedelta(hours=2)
    for n in range(6):
        await _touch(kol.code, ip="10.1.2.3", at=minute + timedelta(seconds=n * 5))
    for n in range(2):
        await _touch(kol.code, ip="10.9.9.9", at=minute + timedelta(seconds=n))
    names = ("ben", "carol", "dan")
    ring = [
        await Shopper.start(
            client, simulator, name, {**ELSEWHERE, "phone": f"1391234{n:04d}", "detail": f"{n} 号"}
        )
        for n, name in enumerate(names)
    ]
    for shopper in ring:
        await _touch(kol.code, user_id=shopper.user_id, device="iphone-abc-123", ip="")
    row = await Kol.get(id=kol.id)
    thresholds = replace(signals.Thresholds.of(settings), touches_per_ip_minute=6, per_phone_prefix=3)
    # when it is measured
    measured = {m.kind: m for m in await signals.measure(row, thresholds, since=_since())}
    # then the burst: six in one minute from 10.1.2.* (shown in Beijing time)
    burst = measured[SignalKind.TOUCH_BURST]
    assert (burst.value, burst.tripped) == (6, True)
    assert burst.evidence["bursts"][0] == {
        "ip": "10.1.2.*",
        "minute": f"{clock.to_shanghai(minute):%Y-%m-%d %H:%M}",
        "touches": 6,
    }
    # and the device: three accounts on one (masked)
    device = measured[SignalKind.SHARED_DEVICE]
    assert (device.value, device.tripped) == (3, True)
    assert device.evidence["groups"] == [{"device": "ipho***", "user_ids": sorted(s.user_id for s in ring)}]
    # and the phone prefix: three accounts on 1391234
    prefix = measured[SignalKind.SHARED_PHONE_PREFIX]
    assert (prefix.value, prefix.tripped) == (3, True)
    assert prefix.evidence["groups"][0] == {
        "prefix": "1391234****",
        "user_ids": sorted(s.user_id for s in ring),
    }
    # and no address is shared
    assert (measured[SignalKind.SHARED_ADDRESS].value, measured[SignalKind.SHARED_ADDRESS].tripped) == (
        1,
        False,
    )


async def _touch(code: str, *, ip: str, at=None, user_id: int | None = None, device: str = "") -> None:
    await touches.touch(
        touch=touches.Touch(
            code=code, channel=TouchChannel.LINK, user_id=user_id, ip=ip, device=device, at=at
        ),
        protection_days=30,
    )


async def test_two_runs_opening_a_flag_at_once_open_one(client, simulator, settings):
    # given a ring whose signals tripped, measured by two runs before either flagged it
    kol, _ = await _ring(client, simulator, "ben", "carol", "dan")
    row = await Kol.get(id=kol.id)
    tripped = [
        m for m in await signals.measure(row, signals.Thresholds.of(settings), since=_since()) if m.tripped
    ]
    assert [m.kind for m in tripped] == [SignalKind.SHARED_ADDRESS]
    # when both open the flag at once
    opened = await asyncio.gather(*(signals.open_flag(kol_id=kol.id, tripped=tripped) for _ in range(2)))
    # then one did: one flag, the earnings held once, the books balanced
    assert sorted(opened, key=lambda x: x is None)[1] is None and any(opened)
    [flag] = await KolFlag.filter(kol_id=kol.id)
    assert flag.held == await _pending(kol.id) and await _statuses(kol.id) == {KolCommissionStatus.HELD}
    await books_balanced()


async def test_two_reviewers_at_once_decide_once(client, simulator, settings):
    # given a ring flagged, its earnings held
    kol, _ = await _ring(client, simulator, "ben", "carol", "dan")
    held = await _pending(kol.id)
    [flag_id] = (await signals.scan_now(settings=settings)).flagged
    # when one reviewer releases it as another voids it
    outcomes = await asyncio.gather(
        flags.release(flag_id=flag_id, note="真实客户", actor="staff:7"),
        flags.void(flag_id=flag_id, note="刷单", actor="staff:8"),
        return_exceptions=True,
    )
    # then one decided, the other was told so, and the commissions moved once
    [decided] = [o for o in outcomes if isinstance(o, flags.Decided)]
    [refused] = [o for o in outcomes if isinstance(o, CommerceError)]
    assert (decided.amount, refused.code) == (held, "kol_flag_already_decided")
    expected = (
        KolCommissionStatus.PENDING if decided.status is FlagStatus.RELEASED else KolCommissionStatus.VOIDED
    )
    assert await _statuses(kol.id) == {expected}
    assert (await KolFlag.get(id=flag_id)).status is decided.status
    await books_balanced()
