"""Touches at volume, on a real database and Redis: buffered by `record`, written by `flush` in
batches (rows, each shopper's first and last touch, the funnel's roll-ups), taken once by
flushers racing each other, nothing lost or written twice when a flusher fails, a KOL's own
touch kept but binding nobody, and a code no KOL owns refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from commerce import clock
from commerce.errors import CommerceError
from commerce.referrals import attribution, buffer, touches
from commerce.referrals.attribution import Rules
from commerce.referrals.models import Kol, ReferralCustomer, ReferralDaily, ReferralTouch
from commerce.referrals.states import AttributionRule, KolStatus, TouchChannel
from scheduler import JOBS, run_job_once
from tests.referral_builders import approved_kol, touched

PROTECTION = 30
RULES = Rules(window_days=7, protection_days=PROTECTION, two_levels=False)
NOON = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _touch(kol, user_id=None, *, at, channel=TouchChannel.LINK, visitor="", ip="", device=""):
    return touches.Touch(
        code=kol.code, channel=channel, user_id=user_id, visitor=visitor, ip=ip, device=device, at=at
    )


async def _flush(core, batch: int = 5000) -> int:
    return await touches.flush_all(core.redis, protection_days=PROTECTION, batch=batch)


async def _funnel(kol_id: int) -> dict[str, tuple[int, int, int]]:
    """channel -> (touches, follows, customers), summed over days."""
    out: dict[str, tuple[int, int, int]] = {}
    for row in await ReferralDaily.filter(kol_id=kol_id):
        t, f, c = out.get(row.channel.value, (0, 0, 0))
        out[row.channel.value] = (t + row.touches, f + row.follows, c + row.customers)
    return out


async def test_buffered_touches_are_written_by_a_flush(core):
    # given a KOL and, within the hour, an anonymous visitor, two shoppers (one twice) and the
    # KOL themself opening her links
    amy = await approved_kol(user_id=1, name="阿美")
    at = [NOON + timedelta(minutes=m) for m in range(5)]
    await touches.record(core.redis, touch=_touch(amy, None, at=at[0], visitor="anon-1", ip="1.2.3.4"))
    await touches.record(core.redis, touch=_touch(amy, 100, at=at[1], device="iPhone 15"))
    await touches.record(core.redis, touch=_touch(amy, 101, at=at[2], channel=TouchChannel.MP_CODE))
    await touches.record(core.redis, touch=_touch(amy, 100, at=at[3]))
    own = await touches.record(core.redis, touch=_touch(amy, 1, at=at[4]))
    assert own.own
    # then nothing is written before the flush
    assert await ReferralTouch.all().count() == 0 and await buffer.buffered(core.redis) == 5
    # when the flush runs
    assert await _flush(core) == 5
    # then every touch is a row, with what the visitor sent
    rows = (
        await ReferralTouch.all().order_by("at").values_list("user_id", "channel", "visitor", "ip", "device")
    )
    assert rows == [
        (None, TouchChannel.LINK, "anon-1", "1.2.3.4", ""),
        (100, TouchChannel.LINK, "", "", "iPhone 15"),
        (101, TouchChannel.MP_CODE, "", "", ""),
        (100, TouchChannel.LINK, "", "", ""),
        (1, TouchChannel.LINK, "", "", ""),
    ]
    # each shopper's first and last touch; the KOL herself is nobody's customer
    customers = {
        c.user_id: (c.first_kol_id, c.first_at, c.last_at, c.protected_until)
        for c in await ReferralCustomer.all()
    }
    assert customers == {
        100: (amy.id, at[1], at[3], at[1] + timedelta(days=PROTECTION)),
        101: (amy.id, at[2], at[2], at[2] + timedelta(days=PROTECTION)),
    }
    # and the funnel counts 4 link touches and 1 mini-program-code touch, two new customers
    assert await _funnel(amy.id) == {"link": (4, 0, 1), "mp_code": (1, 0, 1)}
    # and the buffer is empty: a second flush writes nothing
    assert await _flush(core) == 0 and await ReferralTouch.all().count() == 5


async def test_one_shopper_touching_a_then_b_in_one_batch_stays_a_customer_of_a(core):
    # given two KOLs; carol touches A then B an hour later, pushed out of order, dave (a
    # customer of A long ago, protection over) touches B then A
    a = await approved_kol(user_id=1, name="阿美")
    b = await approved_kol(user_id=2, name="阿斌")
    await touched(a, 301, at=NOON - timedelta(days=40))
    await touches.record(core.redis, touch=_touch(b, 300, at=NOON + timedelta(hours=1)))
    await touches.record(core.redis, touch=_touch(a, 300, at=NOON))
    await touches.record(core.redis, touch=_touch(b, 301, at=NOON))
    await touches.record(core.redis, touch=_touch(a, 301, at=NOON + timedelta(hours=2)))
    # when they are flushed in one batch
    await _flush(core)
    # then carol was first brought by A (protected), her last touch B's
    carol = await ReferralCustomer.get(user_id=300)
    assert (carol.first_kol_id, carol.first_at, carol.last_kol_id, carol.last_at) == (
        a.id,
        NOON,
        b.id,
        NOON + timedelta(hours=1),
    )
    # and dave's last touch is A's (the later one), his first still A's from long ago
    dave = await ReferralCustomer.get(user_id=301)
    assert (dave.first_at, dave.last_kol_id, dave.last_at) == (
        NOON - timedelta(days=40),
        a.id,
        NOON + timedelta(hours=2),
    )
    # and an order now goes to A for carol (protection), to A for dave (last touch)
    now = NOON + timedelta(hours=3)
    assert (await attribution.resolve(user_id=300, now=now, rules=RULES)).rule is AttributionRule.PROTECTED
    for_dave = await attribution.resolve(user_id=301, now=now, rules=RULES)
    assert (for_dave.kol_id, for_dave.rule) == (a.id, AttributionRule.LAST_TOUCH)
    # B's funnel: two touches, no new customer; A's: two touches (and dave's old one), carol new
    assert await _funnel(b.id) == {"link": (2, 0, 0)}
    assert await _funnel(a.id) == {"link": (3, 0, 2)}


async def test_a_checkout_sees_a_buffered_touch_before_the_flush(core):
    # given erin, a customer of A (protection over, last touch 40 days ago), who touches B now
    a = await approved_kol(user_id=1, name="阿美")
    b = await approved_kol(user_id=2, name="阿斌")
    now = clock.now()
    await touched(a, 400, at=now - timedelta(days=40))
    await touches.record(core.redis, touch=_touch(b, 400, at=now - timedelta(seconds=1)))
    # and frank, nobody's customer yet, who touches A then B (buffered only)
    await touches.record(core.redis, touch=_touch(a, 401, at=now - timedelta(seconds=3)))
    await touches.record(core.redis, touch=_touch(b, 401, at=now - timedelta(seconds=2)))
    # when they check out before any flush
    erin = await attribution.resolve(user_id=400, now=now, rules=RULES)
    frank = await attribution.resolve(user_id=401, now=now, rules=RULES)
    # then erin's order is B's (her newest touch, in Redis), frank's A's (who first brought him)
    assert (erin.kol_id, erin.rule) == (b.id, AttributionRule.LAST_TOUCH)
    assert (frank.kol_id, frank.rule) == (a.id, AttributionRule.PROTECTED)
    # and after the flush the database says the same
    await _flush(core)
    assert (await attribution.resolve(user_id=400, now=now, rules=RULES)).kol_id == b.id
    assert (await attribution.resolve(user_id=401, now=now, rules=RULES)).kol_id == a.id


async def test_a_kols_own_touch_is_kept_but_binds_nobody(core):
    amy = await approved_kol(user_id=7, name="阿美")
    await touches.record(core.redis, touch=_touch(amy, 7, at=NOON))
    assert await buffer.pending_of(7) is None  # nothing a checkout could read
    await _flush(core)
    assert await ReferralTouch.filter(kol_id=amy.id, user_id=7).count() == 1
    assert not await ReferralCustomer.filter(user_id=7).exists()
    assert await attribution.resolve(user_id=7, now=NOON + timedelta(hours=1), rules=RULES) is None


async def test_a_code_no_approved_kol_owns_is_refused_and_not_recorded(core):
    amy = await approved_kol(user_id=1, name="阿美")
    await Kol.filter(id=amy.id).update(status=KolStatus.SUSPENDED)
    for code in (amy.code, "NOSUCH99", ""):
        with pytest.raises(CommerceError) as refused:
            await touches.record(core.redis, touch=touches.Touch(code=code, channel=TouchChannel.LINK))
        assert refused.value.code == "referral_code_invalid"
    assert await buffer.buffered(core.redis) == 0


async def test_a_batch_a_failed_flush_left_is_written_once(core):
    # given touches, and a flush whose write fails before committing
    amy = await approved_kol(user_id=1, name="阿美")
    for i in range(3):
        await touches.record(core.redis, touch=_touch(amy, 500 + i, at=NOON + timedelta(seconds=i)))

    async def broken(items):
        raise ConnectionError("database gone")

    with pytest.raises(ConnectionError):
        await buffer.flush(core.redis, write=broken, batch=10)
    assert await ReferralTouch.all().count() == 0 and await buffer.buffered(core.redis) == 0
    # when the next flush job runs, it recovers the batch
    assert await _flush(core) == 3
    assert await ReferralTouch.all().count() == 3
    # given a flush that committed but died before acknowledging its batch
    for i in range(2):
        await touches.record(core.redis, touch=_touch(amy, 600 + i, at=NOON + timedelta(minutes=i)))

    async def committed_then_died(items):
        await touches._write(items, PROTECTION)
        raise ConnectionError("process killed after the commit")

    with pytest.raises(ConnectionError):
        await buffer.flush(core.redis, write=committed_then_died, batch=10)
    # then the recovery sees it committed and writes nothing twice
    await _flush(core)
    assert await ReferralTouch.all().count() == 5
    assert sum(t for t, _, _ in (await _funnel(amy.id)).values()) == 5
    # and a batch a dead process took (never acknowledged) is taken over after the lease
    await touches.record(core.redis, touch=_touch(amy, 700, at=NOON))
    await core.redis.register_script(buffer._DRAIN)(
        keys=[buffer.BUFFER, buffer.BATCH + "dead", buffer.FLUSHING],
        args=[10, clock.now().timestamp(), "dead"],
    )
    assert await _flush(core) == 0  # still within its lease
    with clock.frozen(clock.now() + timedelta(seconds=buffer.LEASE_SECONDS + 1)):
        assert await _flush(core) == 1
    assert await ReferralTouch.filter(user_id=700).count() == 1


async def test_flushers_racing_each_take_every_touch_once(core):
    # given 3 KOLs and 2,400 touches from 600 different shoppers (4 each, KOLs in turn)
    kols = [await approved_kol(user_id=i, name=f"达人{i}") for i in (1, 2, 3)]
    pushes = []
    for n in range(2400):
        shopper = 1000 + n % 600
        at = NOON + timedelta(seconds=n)
        pushes.append(_touch(kols[n % 3], shopper, at=at, visitor=f"v{n}"))
    for start in range(0, len(pushes), 20):
        await asyncio.gather(*(touches.record(core.redis, touch=t) for t in pushes[start : start + 20]))
    # when four flushers race, 150 touches a batch
    written = await asyncio.gather(*(_flush(core, batch=150) for _ in range(4)))
    # then each touch was written once
    assert sum(written) == 2400
    visitors = await ReferralTouch.all().values_list("visitor", flat=True)
    assert sorted(visitors) == sorted(f"v{n}" for n in range(2400))
    # each shopper is one customer, first brought by their first touch's KOL, last touched by
    # their last one
    customers = await ReferralCustomer.all()
    assert len(customers) == 600
    for c in customers:
        n = c.user_id - 1000
        assert (c.first_kol_id, c.first_at) == (kols[n % 3].id, NOON + timedelta(seconds=n))
        assert c.last_at == NOON + timedelta(seconds=n + 1800)
    # and the roll-ups add up
    days = await ReferralDaily.all()
    assert (sum(d.touches for d in days), sum(d.customers for d in days)) == (2400, 600)


async def test_the_scheduler_flushes_buffered_touches(core):
    amy = await approved_kol(user_id=1, name="阿美")
    await touches.record(core.redis, touch=_touch(amy, 42, at=NOON))
    schedule = next(s for s in JOBS if s.name == "flush_referral_touches")
    assert await run_job_once(core, schedule)
    assert await ReferralTouch.filter(kol_id=amy.id, user_id=42).count() == 1
