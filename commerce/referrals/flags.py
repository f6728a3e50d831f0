"""The platform's review of a flagged KOL: release (not fraud: the held commissions go back to
pending and earn as usual) or void (fraud: what is left of each held commission goes back to the
platform in the books), with a note, once: a second reviewer is told someone decided first.
Each decision is audited and written on the KOL's timeline. The list and the detail pages read
flags through `flag_list` and `flag_detail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commerce import clock
from commerce.audit import services as audit
from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.orders import queries as orders
from commerce.referrals import holds
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.errors import KolCommissionError
from commerce.referrals.models import Kol, KolEvent, KolFlag, KolSignal
from commerce.referrals.states import (
    FLAG_TRANSITIONS,
    FlagStatus,
    KolCommissionStatus,
    KolEventType,
    SignalKind,
)
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import directory

NOTE_MAX = 200
MAX_PAGE_SIZE = 100


async def _no_row(conn: Any, transition: Transition[FlagStatus]) -> None:
    """The flag's timeline is the KOL's (written by the caller, with the amounts)."""


FLAG = Lifecycle(
    model=KolFlag,
    transitions=FLAG_TRANSITIONS,
    refusal=KolCommissionError.FLAG_ALREADY_DECIDED.error,
    record=_no_row,
    stamp_field="decided_at",
)


@dataclass(frozen=True)
class Decided:
    flag_id: int
    status: FlagStatus
    amount: int  # fen released or voided


@unit_of_work
async def release(*, flag_id: int, note: str, actor: str) -> Decided:
    """open → released: the KOL's held commissions back to pending."""
    return await _decide(flag_id, FlagStatus.RELEASED, note, actor)


@unit_of_work
async def void(*, flag_id: int, note: str, actor: str) -> Decided:
    """open → voided: the KOL's held commissions voided, reversed in the books."""
    return await _decide(flag_id, FlagStatus.VOIDED, note, actor)


_TEXT = {FlagStatus.RELEASED: "解除冻结", FlagStatus.VOIDED: "作废佣金"}
_EVENT = {FlagStatus.RELEASED: KolEventType.FLAG_RELEASED, FlagStatus.VOIDED: KolEventType.FLAG_VOIDED}


async def _decide(flag_id: int, to: FlagStatus, note: str, actor: str) -> Decided:
    note = _note(note)
    flag = await KolFlag.get_or_none(id=flag_id)
    if flag is None:
        raise KolCommissionError.FLAG_NOT_FOUND.error()
    if flag.status is not FlagStatus.OPEN:
        raise KolCommissionError.FLAG_ALREADY_DECIDED.error()
    async with write_transaction() as conn:
        # The flag first: of two reviewers, the one whose update moves it decides; the other's
        # transaction stops here, before any commission moved.
        await FLAG.move(
            conn,
            flag_id,
            FlagStatus.OPEN,
            to,
            actor=actor,
            changes={"open_key": None, "decided_by": actor[:64], "note": note},
        )
        if to is FlagStatus.RELEASED:
            amount = await holds.release_kol(kol_id=flag.kol_id, flag_id=flag_id, actor=actor)
        else:
            amount = await holds.void_kol(kol_id=flag.kol_id, flag_id=flag_id, actor=actor)
        key = "released" if to is FlagStatus.RELEASED else "voided"
        await append_event_row(
            conn,
            "kol_event",
            ("kol_id", flag.kol_id),
            _EVENT[to],
            actor,
            params={"flag_id": flag_id, key: amount, "note": note},
        )
        await audit.record(
            actor=actor,
            action=f"kol_flag.{'release' if to is FlagStatus.RELEASED else 'void'}",
            object_type="kol_flag",
            object_id=flag_id,
            summary=f"推广员 #{flag.kol_id} 风控复核：{_TEXT[to]} {amount} 分（{note}）",
            before={"status": FlagStatus.OPEN.value, "held": flag.held},
            after={"status": to.value, key: amount, "note": note},
            connection=conn,
        )
    return Decided(flag_id, to, amount)


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note or len(note) > NOTE_MAX:
        raise KolCommissionError.NOTE_REQUIRED.error()
    return note


# --- reads for the admin pages ---------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    id: int
    kol_id: int
    kol_name: str
    kol_code: str
    status: FlagStatus
    kinds: list[str]
    held: int
    created_at: datetime
    decided_at: datetime | None
    decided_by: str


@dataclass(frozen=True)
class FlagPage:
    items: list[FlagRow]
    total: int
    page: int
    page_size: int


async def open_flags() -> int:
    """How many flags wait for review, their KOLs' earnings held (the platform's dashboard)."""
    return await KolFlag.filter(status=FlagStatus.OPEN).count()


async def flag_list(*, status: str | None = None, page: int = 1, page_size: int = 50) -> FlagPage:
    """Flags, the open ones first (oldest first: they waited longest), then the decided ones
    newest first."""
    query = KolFlag.all()
    if status:
        try:
            query = query.filter(status=FlagStatus(status))
        except ValueError:
            raise KolCommissionError.FLAG_NOT_FOUND.error() from None
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    total = await query.count()
    open_count = await query.filter(status=FlagStatus.OPEN).count()
    start = (page - 1) * page_size
    rows: list[KolFlag] = []
    if start < open_count:
        rows += await query.filter(status=FlagStatus.OPEN).order_by("id").offset(start).limit(page_size)
    if len(rows) < page_size:
        rows += (
            await query.exclude(status=FlagStatus.OPEN)
            .order_by("-id")
            .offset(max(0, start - open_count))
            .limit(page_size - len(rows))
        )
    kols = {k.id: k for k in await Kol.filter(id__in=list({r.kol_id for r in rows}) or [0])}
    return FlagPage([_row(r, kols.get(r.kol_id)) for r in rows], total, page, page_size)


def _row(flag: KolFlag, kol: Kol | None) -> FlagRow:
    return FlagRow(
        flag.id,
        flag.kol_id,
        kol.name if kol else "",
        kol.code if kol else "",
        FlagStatus(flag.status),
        list(flag.kinds or []),
        flag.held,
        flag.created_at,
        flag.decided_at,
        flag.decided_by,
    )


@dataclass(frozen=True)
class Account:
    user_id: int
    masked_nickname: str


@dataclass(frozen=True)
class SignalView:
    kind: SignalKind
    value: int
    threshold: int
    tripped: bool
    evidence: dict[str, Any]
    measured_at: datetime | None


@dataclass(frozen=True)
class KolTimelineEntry:
    type: str
    actor: str
    params: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class FlagDetail:
    flag: FlagRow
    note: str
    evidence: dict[str, Any]  # as kept when the flag opened (kind → value, threshold, evidence)
    signals: list[SignalView]  # the latest measures
    accounts: dict[int, Account]  # every account the evidence names, masked
    order_numbers: dict[int, str]  # every order the evidence names
    held_now: int  # fen of the KOL's commissions held at present (accrued less reversed)
    timeline: list[KolTimelineEntry]


async def flag_detail(*, flag_id: int) -> FlagDetail:
    flag = await KolFlag.get_or_none(id=flag_id)
    if flag is None:
        raise KolCommissionError.FLAG_NOT_FOUND.error()
    kol = await Kol.get_or_none(id=flag.kol_id)
    signals = [
        SignalView(SignalKind(s.kind), s.value, s.threshold, s.tripped, s.evidence or {}, s.measured_at)
        for s in await KolSignal.filter(kol_id=flag.kol_id).order_by("kind")
    ]
    evidence = flag.evidence or {}
    user_ids: set[int] = set()
    order_ids: set[int] = set()
    for found in [*(e.get("evidence", {}) for e in evidence.values()), *(s.evidence for s in signals)]:
        for group in found.get("groups", []):
            user_ids |= {int(u) for u in group.get("user_ids", [])}
        order_ids |= {int(o["order_id"]) for o in found.get("refunded", [])}
    profiles = await directory.public_profiles(sorted(user_ids)) if user_ids else {}
    accounts = {u: Account(u, profiles.get(u, ("微信用户", ""))[0]) for u in sorted(user_ids)}
    held = await KolCommission.filter(kol_id=flag.kol_id, status=KolCommissionStatus.HELD).values_list(
        "amount", "reversed"
    )
    events = await KolEvent.filter(
        kol_id=flag.kol_id,
        type__in=[KolEventType.FLAGGED, KolEventType.FLAG_RELEASED, KolEventType.FLAG_VOIDED],
    ).order_by("id")
    timeline = [
        KolTimelineEntry(e.type.value, e.actor, e.params or {}, e.created_at)
        for e in events
        if (e.params or {}).get("flag_id") == flag_id
    ]
    return FlagDetail(
        _row(flag, kol),
        flag.note,
        evidence,
        signals,
        accounts,
        await orders.order_numbers(order_ids),
        sum(amount - reversed_ for amount, reversed_ in held),
        timeline,
    )


def shown_time(moment: datetime | None) -> str:
    return f"{clock.to_shanghai(moment):%Y-%m-%d %H:%M}" if moment else ""
