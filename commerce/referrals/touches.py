"""Touches: every time someone reaches the shop through a KOL's link or code.

`touch` writes one touch at once (the bot's follows and scans: a handful per second at most).
`record` is the hot path (link and mini-program-code opens, shares: thousands per second on a
viral day): it checks the code against a short in-process cache of approved codes and pushes
the touch onto a Redis list; `flush` (the scheduler, every few seconds, and at shutdown) writes
what was pushed in batches (see buffer.py for how the list is drained safely). A touch by the
KOL themself is kept (the fraud signals count them) but binds nobody; a code that is not an
approved KOL's is refused (referral_code_invalid) and not recorded."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as redis

from commerce import clock
from commerce.db import insert, insert_many, model_row
from commerce.referrals import buffer, customers, rollups
from commerce.referrals.errors import ReferralError
from commerce.referrals.models import Kol, ReferralTouch
from commerce.referrals.states import KolStatus, TouchChannel
from commerce.transactions import unit_of_work, write_transaction

CODE_LENGTH = 16
# Approved codes held in this process: a touch checks its code without the database. A KOL
# suspended (or approved) meanwhile is seen within this many seconds in every process
# (forget_codes() drops them at once in the process that changed the KOL).
CODE_CACHE_SECONDS = 5.0
MAX_CACHED_CODES = 50_000


@dataclass(frozen=True)
class Touch:
    code: str
    channel: TouchChannel
    user_id: int | None = None
    visitor: str = ""
    ip: str = ""
    device: str = ""
    path: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Touched:
    kol_id: int
    new_customer: bool  # the shopper's first touch: the KOL now protects them
    own: bool  # the KOL touched their own code: kept for the signals, binds nobody


def normal_code(code: str) -> str:
    return (code or "").strip().upper()[:CODE_LENGTH]


@dataclass(frozen=True)
class CodeOwner:
    kol_id: int
    user_id: int
    name: str


_codes: dict[str, tuple[CodeOwner, float]] = {}


async def owner_of_code(code: str) -> CodeOwner:
    """The approved KOL of this code, from the cache of approved codes (unknown, refused and
    suspended codes are never cached: each asks the database, by its unique index)."""
    code = normal_code(code)
    now = time.monotonic()
    held = _codes.get(code)
    if held is not None and held[1] > now:
        return held[0]
    rows = (
        await Kol.filter(code=code, status=KolStatus.APPROVED).values_list("id", "user_id", "name")
        if code
        else []
    )
    if not rows:
        _codes.pop(code, None)
        raise ReferralError.INVALID_CODE.error()
    owner = CodeOwner(*rows[0])
    if len(_codes) >= MAX_CACHED_CODES:
        _codes.clear()
    _codes[code] = (owner, now + CODE_CACHE_SECONDS)
    return owner


def forget_codes() -> None:
    """Drop the cached codes (after a KOL's status changed in this process)."""
    _codes.clear()


async def approved_kol(code: str) -> Kol:
    kol = await Kol.get_or_none(code=normal_code(code), status=KolStatus.APPROVED) if code else None
    if kol is None:
        raise ReferralError.INVALID_CODE.error()
    return kol


@unit_of_work
async def touch(*, touch: Touch, protection_days: int) -> Touched:
    """Write one touch now: its row, the shopper's customer row, and the day's funnel."""
    kol = await approved_kol(touch.code)
    at = touch.at or clock.now()
    own = touch.user_id is not None and touch.user_id == kol.user_id
    async with write_transaction() as conn:
        await insert(
            "referral_touch",
            model_row(
                ReferralTouch,
                {
                    "kol_id": kol.id,
                    "channel": touch.channel,
                    "user_id": touch.user_id,
                    "visitor": touch.visitor[:64],
                    "ip": touch.ip[:45],
                    "device": touch.device[:64],
                    "path": touch.path[:128],
                    "at": at,
                },
            ),
            connection=conn,
        )
        new = False
        if touch.user_id is not None and not own:
            new = await customers.touched(
                conn,
                customers.CustomerTouch(touch.user_id, kol.id, touch.channel, at),
                protection_days=protection_days,
            )
        follows = 1 if touch.channel is TouchChannel.QR_FOLLOW else 0
        await rollups.bump(
            conn, kol_id=kol.id, at=at, channel=touch.channel, touches=1, follows=follows, customers=int(new)
        )
    return Touched(kol.id, new, own)


# --- the hot path: buffered in Redis, written in batches ---------------------------------


@dataclass(frozen=True)
class Recorded:
    kol_id: int
    own: bool


async def record(redis_client: redis.Redis, *, touch: Touch) -> Recorded:
    """Take a touch for writing by the next flush (one Redis round trip once the code is
    cached). A signed-in shopper's touch is also noted under their id, so a checkout right
    after it sees it before the flush (attribution.resolve)."""
    owner = await owner_of_code(touch.code)
    own = touch.user_id is not None and touch.user_id == owner.user_id
    item = buffer.Buffered(
        kol_id=owner.kol_id,
        channel=touch.channel,
        user_id=touch.user_id,
        visitor=touch.visitor[:64],
        ip=touch.ip[:45],
        device=touch.device[:64],
        path=touch.path[:128],
        at=touch.at or clock.now(),
        own=own,
    )
    await buffer.push(redis_client, item, note_shopper=touch.user_id is not None and not own)
    return Recorded(owner.kol_id, own)


async def flush(redis_client: redis.Redis, *, protection_days: int, batch: int = 5000) -> int:
    """Write one batch of buffered touches (at most `batch`); how many were written."""
    return await buffer.flush(redis_client, write=lambda items: _write(items, protection_days), batch=batch)


async def flush_all(
    redis_client: redis.Redis, *, protection_days: int, batch: int = 5000, max_batches: int = 100
) -> int:
    """Write what is buffered now (and batches a dead flusher left), batch by batch."""
    write = lambda items: _write(items, protection_days)  # noqa: E731
    written = await buffer.recover(redis_client, write=write)
    for _ in range(max_batches):
        n = await buffer.flush(redis_client, write=write, batch=batch)
        written += n
        if n < batch:
            break
    return written


@unit_of_work
async def _write(items: list[buffer.Buffered], protection_days: int) -> None:
    """One batch in one transaction: the touch rows, each signed-in shopper's customer row (in
    time order: only their earliest and latest touch of the batch can change it) and the
    funnel's counters."""
    items = sorted(items, key=lambda t: t.at)
    bumps: list[rollups.Bump] = []
    async with write_transaction() as conn:
        for start in range(0, len(items), INSERT_ROWS):
            await insert_many(
                "referral_touch", [_row(t) for t in items[start : start + INSERT_ROWS]], connection=conn
            )
        shoppers: dict[int, list[buffer.Buffered]] = {}
        for t in items:
            if t.user_id is not None and not t.own:
                shoppers.setdefault(t.user_id, []).append(t)
        for user_id in sorted(shoppers):  # the same order in every flusher: no deadlock cycle
            seen = shoppers[user_id]
            first, last = seen[0], seen[-1]
            if await customers.touched(conn, _customer(first), protection_days=protection_days):
                bumps.append(
                    rollups.bump_of(kol_id=first.kol_id, at=first.at, channel=first.channel, customers=1)
                )
            if last is not first:
                await customers.touched(conn, _customer(last), protection_days=protection_days)
        bumps += [
            rollups.bump_of(
                kol_id=t.kol_id,
                at=t.at,
                channel=t.channel,
                touches=1,
                follows=int(t.channel is TouchChannel.QR_FOLLOW),
            )
            for t in items
        ]
        await rollups.bump_many(conn, bumps)


INSERT_ROWS = 1000  # rows per INSERT statement (SQLite's bound parameters, MySQL's packet)


def _row(t: buffer.Buffered) -> dict:
    return model_row(
        ReferralTouch,
        {
            "kol_id": t.kol_id,
            "channel": t.channel,
            "user_id": t.user_id,
            "visitor": t.visitor,
            "ip": t.ip,
            "device": t.device,
            "path": t.path,
            "at": t.at,
        },
    )


def _customer(t: buffer.Buffered) -> customers.CustomerTouch:
    return customers.CustomerTouch(t.user_id or 0, t.kol_id, t.channel, t.at)
