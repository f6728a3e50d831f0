"""Leaders' applications and the platform's review: apply (or apply again after a refusal),
edit the application, approve, refuse with a reason, suspend, reinstate.

The application creates the leader's pickup point, closed (merchant_id None: a point of the
platform's network that only this leader runs); approval opens it, suspension closes it and
reinstatement opens it again, in the same transaction as the leader's move. Every move goes
through one Lifecycle (conditional update from the expected status, LeaderEvent row, outbox
event): two staff approving at once, one wins and the other is told it was handled."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.community.errors import LeaderError
from commerce.community.events import (
    LeaderApplied,
    LeaderApproved,
    LeaderRefused,
    LeaderReinstated,
    LeaderSuspended,
)
from commerce.community.models import Leader
from commerce.community.queries import LeaderView, leader_view
from commerce.community.states import LEADER_TRANSITIONS, LeaderEventType, LeaderStatus
from commerce.events import Event
from commerce.fulfilment import services as fulfilment
from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.transactions import unit_of_work, write_transaction

_PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # a mainland mobile number: the leader is called on it
_PHOTO = re.compile(r"^(https?://|/)\S{1,490}$")
_SHARE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
SHARE_CODE_LENGTH = 8
REASON_MAX = 200


@dataclass(frozen=True)
class Application:
    """What an applicant fills in (the point's name defaults to "<name>的自提点")."""

    name: str
    phone: str
    address: str
    latitude: float
    longitude: float
    opening_hours: str = ""
    point_name: str = ""
    photo: str = ""


async def _record(conn: Any, move: Transition[LeaderStatus]) -> None:
    await append_event_row(
        conn,
        "community_leader_event",
        ("leader_id", move.object_id),
        LeaderEventType.STATUS_CHANGED,
        move.actor,
        frm=move.frm.value if move.frm else "",
        to=move.to.value,
        params=move.params,
    )


LEADER = Lifecycle(
    model=Leader,
    transitions=LEADER_TRANSITIONS,
    refusal=LeaderError.INVALID_TRANSITION.error,
    record=_record,
)


@unit_of_work
async def apply(*, user_id: int, application: Application) -> LeaderView:
    """Apply to be a leader; an application waiting for review is edited, a refused one is
    applied again (back to review); an approved leader edits their point's details. A
    suspended leader cannot change anything until reinstated."""
    fields = _checked(application)
    leader = await Leader.get_or_none(user_id=user_id)
    if leader is None:
        return await _first_application(user_id, fields)
    status = LeaderStatus(leader.status)
    if status is LeaderStatus.SUSPENDED:
        raise LeaderError.INVALID_TRANSITION.error("团长已被暂停，暂不能修改资料")
    events: list[outbox.OutboxEvent] = []
    async with write_transaction() as conn:
        actor = f"shopper:{user_id}"
        if status is LeaderStatus.REFUSED:
            moved = await LEADER.try_move(
                conn,
                leader.id,
                LeaderStatus.REFUSED,
                LeaderStatus.APPLIED,
                actor=actor,
                changes={**_leader_columns(fields), "reason": "", "applied_at": clock.now()},
                event=LeaderApplied(leader_id=leader.id, user_id=user_id),
            )
            if moved is None:
                raise LeaderError.ALREADY_REVIEWED.error()
            assert moved.outbox is not None
            events.append(moved.outbox)
        else:  # edited where it stands: the status it was read in, or someone moved it first
            changed = await (
                Leader.filter(id=leader.id, status=status)
                .using_db(conn)
                .update(**_leader_columns(fields), updated_at=clock.now())
            )
            if not changed:
                raise LeaderError.ALREADY_REVIEWED.error()
            await append_event_row(
                conn,
                "community_leader_event",
                ("leader_id", leader.id),
                LeaderEventType.EDITED,
                actor,
                params={k: v for k, v in fields.items() if k != "photo"},
            )
        await fulfilment.update_leader_point(
            conn, point_id=leader.pickup_point_id, fields=_point_columns(fields)
        )
    await outbox.deliver(events)
    return await _view(leader.id)


async def _first_application(user_id: int, fields: dict[str, Any]) -> LeaderView:
    now = clock.now()
    try:
        async with write_transaction() as conn:
            point_id = await fulfilment.create_leader_point(conn, fields=_point_columns(fields))
            leader = await Leader.create(
                user_id=user_id,
                **_leader_columns(fields),
                status=LeaderStatus.APPLIED,
                pickup_point_id=point_id,
                share_code=_share_code(),
                applied_at=now,
                updated_at=now,
                using_db=conn,
            )
            await append_event_row(
                conn,
                "community_leader_event",
                ("leader_id", leader.id),
                LeaderEventType.APPLIED,
                f"shopper:{user_id}",
                to=LeaderStatus.APPLIED.value,
            )
            emitted = await outbox.emit(LeaderApplied(leader_id=leader.id, user_id=user_id), connection=conn)
    except IntegrityError:  # the same shopper applying twice at once (a share code clash: ~1e-12)
        raise LeaderError.ALREADY_APPLIED.error() from None
    await outbox.deliver([emitted])
    return await _view(leader.id)


@unit_of_work
async def approve(*, leader_id: int, actor: str) -> LeaderView:
    """applied → approved: the leader's point opens."""
    return await _review(leader_id, LeaderStatus.APPLIED, LeaderStatus.APPROVED, actor, "", open_point=True)


@unit_of_work
async def refuse(*, leader_id: int, reason: str, actor: str) -> LeaderView:
    """applied → refused, with the reason the applicant is told; they may apply again."""
    return await _review(leader_id, LeaderStatus.APPLIED, LeaderStatus.REFUSED, actor, _reason(reason))


@unit_of_work
async def suspend(*, leader_id: int, reason: str, actor: str) -> LeaderView:
    """approved → suspended: the point closes to new orders, no shopper can bind to them.
    Shoppers bound stay bound (they see no leader until reinstatement)."""
    return await _review(
        leader_id, LeaderStatus.APPROVED, LeaderStatus.SUSPENDED, actor, _reason(reason), open_point=False
    )


@unit_of_work
async def reinstate(*, leader_id: int, actor: str) -> LeaderView:
    """suspended → approved: the point opens again."""
    return await _review(leader_id, LeaderStatus.SUSPENDED, LeaderStatus.APPROVED, actor, "", open_point=True)


async def _review(
    leader_id: int,
    frm: LeaderStatus,
    to: LeaderStatus,
    actor: str,
    reason: str,
    *,
    open_point: bool | None = None,
) -> LeaderView:
    leader = await Leader.get_or_none(id=leader_id)
    if leader is None:
        raise LeaderError.NOT_FOUND.error()
    if leader.status != frm:  # e.g. approving an approved leader (a second click later)
        raise LeaderError.INVALID_TRANSITION.error()
    async with write_transaction() as conn:
        moved = await LEADER.try_move(
            conn,
            leader_id,
            frm,
            to,
            actor=actor,
            params={"reason": reason} if reason else {},
            changes={"reason": reason, "reviewed_at": clock.now(), "reviewed_by": actor[:64]},
            event=_event_of(to, frm, leader, reason),
        )
        if moved is None:  # not in the status the page showed: someone else handled it
            raise LeaderError.ALREADY_REVIEWED.error()
        if open_point is not None:
            await fulfilment.set_leader_point_open(conn, point_id=leader.pickup_point_id, active=open_point)
        await audit.record(
            actor=actor,
            action=f"leader.{_ACTION[to]}",
            object_type="leader",
            object_id=leader_id,
            summary=f"团长 {leader.name}：{_ACTION_TEXT[to]}{'（' + reason + '）' if reason else ''}",
            before={"status": frm.value},
            after={"status": to.value, **({"reason": reason} if reason else {})},
            connection=conn,
        )
    assert moved.outbox is not None
    await outbox.deliver([moved.outbox])
    return await _view(leader_id)


_ACTION = {
    LeaderStatus.APPROVED: "approve",
    LeaderStatus.REFUSED: "refuse",
    LeaderStatus.SUSPENDED: "suspend",
}
_ACTION_TEXT = {LeaderStatus.APPROVED: "通过", LeaderStatus.REFUSED: "拒绝", LeaderStatus.SUSPENDED: "暂停"}


def _event_of(to: LeaderStatus, frm: LeaderStatus, leader: Leader, reason: str) -> Event:
    ids = {"leader_id": leader.id, "user_id": leader.user_id}
    if to is LeaderStatus.APPROVED:
        return LeaderReinstated(**ids) if frm is LeaderStatus.SUSPENDED else LeaderApproved(**ids)
    if to is LeaderStatus.REFUSED:
        return LeaderRefused(**ids, reason=reason)
    return LeaderSuspended(**ids, reason=reason)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise LeaderError.REASON_REQUIRED.error()
    return reason


def _checked(application: Application) -> dict[str, Any]:
    """The application's fields, trimmed and checked (the message says what to fix)."""
    name, phone = application.name.strip(), application.phone.strip()
    address, hours = application.address.strip(), application.opening_hours.strip()
    point_name = application.point_name.strip() or f"{name}的自提点"
    photo = application.photo.strip()
    if not name or not address or not phone:
        raise LeaderError.INVALID_APPLICATION.error()
    if len(name) > 32 or len(address) > 200 or len(hours) > 64 or len(point_name) > 64:
        raise LeaderError.INVALID_APPLICATION.error("姓名最多 32 字，地址最多 200 字，营业时间最多 64 字")
    if not _PHONE.match(phone):
        raise LeaderError.INVALID_APPLICATION.error("请填写 11 位手机号")
    if photo and not _PHOTO.match(photo):
        raise LeaderError.INVALID_APPLICATION.error("自提点照片地址无效，请重新上传")
    check_location(application.latitude, application.longitude)
    return {
        "name": name,
        "phone": phone,
        "address": address,
        "opening_hours": hours,
        "point_name": point_name,
        "photo": photo,
        "latitude": float(application.latitude),
        "longitude": float(application.longitude),
    }


def check_location(latitude: float, longitude: float) -> None:
    """WGS-84 degrees; (0, 0) is a phone that gave no location, not a point in the ocean."""
    finite = all(isinstance(v, int | float) and math.isfinite(v) for v in (latitude, longitude))
    if not finite or not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or latitude == longitude == 0:
        raise LeaderError.INVALID_LOCATION.error()


def _leader_columns(fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": fields["name"], "phone": fields["phone"], "photo": fields["photo"]}


def _point_columns(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": fields["point_name"],
        "address": fields["address"],
        "opening_hours": fields["opening_hours"],
        "contact_phone": fields["phone"],
        "latitude": fields["latitude"],
        "longitude": fields["longitude"],
    }


def _share_code() -> str:
    return "".join(secrets.choice(_SHARE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))


async def _view(leader_id: int) -> LeaderView:
    leader = await Leader.get(id=leader_id)
    return await leader_view(leader)
