"""The fraud signals (a job: hourly, and on demand from the admin web). For each KOL with
activity in the last WINDOW, measure:

- self-referral attempts: touches of their own code by their own user (in the window);
- referred accounts (first brought by them, or whose orders were attributed to them, at any
  time: the most recent MAX_ACCOUNTS) sharing one delivery address (province, city, district
  and detail, whitespace and case folded) or one phone prefix (the first 7 digits); accounts
  touching their code from one device (in the window);
- the refund rate of their attributed orders paid in the window (from fraud_refund_min_orders
  orders);
- bursts of touches from one network address (the most in one minute, in the window).

Each measure is kept with its evidence (KolSignal, the latest per kind). When one crosses its
threshold (the fraud_* settings) and the KOL has no open flag, a flag opens (one per KOL: the
unique open_key, so two runs racing open one), the KOL's pending earnings are held, KolFlagged
is published and the opening audited. After a review, the KOL is flagged again only on new
evidence (a signal tripped that was not, or higher than when it was decided)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.config import Settings
from commerce.db import execute, fetch_rows, insert
from commerce.lifecycle import append_event_row
from commerce.payments import queries as payments
from commerce.referrals import holds
from commerce.referrals.events import KolFlagged
from commerce.referrals.models import Kol, KolFlag, KolSignal, ReferralAttribution, ReferralCustomer
from commerce.referrals.states import AttributionStatus, FlagStatus, KolEventType, SignalKind
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import queries as users

log = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
MAX_ACCOUNTS = 5_000  # referred accounts compared per KOL (the most recent)
SHOWN = 5  # groups kept as evidence per signal
ACTOR = "system:signals"
PREFIX_DIGITS = 7


@dataclass(frozen=True)
class Thresholds:
    self_referrals: int
    per_address: int
    per_phone_prefix: int
    per_device: int
    refund_rate_bps: int
    refund_min_orders: int
    touches_per_ip_minute: int

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.fraud_self_referrals,
            settings.fraud_accounts_per_address,
            settings.fraud_accounts_per_phone_prefix,
            settings.fraud_accounts_per_device,
            settings.fraud_refund_rate_bps,
            settings.fraud_refund_min_orders,
            settings.fraud_touches_per_ip_minute,
        )


@dataclass(frozen=True)
class Measure:
    kind: SignalKind
    value: int
    threshold: int
    tripped: bool
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scan:
    kols: int  # KOLs measured
    flagged: list[int]  # flags opened


async def scan(*, thresholds: Thresholds, now: datetime | None = None) -> Scan:
    """Measure every KOL with activity in the window; the flags this run opened."""
    now = now or clock.now()
    since = now - WINDOW
    kol_ids = await active_kols(since)
    flagged = []
    for kol_id in kol_ids:
        try:
            opened = await check_kol(kol_id=kol_id, thresholds=thresholds, now=now)
        except Exception:  # one KOL's failure must not stop the others; the next run retries
            log.exception("fraud signals failed for KOL %s", kol_id)
            continue
        if opened is not None:
            flagged.append(opened)
    return Scan(len(kol_ids), flagged)


async def active_kols(since: datetime) -> list[int]:
    """KOLs with a touch, customer or order in their roll-ups since then (the (day, kol_id)
    index), or an order attributed since then."""
    day = clock.to_shanghai(since).date().isoformat()
    rows = await fetch_rows("SELECT DISTINCT `kol_id` FROM `referral_daily` WHERE `day` >= ?", [day])
    ids = {int(r["kol_id"]) for r in rows}
    ids |= set(
        await ReferralAttribution.filter(placed_at__gte=since).distinct().values_list("kol_id", flat=True)
    )
    return sorted(ids)


async def check_kol(*, kol_id: int, thresholds: Thresholds, now: datetime | None = None) -> int | None:
    """Measure one KOL, keep the signals, and flag them when one tripped; the flag opened."""
    now = now or clock.now()
    kol = await Kol.get_or_none(id=kol_id)
    if kol is None:
        return None
    measures = await measure(kol, thresholds, since=now - WINDOW)
    await _keep(kol_id, measures, now)
    tripped = [m for m in measures if m.tripped]
    if not tripped or await KolFlag.exists(open_key=kol_id):
        return None
    if not await _new_evidence(kol_id, tripped):
        return None
    return await open_flag(kol_id=kol_id, tripped=tripped)


async def measure(kol: Kol, t: Thresholds, *, since: datetime) -> list[Measure]:
    accounts = await referred_accounts(kol)
    contacts = await users.contacts_of(accounts)
    return [
        await _self_referrals(kol, t, since),
        _shared_addresses(contacts, t),
        _shared_phone_prefixes(contacts, t),
        await _shared_devices(kol, t, since),
        await _refund_rate(kol, t, since),
        await _touch_burst(kol, t, since),
    ]


async def referred_accounts(kol: Kol) -> list[int]:
    """The accounts the KOL brought, or whose orders were attributed to them, whenever (a ring
    grown slowly is a ring): the most recent MAX_ACCOUNTS of each, read on their indexes; never
    the KOL's own."""
    first = await (
        ReferralCustomer.filter(first_kol_id=kol.id)
        .order_by("-first_at")
        .limit(MAX_ACCOUNTS)
        .values_list("user_id", flat=True)
    )
    ordered = await (
        ReferralAttribution.filter(kol_id=kol.id)
        .order_by("-placed_at")
        .limit(MAX_ACCOUNTS)
        .values_list("user_id", flat=True)
    )
    return sorted({int(u) for u in (*first, *ordered)} - {kol.user_id})


# --- the measures ----------------------------------------------------------------------------


async def _self_referrals(kol: Kol, t: Thresholds, since: datetime) -> Measure:
    rows = await fetch_rows(
        "SELECT `at`, `channel` FROM `referral_touch` WHERE `kol_id` = ? AND `at` >= ? AND `user_id` = ?"
        " ORDER BY `at` DESC",
        [kol.id, since, kol.user_id],
    )
    recent = [{"at": _shown(r["at"]), "channel": str(r["channel"])} for r in rows[:20]]
    n = len(rows)
    return Measure(SignalKind.SELF_REFERRAL, n, t.self_referrals, n >= t.self_referrals, {"touches": recent})


_SPACE = re.compile(r"\s+")


def normal_address(province: str, city: str, district: str, detail: str) -> str:
    """One address however it was typed: whitespace gone, case folded (full-width kept)."""
    return _SPACE.sub("", f"{province}{city}{district}{detail}").casefold()


def mask_address(province: str, city: str, district: str, detail: str) -> str:
    """What staff see of an address: the district, and the detail's first two characters."""
    detail = _SPACE.sub("", detail)
    return f"{province}{city}{district}{detail[:2]}{'*' * min(max(len(detail) - 2, 1), 6)}"


def _groups(by_key: dict[str, set[int]], threshold: int) -> tuple[int, list[tuple[str, list[int]]]]:
    """The biggest group's size, and the biggest groups (at most SHOWN, those at the threshold)."""
    ranked = sorted(by_key.items(), key=lambda item: (-len(item[1]), item[0]))
    top = max((len(ids) for ids in by_key.values()), default=0)
    shown = [(key, sorted(ids)) for key, ids in ranked[:SHOWN] if len(ids) >= min(threshold, 2)]
    return top, shown


def _shared_addresses(contacts: dict[int, users.Contacts], t: Thresholds) -> Measure:
    by_address: dict[str, set[int]] = {}
    masked: dict[str, str] = {}
    for c in contacts.values():
        for a in c.addresses:
            key = normal_address(a.province, a.city, a.district, a.detail)
            by_address.setdefault(key, set()).add(c.user_id)
            masked.setdefault(key, mask_address(a.province, a.city, a.district, a.detail))
    top, shown = _groups(by_address, t.per_address)
    evidence = {"groups": [{"address": masked[key], "user_ids": ids} for key, ids in shown]}
    return Measure(SignalKind.SHARED_ADDRESS, top, t.per_address, top >= t.per_address, evidence)


def _shared_phone_prefixes(contacts: dict[int, users.Contacts], t: Thresholds) -> Measure:
    by_prefix: dict[str, set[int]] = {}
    for c in contacts.values():
        for phone in c.phones:
            digits = "".join(ch for ch in phone if ch.isdigit())
            if len(digits) >= PREFIX_DIGITS + 1:
                by_prefix.setdefault(digits[:PREFIX_DIGITS], set()).add(c.user_id)
    top, shown = _groups(by_prefix, t.per_phone_prefix)
    evidence = {"groups": [{"prefix": f"{key}****", "user_ids": ids} for key, ids in shown]}
    return Measure(
        SignalKind.SHARED_PHONE_PREFIX, top, t.per_phone_prefix, top >= t.per_phone_prefix, evidence
    )


async def _shared_devices(kol: Kol, t: Thresholds, since: datetime) -> Measure:
    rows = await fetch_rows(
        "SELECT DISTINCT `device`, `user_id` FROM `referral_touch` WHERE `kol_id` = ? AND `at` >= ?"
        " AND `device` <> '' AND `user_id` IS NOT NULL AND `user_id` <> ?",
        [kol.id, since, kol.user_id],
    )
    by_device: dict[str, set[int]] = {}
    for r in rows:
        by_device.setdefault(str(r["device"]), set()).add(int(r["user_id"]))
    top, shown = _groups(by_device, t.per_device)
    evidence = {"groups": [{"device": _mask_token(key), "user_ids": ids} for key, ids in shown]}
    return Measure(SignalKind.SHARED_DEVICE, top, t.per_device, top >= t.per_device, evidence)


async def _refund_rate(kol: Kol, t: Thresholds, since: datetime) -> Measure:
    paid = await (
        ReferralAttribution.filter(kol_id=kol.id, status=AttributionStatus.FROZEN, frozen_at__gte=since)
        .order_by("-frozen_at")
        .limit(MAX_ACCOUNTS)
        .values_list("order_id", flat=True)
    )
    refunded = await payments.refunded_orders(list(paid))
    rate = len(refunded) * 10_000 // len(paid) if paid else 0
    tripped = len(paid) >= t.refund_min_orders and rate >= t.refund_rate_bps
    evidence = {
        "paid_orders": len(paid),
        "refunded_orders": len(refunded),
        "min_orders": t.refund_min_orders,
        "refunded": [{"order_id": o, "amount": a} for o, a in sorted(refunded.items())[:50]],
    }
    return Measure(SignalKind.HIGH_REFUND_RATE, rate, t.refund_rate_bps, tripped, evidence)


async def _touch_burst(kol: Kol, t: Thresholds, since: datetime) -> Measure:
    # The minute as text: the first 16 characters of the stored UTC time ("YYYY-MM-DD HH:MM"),
    # the same on MySQL (a DATETIME read as text) and SQLite (an ISO string).
    rows = await fetch_rows(
        "SELECT `ip`, SUBSTR(`at`, 1, 16) AS `minute`, COUNT(*) AS `n` FROM `referral_touch`"
        " WHERE `kol_id` = ? AND `at` >= ? AND `ip` <> '' GROUP BY `ip`, SUBSTR(`at`, 1, 16)"
        " ORDER BY COUNT(*) DESC, `ip` LIMIT ?",
        [kol.id, since, SHOWN],
    )
    top = int(rows[0]["n"]) if rows else 0
    bursts = [
        {"ip": _mask_ip(str(r["ip"])), "minute": _minute_shown(str(r["minute"])), "touches": int(r["n"])}
        for r in rows
        if int(r["n"]) >= min(t.touches_per_ip_minute, 2)
    ]
    return Measure(
        SignalKind.TOUCH_BURST,
        top,
        t.touches_per_ip_minute,
        top >= t.touches_per_ip_minute,
        {"bursts": bursts},
    )


def _mask_ip(ip: str) -> str:
    if ":" in ip:  # IPv6: the first two groups
        return ":".join(ip.split(":")[:2]) + ":*"
    parts = ip.split(".")
    return ".".join([*parts[:3], "*"]) if len(parts) == 4 else "*"


def _mask_token(token: str) -> str:
    return f"{token[:4]}***" if len(token) > 4 else "***"


def _shown(value: Any) -> str:
    """A stored time as staff read it (Beijing time)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{clock.to_shanghai(value):%Y-%m-%d %H:%M:%S}"


def _minute_shown(minute: str) -> str:
    return _shown(minute.replace("T", " ") + ":00")[:16]


# --- keeping the measures, and flagging ------------------------------------------------------


@unit_of_work
async def _keep(kol_id: int, measures: list[Measure], now: datetime) -> None:
    """The latest measure per kind (an upsert: a run racing another leaves one row)."""
    async with write_transaction() as conn:
        for m in measures:
            values = {
                "value": m.value,
                "threshold": m.threshold,
                "tripped": m.tripped,
                "evidence": m.evidence,
                "measured_at": now,
            }
            moved = await KolSignal.filter(kol_id=kol_id, kind=m.kind).using_db(conn).update(**values)
            if moved:
                continue
            try:
                async with write_transaction() as inner:  # a savepoint: the duplicate rolls back alone
                    await KolSignal.create(kol_id=kol_id, kind=m.kind, **values, using_db=inner)
            except IntegrityError:
                await KolSignal.filter(kol_id=kol_id, kind=m.kind).using_db(conn).update(**values)


async def _new_evidence(kol_id: int, tripped: list[Measure]) -> bool:
    """True unless a review already decided on this much: a decided flag had every tripped
    kind at a value at least as high."""
    last = await KolFlag.filter(kol_id=kol_id).exclude(status=FlagStatus.OPEN).order_by("-id").first()
    if last is None:
        return True
    seen = last.evidence or {}
    return any(m.kind.value not in seen or m.value > int(seen[m.kind.value].get("value", 0)) for m in tripped)


@unit_of_work
async def open_flag(*, kol_id: int, tripped: list[Measure]) -> int | None:
    """Open the KOL's flag and hold their earnings, in one transaction; None when a flag was
    open already (another run got there first)."""
    now = clock.now()
    kinds = [m.kind.value for m in tripped]
    evidence = {
        m.kind.value: {"value": m.value, "threshold": m.threshold, "evidence": m.evidence} for m in tripped
    }
    async with write_transaction() as conn:
        try:
            async with write_transaction() as inner:
                flag_id = await insert(
                    "kol_flag",
                    {
                        "kol_id": kol_id,
                        "open_key": kol_id,
                        "status": FlagStatus.OPEN.value,
                        "kinds": kinds,
                        "evidence": evidence,
                        "held": 0,
                        "decided_by": "",
                        "note": "",
                        "created_at": now,
                        "decided_at": None,
                    },
                    connection=inner,
                )
        except IntegrityError:
            return None
        held = await holds.hold_kol(kol_id=kol_id, flag_id=flag_id)
        await execute("UPDATE `kol_flag` SET `held` = ? WHERE `id` = ?", [held, flag_id], connection=conn)
        await append_event_row(
            conn,
            "kol_event",
            ("kol_id", kol_id),
            KolEventType.FLAGGED,
            ACTOR,
            params={"flag_id": flag_id, "kinds": kinds, "held": held},
        )
        await audit.record(
            actor=ACTOR,
            action="kol.flag",
            object_type="kol_flag",
            object_id=flag_id,
            summary=f"推广员 #{kol_id} 触发风控（{'、'.join(kinds)}），冻结佣金 {held} 分",
            after={"status": FlagStatus.OPEN.value, "kinds": kinds, "held": held},
            connection=conn,
        )
        emitted = await outbox.emit(KolFlagged(kol_id=kol_id, flag_id=flag_id), connection=conn)
    await outbox.deliver([emitted])
    return flag_id


async def scan_now(*, settings: Settings) -> Scan:
    """The job, run now (the scheduler hourly, staff on demand)."""
    return await scan(thresholds=Thresholds.of(settings))
