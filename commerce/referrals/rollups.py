"""The funnels' roll-ups: counters per KOL, Asia/Shanghai day and channel, bumped by one upsert
(INSERT … ON DUPLICATE KEY / ON CONFLICT … DO UPDATE with col = col + n), so concurrent bumps
from many workers add up without reading first. Every part of the referral context that makes
a funnel figure move (touches, follows, new customers, paid orders, commissions) calls `bump`
in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from commerce import clock
from commerce.db import execute
from commerce.referrals.states import TouchChannel

COUNTERS = (
    "touches",
    "follows",
    "customers",
    "orders",
    "paid_gmv",
    "commission_pending",
    "commission_earned",
    "commission_reversed",
)


@dataclass(frozen=True)
class Bump:
    kol_id: int
    day: date  # Asia/Shanghai
    channel: TouchChannel
    counts: dict[str, int]


def day_of(moment: datetime) -> date:
    return clock.to_shanghai(moment).date()


def bump_of(*, kol_id: int, at: datetime, channel: TouchChannel | str, **counts: int) -> Bump:
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"no such funnel counter: {sorted(unknown)}")
    return Bump(kol_id, day_of(at), TouchChannel(channel), {k: v for k, v in counts.items() if v})


async def bump(conn: Any, *, kol_id: int, at: datetime, channel: TouchChannel | str, **counts: int) -> None:
    """Add to one KOL's day and channel (in the caller's transaction)."""
    await bump_many(conn, [bump_of(kol_id=kol_id, at=at, channel=channel, **counts)])


async def bump_many(conn: Any, bumps: Iterable[Bump]) -> None:
    """Add many bumps in one statement per set of counters (a flush of touches: thousands)."""
    merged: dict[tuple[int, date, str], dict[str, int]] = {}
    for b in bumps:
        if not b.counts:
            continue
        row = merged.setdefault((b.kol_id, b.day, b.channel.value), dict.fromkeys(COUNTERS, 0))
        for name, n in b.counts.items():
            row[name] += n
    if not merged:
        return
    # Sorted: two flushes bumping the same rows lock them in the same order (no deadlock cycle).
    keys = sorted(merged)
    columns = ("kol_id", "day", "channel", *COUNTERS)
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    values: list[Any] = []
    for key in keys:
        values += [*key, *(merged[key][name] for name in COUNTERS)]
    names = ", ".join(f"`{c}`" for c in columns)
    sql = f"INSERT INTO `referral_daily` ({names}) VALUES {', '.join(marks for _ in keys)}"
    if conn.capabilities.dialect == "mysql":
        adds = ", ".join(f"`{c}` = `{c}` + VALUES(`{c}`)" for c in COUNTERS)
        sql += f" ON DUPLICATE KEY UPDATE {adds}"
    else:
        adds = ", ".join(f"`{c}` = `{c}` + excluded.`{c}`" for c in COUNTERS)
        sql += f" ON CONFLICT (`kol_id`, `day`, `channel`) DO UPDATE SET {adds}"
    await execute(sql, values, connection=conn)
