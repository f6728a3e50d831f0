"""KOLs through their services: the application and its review (two reviewers racing on
MariaDB: one wins, the other is told), the platform's invitation, the default tier made on
first use, tier changes, the KOL who brought an applicant (their code if approved, else the
KOL who first brought them as a customer, never themself), and tiers with their rates."""

from __future__ import annotations

import asyncio
import re

import pytest

from commerce.audit.models import AuditEntry
from commerce.catalog import queries as catalog
from commerce.errors import CommerceError
from commerce.outbox import OutboxEvent
from commerce.referrals import kol_queries, kols, tiers
from commerce.referrals.kols import Application
from commerce.referrals.models import Kol, KolEvent, KolTier
from commerce.referrals.states import KolStatus
from commerce.users.models import User
from tests.concurrency import needs_real_database
from tests.factories import seed_small_catalog
from tests.referral_builders import approved_kol, touched

DEFAULT = tiers.DefaultTier("标准", 500)


async def refused(call) -> str:
    """The error code the call was refused with ("ok" when it was not)."""
    try:
        await call
    except CommerceError as error:
        return error.code
    return "ok"


def _application(name: str = "林小美", **extra) -> Application:
    return Application(
        name=name, phone=extra.pop("phone", "13912345678"), intro=extra.pop("intro", "小红书博主"), **extra
    )


async def _user(n: int) -> int:
    return (await User.create(openid=f"o-kol-{n:04d}-{'x' * 16}", nickname=f"达人{n}")).id


async def _applied(n: int, **extra) -> kol_queries.KolView:
    return await kols.apply(user_id=await _user(n), application=_application(**extra))


async def _moves(kol_id: int) -> list[tuple[str, str, str]]:
    rows = await KolEvent.filter(kol_id=kol_id).order_by("id")
    return [(str(r.type), r.from_status, r.to_status) for r in rows]


async def test_an_application_is_refused_applied_again_approved_suspended_and_reinstated(db):
    # given a shopper who applies
    applied = await _applied(1)
    assert (applied.status, applied.tier_id, applied.parent_kol_id) == (KolStatus.APPLIED, None, None)
    assert re.fullmatch(r"[ABCDEFGHJKLMNPQRSTUVWXYZ2-9]{8}", applied.code)
    # when staff refuse it, she applies again, staff approve it (the default tier, made now)
    no = await kols.refuse(kol_id=applied.id, reason="介绍太简单", actor="staff:1")
    assert (no.status, no.reason) == (KolStatus.REFUSED, "介绍太简单")
    again = await kols.apply(user_id=applied.user_id, application=_application(intro="抖音穿搭，粉丝 10 万"))
    assert (again.status, again.reason, again.intro, again.code) == (
        KolStatus.APPLIED,
        "",
        "抖音穿搭，粉丝 10 万",
        applied.code,
    )
    assert not await KolTier.exists()
    yes = await kols.approve(kol_id=applied.id, default=DEFAULT, actor="staff:2")
    tier = await KolTier.get(name="标准")
    assert (yes.status, yes.tier_id, yes.tier_name, tier.rate_bps) == (
        KolStatus.APPROVED,
        tier.id,
        "标准",
        500,
    )
    # and suspends, then reinstates (in the tier she had)
    await kols.suspend(kol_id=applied.id, reason="刷单嫌疑", actor="staff:1")
    back = await kols.reinstate(kol_id=applied.id, actor="staff:1")
    assert (back.status, back.reason, back.tier_id) == (KolStatus.APPROVED, "", tier.id)
    # then every step is on her timeline, audited, and published
    assert await _moves(applied.id) == [
        ("applied", "", "applied"),
        ("status_changed", "applied", "refused"),
        ("applied", "refused", "applied"),
        ("status_changed", "applied", "approved"),
        ("status_changed", "approved", "suspended"),
        ("status_changed", "suspended", "approved"),
    ]
    actions = await AuditEntry.filter(object_type="kol").order_by("id").values_list("action", flat=True)
    assert actions == ["kol.apply", "kol.refuse", "kol.apply", "kol.approve", "kol.suspend", "kol.reinstate"]
    topics = await OutboxEvent.filter(topic__startswith="kol.").order_by("id").values_list("topic", flat=True)
    assert topics == [
        "kol.applied",
        "kol.reviewed",
        "kol.applied",
        "kol.reviewed",
        "kol.reviewed",
        "kol.reviewed",
    ]


async def test_reviews_out_of_turn_and_bad_input_are_refused(db):
    applied = await _applied(1)
    assert await refused(kols.suspend(kol_id=applied.id, reason="x", actor="staff:1")) == "kol_invalid_status"
    assert await refused(kols.reinstate(kol_id=applied.id, actor="staff:1")) == "kol_invalid_status"
    # and a decision taken already is said to be taken (a second click, a second reviewer)
    other = await _applied(3)
    await kols.approve(kol_id=other.id, default=DEFAULT, actor="staff:1")
    for again in (
        kols.approve(kol_id=other.id, default=DEFAULT, actor="staff:2"),
        kols.refuse(kol_id=other.id, reason="晚了", actor="staff:2"),
        kols.reinstate(kol_id=other.id, actor="staff:2"),
    ):
        assert await refused(again) == "kol_already_reviewed"
    assert (
        await refused(kols.refuse(kol_id=applied.id, reason="  ", actor="staff:1")) == "kol_reason_required"
    )
    assert (
        await refused(kols.refuse(kol_id=applied.id, reason="长" * 201, actor="staff:1"))
        == "kol_reason_required"
    )
    assert (
        await refused(kols.approve(kol_id=applied.id, tier_id=999, default=DEFAULT, actor="s"))
        == "kol_tier_not_found"
    )
    assert await refused(kols.approve(kol_id=99999, default=DEFAULT, actor="staff:1")) == "kol_not_found"
    assert (
        await refused(kols.apply(user_id=applied.user_id, application=_application()))
        == "kol_already_applied"
    )
    user = await _user(2)
    for bad in (_application(phone="1381234567"), _application(name=" "), _application(intro="介" * 201)):
        assert await refused(kols.apply(user_id=user, application=bad)) == "kol_application_invalid"
    assert not await Kol.exists(user_id=user)


@needs_real_database
async def test_two_reviewers_at_once_one_wins_the_other_is_told(db):
    # given ten applications, each reviewed by two staff at the same moment (approve vs refuse)
    applications = [await _applied(n) for n in range(1, 11)]
    await tiers.default_tier_id(DEFAULT)

    results = await asyncio.gather(
        *(
            refused(call)
            for a in applications
            for call in (
                kols.approve(kol_id=a.id, default=DEFAULT, actor="staff:1"),
                kols.refuse(kol_id=a.id, reason="不符合要求", actor="staff:2"),
            )
        )
    )
    # then for each exactly one move happened, the other reviewer was told it was handled
    for n, a in enumerate(applications):
        pair = sorted(results[2 * n : 2 * n + 2])
        assert pair == ["kol_already_reviewed", "ok"], pair
        assert len(await _moves(a.id)) == 2
        audited = await AuditEntry.filter(object_type="kol", object_id=str(a.id)).count()
        assert audited == 2  # the application and one review


@needs_real_database
async def test_one_shopper_applying_twice_at_once_gets_one_application(db):
    users = [await _user(n) for n in range(1, 6)]
    results = await asyncio.gather(
        *(refused(kols.apply(user_id=u, application=_application())) for u in users for _ in range(2)),
        return_exceptions=True,
    )
    assert await Kol.all().count() == 5
    assert sorted(str(r) for r in results).count("kol_already_applied") == 5


async def test_the_platform_invites_a_user_approved_at_once(db):
    user = await _user(1)
    silver = await tiers.create_tier(name="银牌", rate_bps=800, actor="staff:1")
    kol = await kols.invite(
        user_id=user, application=_application(), tier_id=silver.id, default=DEFAULT, actor="staff:1"
    )
    assert (kol.status, kol.tier_name, kol.reviewed_at is not None) == (KolStatus.APPROVED, "银牌", True)
    assert await _moves(kol.id) == [("invited", "", "approved")]
    assert await OutboxEvent.filter(topic="kol.reviewed").count() == 1
    # an invitation of a user who applied already, or of nobody, is refused
    again = await refused(
        kols.invite(user_id=user, application=_application(), tier_id=None, default=DEFAULT, actor="s")
    )
    assert again == "kol_already_applied"
    ghost = await refused(
        kols.invite(user_id=99999, application=_application(), tier_id=None, default=DEFAULT, actor="s")
    )
    assert ghost == "shopper_not_found"


async def test_a_kol_changes_tier(db):
    applied = await _applied(1)
    assert await refused(kols.change_tier(kol_id=applied.id, tier_id=1, actor="staff:1")) in (
        "kol_invalid_status",
        "kol_tier_not_found",
    )
    kol = await kols.approve(kol_id=applied.id, default=DEFAULT, actor="staff:1")
    gold = await tiers.create_tier(name="金牌", rate_bps=1200, second_level_bps=300, actor="staff:1")
    moved = await kols.change_tier(kol_id=kol.id, tier_id=gold.id, actor="staff:1")
    assert moved.tier_name == "金牌"
    assert (await KolEvent.filter(kol_id=kol.id, type="tier_changed").first()).params == {
        "from": kol.tier_id,
        "to": gold.id,
    }
    assert (
        await refused(kols.change_tier(kol_id=kol.id, tier_id=999, actor="staff:1")) == "kol_tier_not_found"
    )
    listed = {t.name: t.kols for t in await tiers.tiers()}
    assert listed == {"标准": 0, "金牌": 1}


async def test_the_kol_who_brought_an_applicant(db):
    # given two approved KOLs, A and B, and C who was first brought as a customer by B
    a = await approved_kol(user_id=await _user(1), name="阿美")
    b = await approved_kol(user_id=await _user(2), name="阿斌")
    c_user = await _user(3)
    await touched(b, c_user)
    # when C applies with A's code, A brought her; without a code, B (who first brought her)
    with_code = await kols.apply(user_id=c_user, application=_application(referrer_code=a.code.lower()))
    assert with_code.parent_kol_id == a.id and with_code.parent_name == "阿美"
    await kols.refuse(kol_id=with_code.id, reason="重填", actor="staff:1")
    without = await kols.apply(user_id=c_user, application=_application())
    assert without.parent_kol_id == b.id
    # and a suspended KOL's code, or an unknown one, falls back to B too
    await kols.suspend(kol_id=a.id, reason="暂停", actor="staff:1")
    await kols.refuse(kol_id=without.id, reason="重填", actor="staff:1")
    suspended = await kols.apply(user_id=c_user, application=_application(referrer_code=a.code))
    assert suspended.parent_kol_id == b.id
    # and a shopper brought by nobody, with a code that is nobody's, has no parent
    d = await kols.apply(user_id=await _user(4), application=_application(referrer_code="NOBODY99"))
    assert d.parent_kol_id is None


async def test_never_themself_nor_a_kol_they_brought(db):
    # given E, refused, who applies again with their own code: nobody brought them
    e_user = await _user(5)
    e = await kols.apply(user_id=e_user, application=_application())
    await kols.refuse(kol_id=e.id, reason="重填", actor="staff:1")
    own = await kols.apply(user_id=e_user, application=_application(referrer_code=e.code))
    assert own.parent_kol_id is None
    # given F, refused, who had brought G (an approved KOL now)
    f_user = await _user(6)
    f = await kols.apply(user_id=f_user, application=_application())
    await kols.refuse(kol_id=f.id, reason="重填", actor="staff:1")
    g = await approved_kol(user_id=await _user(7), name="阿鸽")
    await Kol.filter(id=g.id).update(parent_kol_id=f.id)  # as when F was an approved KOL
    # when F applies again with G's code, G is not F's parent (no F→G→F loop)
    again = await kols.apply(user_id=f_user, application=_application(referrer_code=g.code))
    assert again.parent_kol_id is None
    # and a KOL's own touch never makes them their own customer
    assert (await touched(g, g.user_id)).own


async def test_tiers_and_their_rates_per_category(db):
    await seed_small_catalog()
    phones = next(line for line in await catalog.category_lines() if line.name.endswith("> 手机"))
    # given a tier
    silver = await tiers.create_tier(name="银牌", rate_bps=800, second_level_bps=200, actor="staff:1")
    assert await refused(tiers.create_tier(name="银牌", rate_bps=1, actor="staff:1")) == "kol_tier_exists"
    for bps in (-1, 10_001):
        assert await refused(tiers.create_tier(name="x", rate_bps=bps, actor="staff:1")) == "kol_tier_invalid"
    assert await refused(tiers.create_tier(name=" ", rate_bps=1, actor="staff:1")) == "kol_tier_invalid"
    # when it is renamed, its rates set, and a category given its own rate, then cleared
    await tiers.rename_tier(tier_id=silver.id, name="银牌达人", actor="staff:1")
    await tiers.set_tier_rates(tier_id=silver.id, rate_bps=900, second_level_bps=100, actor="staff:1")
    with_rate = await tiers.set_category_rate(
        tier_id=silver.id, category_id=phones.id, rate_bps=300, actor="staff:1"
    )
    assert [(c.category_id, c.category, c.rate_bps) for c in with_rate.categories] == [
        (phones.id, phones.name, 300)
    ]
    changed = await tiers.set_category_rate(
        tier_id=silver.id, category_id=phones.id, rate_bps=350, actor="staff:1"
    )
    assert [c.rate_bps for c in changed.categories] == [350]
    assert (
        await refused(tiers.set_category_rate(tier_id=silver.id, category_id=99999, rate_bps=1, actor="s"))
        == "kol_tier_invalid"
    )
    cleared = await tiers.set_category_rate(
        tier_id=silver.id, category_id=phones.id, rate_bps=None, actor="staff:1"
    )
    # then the tier reads as set, and every change was audited
    assert (cleared.name, cleared.rate_bps, cleared.second_level_bps, cleared.categories) == (
        "银牌达人",
        900,
        100,
        [],
    )
    actions = await AuditEntry.filter(object_type="kol_tier").order_by("id").values_list("action", flat=True)
    assert actions == [
        "kol_tier.create",
        "kol_tier.rename",
        "kol_tier.rates",
        "kol_tier.category_rate",
        "kol_tier.category_rate",
        "kol_tier.category_rate_clear",
    ]
    assert await refused(tiers.rename_tier(tier_id=99999, name="x", actor="s")) == "kol_tier_not_found"


@pytest.mark.parametrize("rate", [0, 750])
async def test_the_default_tier_is_made_once_with_the_settings_rate(db, rate):
    default = tiers.DefaultTier("标准", rate)
    first, second = await tiers.default_tier_id(default), await tiers.default_tier_id(default)
    assert first == second and (await KolTier.get(id=first)).rate_bps == rate
