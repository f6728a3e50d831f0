"""KOL tiers: the platform creates and renames them, sets each one's default rate and its
second-level rate, and its own rate for any catalog category (the category's descendants
without one take it; `rates.py` resolves a line's rate). Rates are basis points of a line's
paid amount, 0..10000. Every change is audited in its own transaction.

The tier new KOLs join unless the reviewer picks one is the setting `kol_default_tier`,
created with `kol_default_rate_bps` on its first use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count

from commerce import clock
from commerce.audit import services as audit
from commerce.catalog import queries as catalog
from commerce.config import Settings
from commerce.db import execute, insert, model_row
from commerce.referrals.errors import KolError
from commerce.referrals.models import Kol, KolTier, KolTierRate
from commerce.referrals.states import KolStatus
from commerce.transactions import unit_of_work, write_transaction

MAX_BPS = 10_000
NAME_MAX = 32


@dataclass(frozen=True)
class DefaultTier:
    """The tier a KOL joins when the reviewer picks none (from the settings)."""

    name: str
    rate_bps: int

    @classmethod
    def of(cls, settings: Settings) -> DefaultTier:
        return cls(settings.kol_default_tier, settings.kol_default_rate_bps)


@dataclass(frozen=True)
class CategoryRate:
    category_id: int
    category: str  # its full name from the root: "食品 > 茶叶"
    rate_bps: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class TierView:
    id: int
    name: str
    rate_bps: int  # for categories without a rate of the tier's own
    second_level_bps: int
    categories: list[CategoryRate]
    kols: int  # approved KOLs in it now
    created_at: datetime
    updated_at: datetime


@unit_of_work
async def create_tier(*, name: str, rate_bps: int, second_level_bps: int = 0, actor: str) -> TierView:
    name = _name(name)
    _check_bps(rate_bps, second_level_bps)
    now = clock.now()
    try:
        async with write_transaction() as conn:
            tier_id = await insert(
                "kol_tier",
                model_row(
                    KolTier,
                    {
                        "name": name,
                        "rate_bps": rate_bps,
                        "second_level_bps": second_level_bps,
                        "created_at": now,
                        "updated_at": now,
                    },
                ),
                connection=conn,
            )
            await _audit(
                conn,
                actor,
                "kol_tier.create",
                tier_id,
                f"新建推广等级 {name}：默认佣金 {_pct(rate_bps)}，二级 {_pct(second_level_bps)}",
                None,
                {"name": name, "rate_bps": rate_bps, "second_level_bps": second_level_bps},
            )
    except IntegrityError:
        raise KolError.TIER_EXISTS.error() from None
    return await get_tier(tier_id)


@unit_of_work
async def rename_tier(*, tier_id: int, name: str, actor: str) -> TierView:
    name = _name(name)
    before = await _tier(tier_id)
    if before.name == name:
        return await get_tier(tier_id)
    try:
        async with write_transaction() as conn:
            await KolTier.filter(id=tier_id).using_db(conn).update(name=name, updated_at=clock.now())
            await _audit(
                conn,
                actor,
                "kol_tier.rename",
                tier_id,
                f"推广等级 {before.name} 改名为 {name}",
                {"name": before.name},
                {"name": name},
            )
    except IntegrityError:
        raise KolError.TIER_EXISTS.error() from None
    return await get_tier(tier_id)


@unit_of_work
async def set_tier_rates(*, tier_id: int, rate_bps: int, second_level_bps: int, actor: str) -> TierView:
    """The tier's default rate and its second-level rate (paid to the recruiting KOL when two
    levels are on). A commission stamps its rate when it accrues: history is never rewritten."""
    _check_bps(rate_bps, second_level_bps)
    before = await _tier(tier_id)
    async with write_transaction() as conn:
        await (
            KolTier.filter(id=tier_id)
            .using_db(conn)
            .update(rate_bps=rate_bps, second_level_bps=second_level_bps, updated_at=clock.now())
        )
        await _audit(
            conn,
            actor,
            "kol_tier.rates",
            tier_id,
            f"推广等级 {before.name}：默认佣金 {_pct(rate_bps)}，二级 {_pct(second_level_bps)}",
            {"rate_bps": before.rate_bps, "second_level_bps": before.second_level_bps},
            {"rate_bps": rate_bps, "second_level_bps": second_level_bps},
        )
    return await get_tier(tier_id)


@unit_of_work
async def set_category_rate(*, tier_id: int, category_id: int, rate_bps: int | None, actor: str) -> TierView:
    """The tier's own rate for a category (None: clear it; the category takes its nearest
    ancestor's rate of the tier, else the tier's default, again)."""
    if rate_bps is not None:
        _check_bps(rate_bps)
    tier = await _tier(tier_id)
    names = {line.id: line.name for line in await catalog.category_lines()}
    if category_id not in names:
        raise KolError.INVALID_TIER.error("类目不存在")
    async with write_transaction() as conn:
        before = await KolTierRate.filter(tier_id=tier_id, category_id=category_id).using_db(conn).first()
        now = clock.now()
        if rate_bps is None and before is None:
            pass  # nothing to clear: nothing written, nothing audited
        elif rate_bps is None:
            await execute("DELETE FROM `kol_tier_rate` WHERE `id` = ?", [before.id], connection=conn)
        elif before is None:
            await _insert_rate(conn, tier_id, category_id, rate_bps, actor, now)
        else:
            await execute(
                "UPDATE `kol_tier_rate` SET `rate_bps` = ?, `updated_by` = ?, `updated_at` = ?"
                " WHERE `id` = ?",
                [rate_bps, actor[:64], now, before.id],
                connection=conn,
            )
        shown = "沿用上级类目或默认" if rate_bps is None else _pct(rate_bps)
        if before is not None or rate_bps is not None:
            await _audit(
                conn,
                actor,
                "kol_tier.category_rate" if rate_bps is not None else "kol_tier.category_rate_clear",
                tier_id,
                f"推广等级 {tier.name}：类目 {names[category_id]} 佣金 {shown}",
                {"category_id": category_id, "rate_bps": before.rate_bps if before else None},
                {"category_id": category_id, "rate_bps": rate_bps},
            )
    return await get_tier(tier_id)


async def _insert_rate(conn: Any, tier_id: int, category_id: int, rate_bps: int, actor: str, now) -> None:
    try:
        async with write_transaction() as inner:  # a savepoint: a rate set at the same instant
            await insert(
                "kol_tier_rate",
                model_row(
                    KolTierRate,
                    {
                        "tier_id": tier_id,
                        "category_id": category_id,
                        "rate_bps": rate_bps,
                        "updated_by": actor[:64],
                        "updated_at": now,
                    },
                ),
                connection=inner,
            )
    except IntegrityError:  # the last one set wins, as two edits one after the other would
        await execute(
            "UPDATE `kol_tier_rate` SET `rate_bps` = ?, `updated_by` = ?, `updated_at` = ?"
            " WHERE `tier_id` = ? AND `category_id` = ?",
            [rate_bps, actor[:64], now, tier_id, category_id],
            connection=conn,
        )


@unit_of_work
async def default_tier_id(default: DefaultTier) -> int:
    """The default tier's id, created with the default rate on its first use."""
    found = await KolTier.get_or_none(name=default.name)
    if found is not None:
        return found.id
    _check_bps(default.rate_bps)
    now = clock.now()
    try:
        async with write_transaction() as conn:
            tier_id = await insert(
                "kol_tier",
                model_row(
                    KolTier,
                    {
                        "name": _name(default.name),
                        "rate_bps": default.rate_bps,
                        "second_level_bps": 0,
                        "created_at": now,
                        "updated_at": now,
                    },
                ),
                connection=conn,
            )
            await _audit(
                conn,
                "system",
                "kol_tier.create",
                tier_id,
                f"新建默认推广等级 {default.name}：默认佣金 {_pct(default.rate_bps)}",
                None,
                {"name": default.name, "rate_bps": default.rate_bps},
            )
        return tier_id
    except IntegrityError:  # two first approvals at once: the other made it
        return (await KolTier.get(name=default.name)).id


# --- reading ------------------------------------------------------------------------------


async def tiers() -> list[TierView]:
    """Every tier with its rates and its approved KOLs, by name."""
    rows = await KolTier.all().order_by("name", "id")
    return await _views(rows)


async def get_tier(tier_id: int) -> TierView:
    return (await _views([await _tier(tier_id)]))[0]


async def tier_names() -> dict[int, str]:
    return dict(await KolTier.all().values_list("id", "name"))


async def _views(rows: list[KolTier]) -> list[TierView]:
    ids = [row.id for row in rows] or [0]
    counts = dict(
        await Kol.filter(tier_id__in=ids, status=KolStatus.APPROVED)
        .group_by("tier_id")
        .annotate(n=Count("id"))
        .values_list("tier_id", "n")
    )
    rates = await KolTierRate.filter(tier_id__in=ids).order_by("id")
    names = {line.id: line.name for line in await catalog.category_lines()} if rates else {}
    by_tier: dict[int, list[CategoryRate]] = {}
    for r in rates:
        by_tier.setdefault(r.tier_id, []).append(
            CategoryRate(
                r.category_id,
                names.get(r.category_id, f"#{r.category_id}"),
                r.rate_bps,
                r.updated_by,
                r.updated_at,
            )
        )
    return [
        TierView(
            id=row.id,
            name=row.name,
            rate_bps=row.rate_bps,
            second_level_bps=row.second_level_bps,
            categories=sorted(by_tier.get(row.id, []), key=lambda c: c.category),
            kols=counts.get(row.id, 0),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


async def _tier(tier_id: int) -> KolTier:
    tier = await KolTier.get_or_none(id=tier_id)
    if tier is None:
        raise KolError.TIER_NOT_FOUND.error()
    return tier


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise KolError.INVALID_TIER.error("请填写等级名称（最多 32 字）")
    return name


def _check_bps(*values: int) -> None:
    for value in values:
        if type(value) is not int or not 0 <= value <= MAX_BPS:
            raise KolError.INVALID_TIER.error()


def _pct(bps: int) -> str:
    return f"{bps / 100:g}%"


async def _audit(
    conn: Any, actor: str, action: str, tier_id: int, summary: str, before: dict | None, after: dict | None
) -> None:
    await audit.record(
        actor=actor,
        action=action,
        object_type="kol_tier",
        object_id=tier_id,
        summary=summary,
        before=before,
        after=after,
        connection=conn,
    )
