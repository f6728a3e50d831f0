"""KOLs' applications and the platform's review: a shopper applies (or applies again after a
refusal); the platform invites a user (approved at once into a tier), approves into a tier
(the reviewer's pick, else the default tier), refuses with a reason, suspends with a reason,
reinstates, and moves a KOL to another tier.

Every status change goes through one Lifecycle (conditional update from the expected status, a
KolEvent row, a KolApplied/KolReviewed outbox event) with an audit entry in the same
transaction: two reviewers at once, one wins and the other is told kol_already_reviewed.

The KOL who brought an applicant (their second level, when two levels are on) is the approved
KOL whose referral code came with the application, else the KOL who first brought the shopper
as a customer; never the applicant themself (nor a KOL the applicant brought: no loops)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.referrals import tiers, touches
from commerce.referrals.errors import KolError
from commerce.referrals.events import KolApplied, KolReviewed
from commerce.referrals.kol_queries import KolView, get_kol
from commerce.referrals.models import Kol, KolTier, ReferralCustomer
from commerce.referrals.states import KOL_TRANSITIONS, KolEventType, KolStatus
from commerce.referrals.tiers import DefaultTier
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import directory
from commerce.users.errors import UserError

_PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # a mainland mobile number: the platform calls them on it
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
CODE_LENGTH = 8
NAME_MAX = 32
INTRO_MAX = 200
REASON_MAX = 200
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Application:
    """What an applicant fills in: who they are, and their channels and audience."""

    name: str
    phone: str
    intro: str
    referrer_code: str = ""  # the code of the KOL who brought them, if they came by one


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _writer(type_: KolEventType):
    async def record(conn: Any, move: Transition[KolStatus]) -> None:
        await append_event_row(
            conn,
            "kol_event",
            ("kol_id", move.object_id),
            type_,
            move.actor,
            frm=move.frm.value if move.frm else "",
            to=move.to.value,
            params=move.params,
        )

    return record


KOL = Lifecycle(
    model=Kol,
    transitions=KOL_TRANSITIONS,
    refusal=KolError.INVALID_TRANSITION.error,
    record=_writer(KolEventType.STATUS_CHANGED),
)


# --- applying --------------------------------------------------------------------------------


@unit_of_work
async def apply(*, user_id: int, application: Application) -> KolView:
    """Apply to be a KOL; a refused applicant applies again (back to review). Anyone with an
    application waiting, or a KOL already, is told kol_already_applied."""
    fields = _checked(application)
    kol = await Kol.get_or_none(user_id=user_id)
    if kol is None:
        parent = await _parent_of(user_id, application.referrer_code, own_kol_id=None)
        return await _create(user_id, fields, parent, KolStatus.APPLIED, f"shopper:{user_id}")
    if kol.status != KolStatus.REFUSED:
        raise KolError.ALREADY_APPLIED.error()
    parent = await _parent_of(user_id, application.referrer_code, own_kol_id=kol.id)
    actor = f"shopper:{user_id}"
    async with write_transaction() as conn:
        moved = await KOL.try_move(
            conn,
            kol.id,
            KolStatus.REFUSED,
            KolStatus.APPLIED,
            actor=actor,
            params={"parent_kol_id": parent} if parent else {},
            changes={**fields, "parent_kol_id": parent, "reason": "", "applied_at": clock.now()},
            event=KolApplied(kol_id=kol.id, user_id=user_id),
            record=_writer(KolEventType.APPLIED),
        )
        if moved is None:  # the same shopper applying again twice at once
            raise KolError.ALREADY_APPLIED.error()
        await _audit(
            conn, actor, "kol.apply", kol.id, f"推广员 {fields['name']}：重新申请", "refused", "applied"
        )
    assert moved.outbox is not None
    await outbox.deliver([moved.outbox])
    return await get_kol(kol.id)


@unit_of_work
async def invite(
    *, user_id: int, application: Application, tier_id: int | None, default: DefaultTier, actor: str
) -> KolView:
    """The platform makes a user a KOL at once, into a tier (the default when None). A user who
    applied already is reviewed on their application instead."""
    fields = _checked(application)
    if user_id not in await directory.public_profiles([user_id]):
        raise UserError.SHOPPER_NOT_FOUND.error()
    if await Kol.exists(user_id=user_id):
        raise KolError.ALREADY_APPLIED.error("该用户已申请或已是推广员，请在其申请中审核")
    tier = await _tier_id(tier_id, default)
    parent = await _parent_of(user_id, application.referrer_code, own_kol_id=None)
    return await _create(user_id, fields, parent, KolStatus.APPROVED, actor, tier_id=tier)


async def _create(
    user_id: int,
    fields: dict[str, Any],
    parent: int | None,
    status: KolStatus,
    actor: str,
    *,
    tier_id: int | None = None,
) -> KolView:
    """The KOL's row with a fresh code (another code on the rare clash), its first event, the
    audit entry and the outbox event."""
    invited = status is KolStatus.APPROVED
    for _ in range(_CODE_ATTEMPTS):
        now = clock.now()
        try:
            async with write_transaction() as conn:
                kol = await Kol.create(
                    user_id=user_id,
                    code=new_code(),
                    **fields,
                    tier_id=tier_id,
                    parent_kol_id=parent,
                    status=status,
                    applied_at=now,
                    reviewed_at=now if invited else None,
                    updated_at=now,
                    using_db=conn,
                )
                params = {k: v for k, v in {"tier_id": tier_id, "parent_kol_id": parent}.items() if v}
                await append_event_row(
                    conn,
                    "kol_event",
                    ("kol_id", kol.id),
                    KolEventType.INVITED if invited else KolEventType.APPLIED,
                    actor,
                    to=status.value,
                    params=params,
                )
                await _audit(
                    conn,
                    actor,
                    "kol.invite" if invited else "kol.apply",
                    kol.id,
                    f"推广员 {fields['name']}：{'平台邀请，直接通过' if invited else '提交申请'}",
                    "",
                    status.value,
                )
                event = (
                    KolReviewed(kol_id=kol.id, user_id=user_id, status=status.value)
                    if invited
                    else KolApplied(kol_id=kol.id, user_id=user_id)
                )
                emitted = await outbox.emit(event, connection=conn)
        except IntegrityError:
            if await Kol.exists(user_id=user_id):  # the same shopper twice at once
                raise KolError.ALREADY_APPLIED.error() from None
            continue  # the code was taken (1 in 32^8 per KOL): another one
        await outbox.deliver([emitted])
        return await get_kol(kol.id)
    raise KolError.CODE_UNAVAILABLE.error()


async def _parent_of(user_id: int, referrer_code: str, *, own_kol_id: int | None) -> int | None:
    code = (referrer_code or "").strip().upper()[:16]
    if code:
        referrer = await Kol.get_or_none(code=code, status=KolStatus.APPROVED)
        if referrer is not None and _may_lead(referrer, user_id, own_kol_id):
            return referrer.id
    customer = await ReferralCustomer.get_or_none(user_id=user_id)
    if customer is not None:
        first = await Kol.get_or_none(id=customer.first_kol_id)
        if first is not None and _may_lead(first, user_id, own_kol_id):
            return first.id
    return None


def _may_lead(kol: Kol, user_id: int, own_kol_id: int | None) -> bool:
    """Never the applicant themself, nor a KOL the applicant brought (no A→B→A loop)."""
    return kol.user_id != user_id and (own_kol_id is None or kol.parent_kol_id != own_kol_id)


# --- reviewing -------------------------------------------------------------------------------


@unit_of_work
async def approve(*, kol_id: int, tier_id: int | None = None, default: DefaultTier, actor: str) -> KolView:
    """applied → approved, into the reviewer's tier (the default tier when None)."""
    tier = await _tier_id(tier_id, default)
    return await _review(kol_id, KolStatus.APPLIED, KolStatus.APPROVED, actor, "", tier_id=tier)


@unit_of_work
async def refuse(*, kol_id: int, reason: str, actor: str) -> KolView:
    """applied → refused, with the reason the applicant is told; they may apply again."""
    return await _review(kol_id, KolStatus.APPLIED, KolStatus.REFUSED, actor, _reason(reason))


@unit_of_work
async def suspend(*, kol_id: int, reason: str, actor: str) -> KolView:
    """approved → suspended: their code no longer counts (no new touches or attributions)."""
    return await _review(kol_id, KolStatus.APPROVED, KolStatus.SUSPENDED, actor, _reason(reason))


@unit_of_work
async def reinstate(*, kol_id: int, actor: str) -> KolView:
    """suspended → approved, in the tier they had."""
    return await _review(kol_id, KolStatus.SUSPENDED, KolStatus.APPROVED, actor, "")


async def _review(
    kol_id: int, frm: KolStatus, to: KolStatus, actor: str, reason: str, *, tier_id: int | None = None
) -> KolView:
    kol = await Kol.get_or_none(id=kol_id)
    if kol is None:
        raise KolError.NOT_FOUND.error()
    if kol.status != frm:
        # Decided by someone else (an application reviewed, a KOL suspended or reinstated
        # already: a second reviewer, a second click), or a move that was never possible.
        if frm is KolStatus.APPLIED or kol.status in (KolStatus.APPROVED, KolStatus.SUSPENDED):
            raise KolError.ALREADY_REVIEWED.error()
        raise KolError.INVALID_TRANSITION.error()
    changes: dict[str, Any] = {"reason": reason}
    params: dict[str, Any] = {"reason": reason} if reason else {}
    if tier_id is not None:
        changes["tier_id"] = tier_id
        params["tier_id"] = tier_id
    if frm is KolStatus.APPLIED:
        changes["reviewed_at"] = clock.now()
    async with write_transaction() as conn:
        moved = await KOL.try_move(
            conn,
            kol_id,
            frm,
            to,
            actor=actor,
            params=params,
            changes=changes,
            event=KolReviewed(
                kol_id=kol_id, user_id=kol.user_id, status=to.value, reason=reason, from_status=frm.value
            ),
        )
        if moved is None:  # not in the status the page showed: someone else handled it
            raise KolError.ALREADY_REVIEWED.error()
        action = _ACTION[(frm, to)]
        text = f"推广员 {kol.name}：{_ACTION_TEXT[action]}{'（' + reason + '）' if reason else ''}"
        await _audit(
            conn, actor, f"kol.{action}", kol_id, text, frm.value, to.value, reason=reason, tier_id=tier_id
        )
    # This process forgets its cached codes at once; the others within touches' cache time.
    touches.forget_codes()
    assert moved.outbox is not None
    await outbox.deliver([moved.outbox])
    return await get_kol(kol_id)


_ACTION = {
    (KolStatus.APPLIED, KolStatus.APPROVED): "approve",
    (KolStatus.APPLIED, KolStatus.REFUSED): "refuse",
    (KolStatus.APPROVED, KolStatus.SUSPENDED): "suspend",
    (KolStatus.SUSPENDED, KolStatus.APPROVED): "reinstate",
}
_ACTION_TEXT = {"approve": "通过", "refuse": "拒绝", "suspend": "暂停", "reinstate": "恢复"}


@unit_of_work
async def change_tier(*, kol_id: int, tier_id: int, actor: str) -> KolView:
    """Move an approved or suspended KOL to another tier: commissions accrued from now on take
    its rates (those accrued keep theirs). A conditional update from the tier the reviewer saw."""
    kol = await Kol.get_or_none(id=kol_id)
    if kol is None:
        raise KolError.NOT_FOUND.error()
    if kol.status not in (KolStatus.APPROVED, KolStatus.SUSPENDED):
        raise KolError.INVALID_TRANSITION.error()
    tier = await KolTier.get_or_none(id=tier_id)
    if tier is None:
        raise KolError.TIER_NOT_FOUND.error()
    if kol.tier_id == tier_id:
        return await get_kol(kol_id)
    async with write_transaction() as conn:
        changed = (
            await Kol.filter(
                id=kol_id, tier_id=kol.tier_id, status__in=[KolStatus.APPROVED, KolStatus.SUSPENDED]
            )
            .using_db(conn)
            .update(tier_id=tier_id, updated_at=clock.now())
        )
        if not changed:
            raise KolError.ALREADY_REVIEWED.error()
        await append_event_row(
            conn,
            "kol_event",
            ("kol_id", kol_id),
            KolEventType.TIER_CHANGED,
            actor,
            params={"from": kol.tier_id, "to": tier_id},
        )
        await audit.record(
            actor=actor,
            action="kol.tier",
            object_type="kol",
            object_id=kol_id,
            summary=f"推广员 {kol.name}：等级改为 {tier.name}",
            before={"tier_id": kol.tier_id},
            after={"tier_id": tier_id},
            connection=conn,
        )
    return await get_kol(kol_id)


# --- checks ----------------------------------------------------------------------------------


async def _tier_id(tier_id: int | None, default: DefaultTier) -> int:
    if tier_id is None:
        return await tiers.default_tier_id(default)
    if not await KolTier.exists(id=tier_id):
        raise KolError.TIER_NOT_FOUND.error()
    return tier_id


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise KolError.REASON_REQUIRED.error()
    return reason


def _checked(application: Application) -> dict[str, Any]:
    """The application's fields, trimmed and checked (the message says what to fix)."""
    name, phone, intro = application.name.strip(), application.phone.strip(), application.intro.strip()
    if not name or not phone or not intro:
        raise KolError.INVALID_APPLICATION.error()
    if len(name) > NAME_MAX or len(intro) > INTRO_MAX:
        raise KolError.INVALID_APPLICATION.error("姓名最多 32 字，推广渠道介绍最多 200 字")
    if not _PHONE.match(phone):
        raise KolError.INVALID_APPLICATION.error("请填写 11 位手机号")
    return {"name": name, "phone": phone, "intro": intro}


async def _audit(
    conn: Any,
    actor: str,
    action: str,
    kol_id: int,
    summary: str,
    frm: str,
    to: str,
    *,
    reason: str = "",
    tier_id: int | None = None,
) -> None:
    after: dict[str, Any] = {"status": to}
    if reason:
        after["reason"] = reason
    if tier_id is not None:
        after["tier_id"] = tier_id
    await audit.record(
        actor=actor,
        action=action,
        object_type="kol",
        object_id=kol_id,
        summary=summary,
        before={"status": frm} if frm else None,
        after=after,
        connection=conn,
    )
