"""Leaders through their services: the application and its review (with staff racing), the
point opened and closed with it, binding shoppers (link, QR scene, point, switching, pending
until sign-in), and the nearest open points by coordinates."""

from __future__ import annotations

import asyncio

import pytest

from commerce.audit.models import AuditEntry
from commerce.community import binding, leaders, points, queries
from commerce.community.errors import LeaderError
from commerce.community.leaders import Application
from commerce.community.models import (
    Leader,
    LeaderBinding,
    LeaderBindingChange,
    LeaderEvent,
    PendingLeaderBinding,
)
from commerce.community.states import BindingSource, LeaderStatus
from commerce.errors import CommerceError
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.models import PickupPoint
from commerce.fulfilment.services import set_pickup_point_active
from commerce.outbox import OutboxEvent
from commerce.users.models import User
from tests.builders import refused
from tests.concurrency import needs_real_database

# Shenzhen, Nanshan: a shopper at the Science Park, leaders a few hundred metres to 20 km away.
HOME = (22.5431, 113.9360)


def _application(name: str = "王芳", lat: float = 22.5450, lng: float = 113.9380, **extra) -> Application:
    fields = {"phone": "13800138000", "address": "南山区科技园 1 号楼下", "opening_hours": "每天 9:00-21:00"}
    return Application(name=name, latitude=lat, longitude=lng, **{**fields, **extra})


async def _user(n: int, unionid: str | None = None) -> int:
    user = await User.create(openid=f"o-user-{n:04d}-{'x' * 16}", unionid=unionid, nickname=f"邻居{n}")
    return user.id


async def _approved(n: int, **kw) -> queries.LeaderView:
    user_id = await _user(n)
    applied = await leaders.apply(user_id=user_id, application=_application(**kw))
    return await leaders.approve(leader_id=applied.id, actor="staff:1")


async def test_an_application_is_reviewed_and_opens_then_closes_its_point(db):
    # given a shopper who applies
    user_id = await _user(1)
    applied = await leaders.apply(user_id=user_id, application=_application())
    point = await PickupPoint.get(id=applied.point.id)
    assert (applied.status, point.active, point.merchant_id) == (LeaderStatus.APPLIED, False, None)
    assert (point.latitude, point.longitude, point.name) == (22.5450, 113.9380, "王芳的自提点")
    # when staff refuse it, the shopper applies again, and staff approve it
    refused_view = await leaders.refuse(leader_id=applied.id, reason="地址不清楚", actor="staff:1")
    assert (refused_view.status, refused_view.reason) == (LeaderStatus.REFUSED, "地址不清楚")
    again = await leaders.apply(user_id=user_id, application=_application(address="南山区科技园 2 号"))
    assert (again.status, again.reason, again.point.address) == (
        LeaderStatus.APPLIED,
        "",
        "南山区科技园 2 号",
    )
    approved = await leaders.approve(leader_id=applied.id, actor="staff:2")
    # then the point is open; suspension closes it, reinstatement opens it again
    assert (approved.status, (await PickupPoint.get(id=applied.point.id)).active) == (
        LeaderStatus.APPROVED,
        True,
    )
    await leaders.suspend(leader_id=applied.id, reason="多次投诉", actor="staff:1")
    assert (await PickupPoint.get(id=applied.point.id)).active is False
    await leaders.reinstate(leader_id=applied.id, actor="staff:1")
    assert (await PickupPoint.get(id=applied.point.id)).active is True
    moves = (
        await LeaderEvent.filter(leader_id=applied.id)
        .order_by("id")
        .values_list("type", "to_status", "actor")
    )
    assert [(str(t), to) for t, to, _ in moves] == [
        ("applied", "applied"),
        ("status_changed", "refused"),
        ("status_changed", "applied"),
        ("status_changed", "approved"),
        ("status_changed", "suspended"),
        ("status_changed", "approved"),
    ]
    topics = (
        await OutboxEvent.filter(topic__startswith="leader.").order_by("id").values_list("topic", flat=True)
    )
    assert topics == [
        "leader.applied",
        "leader.refused",
        "leader.applied",
        "leader.approved",
        "leader.suspended",
        "leader.reinstated",
    ]
    actions = await AuditEntry.filter(object_type="leader").order_by("id").values_list("action", flat=True)
    assert actions == ["leader.refuse", "leader.approve", "leader.suspend", "leader.approve"]


async def test_review_refuses_what_the_lifecycle_does_not_allow(db):
    user_id = await _user(1)
    applied = await leaders.apply(user_id=user_id, application=_application())
    with pytest.raises(CommerceError) as caught:
        await leaders.suspend(leader_id=applied.id, reason="x", actor="staff:1")
    assert caught.value.code == "leader_invalid_status"
    with pytest.raises(CommerceError) as caught:
        await leaders.refuse(leader_id=applied.id, reason="  ", actor="staff:1")
    assert caught.value.code == "leader_reason_required"
    await leaders.approve(leader_id=applied.id, actor="staff:1")
    with pytest.raises(CommerceError) as caught:  # the second click of a slow page
        await leaders.approve(leader_id=applied.id, actor="staff:2")
    assert caught.value.code == "leader_invalid_status"
    with pytest.raises(CommerceError) as caught:
        await leaders.approve(leader_id=999, actor="staff:2")
    assert caught.value.code == "leader_not_found"


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "12345"},
        {"name": ""},
        {"lat": 0.0, "lng": 0.0},
        {"lat": 91.0},
        {"lat": float("nan")},
        {"photo": "javascript:alert(1) x"},
    ],
)
async def test_an_application_must_say_who_and_where(db, change):
    application = _application(**change)
    with pytest.raises(CommerceError) as caught:
        await leaders.apply(user_id=await _user(1), application=application)
    assert caught.value.code in ("leader_application_invalid", "location_invalid")
    assert not await PickupPoint.exists()


async def test_a_shopper_binds_by_link_then_switches_by_qr_scene_and_point(db):
    # given two approved leaders and a shopper
    first, second = await _approved(1, name="王芳"), await _approved(2, name="李强", lat=22.55, lng=113.95)
    shopper = await _user(3)
    # when the shopper opens the first's share link, then scans the second's code
    bound = await binding.bind_by_share_code(
        user_id=shopper, share_code=first.share_code.lower(), source=BindingSource.LINK
    )
    assert (bound.leader.leader_id, bound.changed) == (first.id, True)
    again = await binding.bind_by_share_code(
        user_id=shopper, share_code=first.share_code, source=BindingSource.LINK
    )
    assert again.changed is False
    switched = await binding.bind_by_scene(user_id=shopper, scene=f"qrscene_leader_{second.share_code}")
    back = await binding.bind_by_point(user_id=shopper, pickup_point_id=first.point.id)
    # then one binding, its history of three takes, and the bound leader is the latest
    assert (switched.leader.leader_id, back.leader.leader_id) == (second.id, first.id)
    assert await LeaderBinding.filter(user_id=shopper).count() == 1
    history = (
        await LeaderBindingChange.filter(user_id=shopper)
        .order_by("id")
        .values_list("leader_id", "previous_leader_id", "source")
    )
    assert [(a, b, str(c)) for a, b, c in history] == [
        (first.id, None, "link"),
        (second.id, first.id, "qr"),
        (first.id, second.id, "chosen"),
    ]
    found = await queries.bound_leader(shopper)
    assert (found.leader_id, found.point.id, found.source) == (first.id, first.point.id, BindingSource.CHOSEN)
    assert [c.user_id for c in await queries.customers_of(first.id)] == [shopper]
    assert await queries.customers_count(second.id) == 0


async def test_no_binding_to_a_suspended_unknown_or_own_leader(db):
    leader = await _approved(1)
    applied = await leaders.apply(user_id=await _user(2), application=_application(name="张三"))
    shopper = await _user(3)
    await binding.bind_by_share_code(user_id=shopper, share_code=leader.share_code, source=BindingSource.LINK)
    await leaders.suspend(leader_id=leader.id, reason="暂停营业", actor="staff:1")
    for n, code in enumerate((leader.share_code, applied.share_code, "NOSUCH99")):
        with pytest.raises(CommerceError) as caught:
            await binding.bind_by_share_code(
                user_id=await _user(4 + n), share_code=code, source=BindingSource.LINK
            )
        assert refused(caught, LeaderError.NOT_FOUND)
    # a suspended leader's shoppers stay bound, but have no leader to be stamped on an order
    assert await LeaderBinding.filter(user_id=shopper).exists()
    assert await queries.bound_leader(shopper) is None
    await leaders.reinstate(leader_id=leader.id, actor="staff:1")
    assert (await queries.bound_leader(shopper)).leader_id == leader.id
    with pytest.raises(CommerceError) as caught:
        await binding.bind_by_share_code(
            user_id=leader.user_id, share_code=leader.share_code, source=BindingSource.LINK
        )
    assert caught.value.code == "leader_self_binding"


async def test_a_scan_before_sign_in_binds_at_sign_in_once(db):
    leader = await _approved(1)
    # given a follower (unionid U) who scanned before ever signing in
    assert (
        await binding.remember_scan(unionid="U-neighbour", scene=f"leader_{leader.share_code}") == leader.name
    )
    assert await binding.remember_scan(unionid="U-neighbour", scene="leader_NOSUCH99") is None
    # when they sign in (the shopper with that unionid), twice
    shopper = await _user(2, unionid="U-neighbour")
    first = await binding.bind_pending(user_id=shopper)
    second = await binding.bind_pending(user_id=shopper)
    # then they are bound once, by QR, and nothing waits any more
    assert (first.leader.leader_id, first.leader.source, second) == (leader.id, BindingSource.QR, None)
    assert not await PendingLeaderBinding.exists()


async def test_nearest_points_by_distance_open_ones_only(db):
    # given leaders around HOME: ~300 m, ~1.6 km, ~5 km, ~25 km; one suspended; one applying
    near = await _approved(1, name="近", lat=22.5450, lng=113.9380)
    mid = await _approved(2, name="中", lat=22.5550, lng=113.9450)
    far = await _approved(3, name="远", lat=22.5800, lng=113.9700)
    very_far = await _approved(4, name="很远", lat=22.7300, lng=114.0300)
    closed = await _approved(5, name="暂停", lat=22.5432, lng=113.9361)
    await leaders.suspend(leader_id=closed.id, reason="休息", actor="staff:1")
    await leaders.apply(
        user_id=await _user(6), application=_application(name="申请中", lat=22.5431, lng=113.9361)
    )
    # and an approved leader's point closed, the suspended one's open: whatever did it (the
    # pickup-points page may not: the leader's review does), a closed point is not offered, nor
    # a suspended leader's open one
    shut = await _approved(7, name="门店关闭", lat=22.5433, lng=113.9362)
    with pytest.raises(CommerceError) as caught:
        await set_pickup_point_active(
            point_id=closed.point.id, staff_merchant_id=None, active=True, actor="staff:1"
        )
    assert refused(caught, FulfilmentError.LEADER_POINT_MANAGED)
    await PickupPoint.filter(id=shut.point.id).update(active=False)  # as rows an older version left
    await PickupPoint.filter(id=closed.point.id).update(active=True)
    # when the shopper asks for the nearest three, then all of them
    three = await points.nearest_points(latitude=HOME[0], longitude=HOME[1], limit=3)
    every = await points.nearest_points(latitude=HOME[0], longitude=HOME[1], limit=10)
    # then nearest first, with distances in metres; closed and unapproved points never show
    assert [p.leader_id for p in three] == [near.id, mid.id, far.id]
    assert [p.leader_id for p in every] == [near.id, mid.id, far.id, very_far.id]
    assert [p.distance_m for p in every] == sorted(p.distance_m for p in every)
    assert 250 < every[0].distance_m < 350 and 20_000 < every[3].distance_m < 25_000
    assert round(points.distance_m(*HOME, 22.5450, 113.9380)) == every[0].distance_m
    assert (
        await points.nearest_points(latitude=HOME[0], longitude=HOME[1], limit=10, max_radius_m=2000)
        == every[:2]
    )


@needs_real_database
async def test_two_staff_approving_at_once_one_wins(db):
    # given many applications, each approved by two staff at the same instant
    applied = [
        await leaders.apply(user_id=await _user(n), application=_application(name=f"团长{n}"))
        for n in range(8)
    ]

    async def approve(leader_id: int, staff: int) -> str:
        try:
            await leaders.approve(leader_id=leader_id, actor=f"staff:{staff}")
            return "approved"
        except CommerceError as error:
            return error.code

    results = await asyncio.gather(*(approve(a.id, s) for a in applied for s in (1, 2)))
    # then each application was approved once, the other told it was handled
    for n in range(len(applied)):
        assert sorted(results[2 * n : 2 * n + 2]) == ["approved", "leader_already_reviewed"]
    for a in applied:
        assert await LeaderEvent.filter(leader_id=a.id, to_status="approved").count() == 1
    assert await OutboxEvent.filter(topic="leader.approved").count() == len(applied)


@needs_real_database
async def test_many_shoppers_binding_and_switching_at_once(db):
    first, second = await _approved(1), await _approved(2, name="李强")
    shoppers = [await _user(10 + n) for n in range(12)]

    async def take(user_id: int, leader: queries.LeaderView) -> int:
        bound = await binding.bind_by_share_code(
            user_id=user_id, share_code=leader.share_code, source=BindingSource.LINK
        )
        return bound.leader.leader_id

    # when every shopper binds to both leaders at the same instant
    await asyncio.gather(*(take(u, leader) for u in shoppers for leader in (first, second)))
    # then each has one binding, and a history whose last take is the binding in force
    for user_id in shoppers:
        current = await LeaderBinding.get(user_id=user_id)
        history = await LeaderBindingChange.filter(user_id=user_id).order_by("-id").first()
        assert history.leader_id == current.leader_id
    assert await LeaderBinding.all().count() == len(shoppers)


async def test_a_leader_moving_their_point_is_found_at_the_new_place(db):
    # given an approved leader ~300 m from HOME
    leader = await _approved(1, lat=22.5450, lng=113.9380)
    assert [p.leader_id for p in await points.nearest_points(latitude=HOME[0], longitude=HOME[1])] == [
        leader.id
    ]
    # when they move their point 30 km away (an approved leader edits their point's details)
    moved = await leaders.apply(user_id=leader.user_id, application=_application(lat=22.80, lng=114.20))
    # then it stays approved and open, and is found near its new place only
    assert (moved.status, moved.point.active, moved.point.latitude) == (LeaderStatus.APPROVED, True, 22.80)
    assert await points.nearest_points(latitude=HOME[0], longitude=HOME[1], max_radius_m=20_000) == []
    there = await points.nearest_points(latitude=22.801, longitude=114.20)
    assert [p.leader_id for p in there] == [leader.id] and there[0].distance_m < 200
    assert await LeaderEvent.filter(leader_id=leader.id, type="edited").count() == 1


async def test_a_suspended_leader_cannot_change_their_details(db):
    leader = await _approved(1)
    await leaders.suspend(leader_id=leader.id, reason="投诉", actor="staff:1")
    with pytest.raises(CommerceError) as caught:
        await leaders.apply(user_id=leader.user_id, application=_application(lat=22.80, lng=114.20))
    assert caught.value.code == "leader_invalid_status"
    assert (await PickupPoint.get(id=leader.point.id)).latitude == 22.5450


@needs_real_database
async def test_a_shopper_applying_twice_at_once_has_one_application(db):
    users = [await _user(n) for n in range(6)]

    async def apply(user_id: int) -> str:
        try:
            return str((await leaders.apply(user_id=user_id, application=_application())).status)
        except CommerceError as error:
            return error.code

    results = await asyncio.gather(*(apply(u) for u in users for _ in range(2)))
    # each shopper: one application and one point; the second call edited it or was told
    assert all(r in ("applied", "leader_already_applied") for r in results)
    for user_id in users:
        assert await Leader.filter(user_id=user_id).count() == 1
    assert await PickupPoint.all().count() == len(users)


async def test_an_application_waiting_for_review_is_edited_in_place(db):
    user_id = await _user(1)
    first = await leaders.apply(user_id=user_id, application=_application())
    edited = await leaders.apply(user_id=user_id, application=_application(opening_hours="周末 10:00-18:00"))
    assert (edited.id, edited.status, edited.point.id) == (first.id, LeaderStatus.APPLIED, first.point.id)
    assert edited.point.opening_hours == "周末 10:00-18:00" and edited.point.active is False
    types = await LeaderEvent.filter(leader_id=first.id).order_by("id").values_list("type", flat=True)
    assert [str(t) for t in types] == ["applied", "edited"]
    assert await PickupPoint.all().count() == 1
