"""Shoppers bound to a leader: by the leader's share link (?leader=CODE), by the scene of their
official-account QR code ("leader_CODE"), or by choosing a leader's point. One binding per
shopper (unique user_id), switched by a conditional update from the leader it had, each take
appended to LeaderBindingChange. Only an approved leader can be bound to, and never by themself.

A follower who scans before they ever signed in to the mini-program is remembered by unionid
(PendingLeaderBinding) and bound at their sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.community.errors import LeaderError
from commerce.community.events import ShopperBound
from commerce.community.models import (
    Leader,
    LeaderBinding,
    LeaderBindingChange,
    LeaderQrCode,
    PendingLeaderBinding,
)
from commerce.community.queries import BoundLeader, QrCodeView, bound_leader, scene_of
from commerce.community.states import BindingSource, LeaderStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.official_account import create_scene_qrcode

SCENE_PREFIX = "leader_"
_SWITCH_ATTEMPTS = 3  # a shopper switching in two tabs at once: re-read and switch again


@dataclass(frozen=True)
class Bound:
    leader: BoundLeader
    changed: bool  # False: already bound to this leader (nothing written)


def share_code_of_scene(scene: str) -> str | None:
    """The share code a QR scene carries ("leader_CODE", with or without WeChat's qrscene_)."""
    scene = (scene or "").removeprefix("qrscene_")
    code = scene.removeprefix(SCENE_PREFIX)
    return code if scene.startswith(SCENE_PREFIX) and code else None


@unit_of_work
async def bind_by_share_code(*, user_id: int, share_code: str, source: BindingSource) -> Bound:
    """Bind the shopper to the leader of this share code (a link, or a QR scene's code)."""
    leader = await _bindable(Leader.filter(share_code=(share_code or "").strip().upper()[:16]), user_id)
    return await _bind(user_id, leader, source)


@unit_of_work
async def bind_by_scene(*, user_id: int, scene: str) -> Bound:
    """Bind the shopper who scanned (or followed through) a leader's QR code."""
    code = share_code_of_scene(scene)
    if code is None:
        raise LeaderError.NOT_FOUND.error()
    return await bind_by_share_code(user_id=user_id, share_code=code, source=BindingSource.QR)


@unit_of_work
async def bind_by_point(*, user_id: int, pickup_point_id: int) -> Bound:
    """Bind the shopper to the leader whose point they chose (the nearest points list)."""
    leader = await _bindable(Leader.filter(pickup_point_id=pickup_point_id), user_id)
    return await _bind(user_id, leader, BindingSource.CHOSEN)


async def _bindable(query, user_id: int) -> Leader:
    leader = await query.first()
    if leader is None or leader.status != LeaderStatus.APPROVED:
        raise LeaderError.NOT_FOUND.error()
    if leader.user_id == user_id:
        raise LeaderError.SELF_BINDING.error()
    return leader


async def _bind(user_id: int, leader: Leader, source: BindingSource) -> Bound:
    for _ in range(_SWITCH_ATTEMPTS):
        current = await LeaderBinding.get_or_none(user_id=user_id)
        if current is not None and current.leader_id == leader.id:
            found = await bound_leader(user_id)
            assert found is not None
            return Bound(leader=found, changed=False)
        previous = current.leader_id if current else None
        emitted = await _take(user_id, leader.id, previous, source)
        if emitted is not None:
            await outbox.deliver([emitted])
            found = await bound_leader(user_id)
            if found is None:  # suspended in the instant after: the binding stays, unseen
                raise LeaderError.NOT_FOUND.error()
            return Bound(leader=found, changed=True)
    raise LeaderError.INVALID_TRANSITION.error("绑定正在变更，请稍后重试")


async def _take(
    user_id: int, leader_id: int, previous: int | None, source: BindingSource
) -> outbox.OutboxEvent | None:
    """The binding taken, or None when another take moved it first (re-read, try again)."""
    now = clock.now()
    try:
        async with write_transaction() as conn:
            # Holds the leader's row: a suspension racing in waits, or is seen first here.
            still = (
                await Leader.filter(id=leader_id, status=LeaderStatus.APPROVED)
                .select_for_update()
                .using_db(conn)
            )
            if not still:
                raise LeaderError.NOT_FOUND.error()
            if previous is None:
                await LeaderBinding.create(
                    user_id=user_id, leader_id=leader_id, source=source, bound_at=now, using_db=conn
                )
            else:
                changed = (
                    await LeaderBinding.filter(user_id=user_id, leader_id=previous)
                    .using_db(conn)
                    .update(leader_id=leader_id, source=source, bound_at=now)
                )
                if not changed:
                    return None
            await LeaderBindingChange.create(
                user_id=user_id,
                leader_id=leader_id,
                previous_leader_id=previous,
                source=source,
                created_at=now,
                using_db=conn,
            )
            event = ShopperBound(
                user_id=user_id, leader_id=leader_id, previous_leader_id=previous, source=source.value
            )
            return await outbox.emit(event, connection=conn)
    except IntegrityError:  # bound by another request at the same instant: re-read
        return None


@unit_of_work
async def remember_scan(*, unionid: str, scene: str) -> str | None:
    """A follower not yet a shopper scanned a leader's code: bind them at their sign-in. The
    leader's name (to tell the follower), or None when the scene is no bindable leader."""
    code = share_code_of_scene(scene)
    leader = await Leader.get_or_none(share_code=code, status=LeaderStatus.APPROVED) if code else None
    if leader is None or not unionid:
        return None
    async with write_transaction() as conn:
        updated = (
            await PendingLeaderBinding.filter(unionid=unionid)
            .using_db(conn)
            .update(leader_id=leader.id, created_at=clock.now())
        )
        if not updated:
            try:
                async with write_transaction() as inner:
                    await PendingLeaderBinding.create(
                        unionid=unionid, leader_id=leader.id, created_at=clock.now(), using_db=inner
                    )
            except IntegrityError:  # remembered by a repeat of the same push meanwhile
                pass
    return leader.name


@unit_of_work
async def bind_pending(*, user_id: int) -> Bound | None:
    """At sign-in: the binding a follower asked for by scanning before they were a shopper.
    Taken once (the row is deleted by whoever takes it); a leader suspended since is ignored."""
    unionid = await followers.unionid_of_shopper(user_id=user_id)
    if unionid is None:
        return None
    pending = await PendingLeaderBinding.get_or_none(unionid=unionid)
    if pending is None:
        return None
    if not await PendingLeaderBinding.filter(id=pending.id).delete():
        return None  # another sign-in took it
    leader = await Leader.get_or_none(id=pending.leader_id, status=LeaderStatus.APPROVED)
    if leader is None or leader.user_id == user_id:
        return None
    return await _bind(user_id, leader, BindingSource.QR)


async def leader_qrcode(*, leader_id: int, share_code: str, mp: WeChatClient) -> QrCodeView:
    """The leader's permanent official-account QR code, made at WeChat once and kept. Two
    first calls at once may both ask WeChat; the unique leader_id keeps one of them."""
    row = await LeaderQrCode.get_or_none(leader_id=leader_id)
    if row is None:
        made = await create_scene_qrcode(mp=mp, scene=scene_of(share_code))
        try:
            row = await LeaderQrCode.create(
                leader_id=leader_id,
                scene=made.scene,
                ticket=made.ticket,
                url=made.url,
                image_url=made.image_url,
                created_at=clock.now(),
            )
        except IntegrityError:
            row = await LeaderQrCode.get(leader_id=leader_id)
    return QrCodeView(scene=row.scene, url=row.url, image_url=row.image_url)
