"""What leaders' and KOLs' commissions share: a refund's fen per order line, and reversing each
commission line's cumulative share of what it accrued (a line refunded in full reverses
exactly its commission). Each caller names its own line table and refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commerce.aftersales import queries as aftersales
from commerce.db import execute, fetch_rows
from commerce.ledger.queries import round_half_up
from commerce.money import split_largest_remainder
from commerce.orders import queries as orders

LINE_TABLES = frozenset({"leader_commission_line", "kol_commission_line"})


def reversed_share(amount: int, basis: int, refunded: int) -> int:
    """What of a line's commission `amount` on `basis` is reversed once `refunded` of it was
    refunded, all told: the share rounded half up, and exactly the amount when all was."""
    return amount if refunded >= basis else round_half_up(amount * refunded, basis)


async def refunded_line_parts(order_id: int, amount: int, aftersale_id: int | None) -> dict[int, int]:
    """The refund's fen per order line (the after-sales request's; without one, split as the
    lines and the rest were paid, as the books split it)."""
    parts = await aftersales.refunded_parts(aftersale_id) if aftersale_id is not None else None
    if parts is not None:
        return {line_id: share for line_id, share in parts.lines.items() if share}
    [order] = await orders.charged_orders([order_id])
    weights = [line.payable for line in order.lines]
    weights.append(order.payable - sum(weights))
    shares = split_largest_remainder(amount, weights)
    return {line.id: share for line, share in zip(order.lines, shares, strict=False) if share}


async def reverse_lines(
    conn: Any,
    *,
    table: str,
    commission_id: int,
    parts: dict[int, int],
    over_refunded: Callable[..., Exception],
) -> int:
    """Add each order line's part to its commission line's refunded, set its reversed to the
    cumulative share of what it accrued; the fen newly reversed, summed. More refunded than
    the line's basis raises `over_refunded(line=, refunded=, basis=)`."""
    if table not in LINE_TABLES:
        raise ValueError(f"not a commission line table: {table}")
    rows = {
        row["order_line_id"]: row
        for row in await fetch_rows(
            "SELECT `id`, `order_line_id`, `basis`, `amount`, `refunded`, `reversed`"
            f" FROM `{table}` WHERE `commission_id` = ?",
            [commission_id],
            connection=conn,
        )
    }
    total = 0
    for line_id, share in parts.items():
        row = rows.get(line_id)
        if row is None or not share:
            continue
        refunded = int(row["refunded"]) + share
        basis, amount, before = int(row["basis"]), int(row["amount"]), int(row["reversed"])
        if refunded > basis:
            raise over_refunded(line=line_id, refunded=refunded, basis=basis)
        now_reversed = reversed_share(amount, basis, refunded)
        await execute(
            f"UPDATE `{table}` SET `refunded` = ?, `reversed` = ? WHERE `id` = ?",
            [refunded, now_reversed, row["id"]],
            connection=conn,
        )
        total += now_reversed - before
    return total
