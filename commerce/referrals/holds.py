"""Holding a flagged KOL's earnings: while a fraud flag is open, the KOL's pending commissions
are held (the earning job never earns them), and commissions accrued meanwhile start held; the
platform's review releases them (back to pending) or voids them: what is left of each goes back
from kol_pending to the platform,

VOIDED `kol_commission:{commission_id}:voided`: kol_pending +left, platform_commission −left.

Each call is one unit of work of conditional moves (an event row each), safe to run twice: the
second finds nothing left in the status it moves from."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q

from commerce import clock
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind
from commerce.referrals import rollups
from commerce.referrals.commission_lifecycle import COMMISSION, SYSTEM
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.states import KolCommissionStatus
from commerce.transactions import unit_of_work, write_transaction

HELD, PENDING, VOIDED = KolCommissionStatus.HELD, KolCommissionStatus.PENDING, KolCommissionStatus.VOIDED


async def _left(conn: Any, commission_id: int) -> int:
    row = await KolCommission.filter(id=commission_id).using_db(conn).first()
    return row.amount - row.reversed if row is not None else 0


async def _move_all(
    kol_id: int, frm: KolCommissionStatus, to: KolCommissionStatus, *, actor: str, params: dict
) -> int:
    ids = await KolCommission.filter(kol_id=kol_id, status=frm).order_by("id").values_list("id", flat=True)
    total = 0
    async with write_transaction() as conn:
        for commission_id in ids:
            if await COMMISSION.try_move(conn, commission_id, frm, to, actor=actor, params=params):
                total += await _left(conn, commission_id)
    return total


@unit_of_work
async def hold_kol(*, kol_id: int, flag_id: int) -> int:
    """Hold every pending commission of the KOL; the fen held."""
    return await _move_all(kol_id, PENDING, HELD, actor=SYSTEM, params={"flag_id": flag_id, "why": "held"})


@unit_of_work
async def release_kol(*, kol_id: int, flag_id: int, actor: str) -> int:
    """Release the KOL's held commissions back to pending; the fen released."""
    return await _move_all(kol_id, HELD, PENDING, actor=actor, params={"flag_id": flag_id, "why": "released"})


@unit_of_work
async def void_kol(*, kol_id: int, flag_id: int, actor: str) -> int:
    """Void the KOL's held commissions, reversing what is left of each in the books; the fen."""
    rows = await KolCommission.filter(kol_id=kol_id, status=HELD).order_by("id")
    if not rows:
        return 0
    users = {row.kol_user_id for row in rows}
    await ledger.ensure_accounts([ledger.PLATFORM_COMMISSION, *(ledger.kol_pending(u) for u in users)])
    total = 0
    now = clock.now()
    async with write_transaction() as conn:
        for row in rows:
            # What is left as of now, in this transaction: a refund counted meanwhile changed it,
            # and the move below is conditional on it.
            fresh = await KolCommission.filter(id=row.id).using_db(conn).first()
            if fresh is None or fresh.status is not HELD:
                continue
            left = fresh.amount - fresh.reversed
            moved = await COMMISSION.try_move(
                conn,
                row.id,
                HELD,
                VOIDED,
                actor=actor,
                params={"flag_id": flag_id, "why": "voided", "amount": left},
                changes={"reversed": fresh.amount},
                where=Q(reversed=fresh.reversed),
            )
            if moved is None:
                continue
            if left:
                await ledger.post(
                    conn,
                    key=f"kol_commission:{row.id}:voided",
                    kind=EntryKind.KOL_COMMISSION_VOIDED,
                    lines=[
                        ledger.Line(ledger.kol_pending(fresh.kol_user_id), left, order_id=fresh.order_id),
                        ledger.Line(ledger.PLATFORM_COMMISSION, -left, order_id=fresh.order_id),
                    ],
                    memo=f"推广佣金作废（风控审核）：订单 {fresh.order_no}（{fresh.level} 级）",
                    actor=actor,
                    detail={"commission_id": row.id, "flag_id": flag_id, "left": left},
                )
                await rollups.bump(
                    conn, kol_id=fresh.kol_id, at=now, channel=fresh.channel, commission_reversed=left
                )
            total += left
    return total
