"""Leaders' commission rates: finance sets one per product or per category (its descendants
without one take it), else the setting leader_commission_default_bps applies. Each change is
audited in its own transaction. The rate is stamped on the commission's lines when it accrues,
so a later change never rewrites history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from commerce import clock
from commerce.audit import services as audit
from commerce.catalog import queries as catalog
from commerce.community.commission_models import LeaderCommissionRate
from commerce.community.errors import CommissionError
from commerce.db import execute, insert, model_row
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require
from commerce.transactions import unit_of_work, write_transaction

MAX_BPS = 10_000

Target = Literal["product", "category"]


async def rates_for_products(product_ids: list[int], *, default_bps: int) -> dict[int, int]:
    """Product id -> the leader's commission in basis points: the product's own rate, else its
    category's or nearest ancestor's, else the default."""
    ids = sorted(set(product_ids))
    chains = await catalog.category_chains(ids)
    categories = sorted({c for chain in chains.values() for c in chain})
    own = dict(
        await LeaderCommissionRate.filter(product_id__in=ids or [0]).values_list("product_id", "rate_bps")
    )
    by_category = dict(
        await LeaderCommissionRate.filter(category_id__in=categories or [0]).values_list(
            "category_id", "rate_bps"
        )
    )
    inherited = {
        p: next((by_category[c] for c in chains.get(p, []) if c in by_category), default_bps) for p in ids
    }
    return {p: own.get(p, inherited[p]) for p in ids}


@dataclass(frozen=True)
class RateView:
    target: Target
    target_id: int
    rate_bps: int
    updated_by: str
    updated_at: datetime


async def rates() -> list[RateView]:
    """Every rate finance set, categories first."""
    rows = await LeaderCommissionRate.all().order_by("id")
    views = [
        RateView(
            "category" if r.category_id is not None else "product",
            r.category_id if r.category_id is not None else r.product_id,  # type: ignore[arg-type]
            r.rate_bps,
            r.updated_by,
            r.updated_at,
        )
        for r in rows
    ]
    return sorted(views, key=lambda v: (v.target != "category", v.target_id))


def _column(target: str) -> str:
    if target not in ("product", "category"):
        raise CommissionError.INVALID_RATE.error()
    return f"{target}_id"


async def _exists(target: str, target_id: int) -> bool:
    if target == "category":
        return bool(await catalog.category_chains_of([target_id]))
    return bool(await catalog.category_chains([target_id]))


@unit_of_work
async def set_rate(*, staff: Staff, target: Target, target_id: int, rate_bps: int) -> None:
    """The product's or category's own leader commission rate."""
    require(staff, Permission.FINANCE)
    column = _column(target)
    if type(rate_bps) is not int or not 0 <= rate_bps <= MAX_BPS:
        raise CommissionError.INVALID_RATE.error()
    if not await _exists(target, target_id):
        raise CommissionError.TARGET_NOT_FOUND.error()
    async with write_transaction() as conn:
        before = await LeaderCommissionRate.filter(**{column: target_id}).using_db(conn).first()
        now = clock.now()
        if before is None:
            row = {column: target_id, "rate_bps": rate_bps, "updated_by": staff.actor, "updated_at": now}
            await insert("leader_commission_rate", model_row(LeaderCommissionRate, row), connection=conn)
        else:
            await execute(
                "UPDATE `leader_commission_rate` SET `rate_bps` = ?, `updated_by` = ?, `updated_at` = ?"
                " WHERE `id` = ?",
                [rate_bps, staff.actor, now, before.id],
                connection=conn,
            )
        await _audit(conn, staff, target, target_id, before.rate_bps if before else None, rate_bps)


@unit_of_work
async def clear_rate(*, staff: Staff, target: Target, target_id: int) -> None:
    """The product or category takes its ancestor's rate (or the default) again."""
    require(staff, Permission.FINANCE)
    column = _column(target)
    async with write_transaction() as conn:
        before = await LeaderCommissionRate.filter(**{column: target_id}).using_db(conn).first()
        if before is None:
            return
        await execute("DELETE FROM `leader_commission_rate` WHERE `id` = ?", [before.id], connection=conn)
        await _audit(conn, staff, target, target_id, before.rate_bps, None)


async def _audit(
    conn, staff: Staff, target: str, target_id: int, before: int | None, after: int | None
) -> None:
    shown = "默认/上级" if after is None else f"{after / 100:g}%"
    what = "类目" if target == "category" else "商品"
    await audit.record(
        actor=staff.actor,
        action="leader_commission_rate.set" if after is not None else "leader_commission_rate.clear",
        object_type=target,
        object_id=target_id,
        summary=f"{what} {target_id} 团长佣金费率改为 {shown}",
        before={"rate_bps": before},
        after={"rate_bps": after},
        connection=conn,
    )
