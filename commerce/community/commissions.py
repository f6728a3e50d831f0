"""Leaders' commissions in the books. The platform pays them out of its commission (merchants'
payables and statements are untouched; a leader's rate above the platform's makes the order a
cost to the platform, which finance sees in platform_commission).

ACCRUED `leader_commission:{order_id}:accrued`, when a community order with a stamped leader is
paid: platform_commission +c, leader_pending(leader's user) −c, c = Σ lines
round_half_up(line.payable × rate / 10000), the rate (product, category, default) stamped on
the commission's lines.
REVERSED `leader_commission:refund:{refund_id}`, on refund.succeeded: each line's cumulative
share of what it accrued (a line refunded in full reverses exactly its commission), minus what
was reversed before: leader_pending +Δ, platform_commission −Δ. A commission already earned is
never touched by a refund in practice (it is earned only after the after-sales window, with no
request open and every refund counted); if one came anyway, it is taken back from
payee_payable, and refused while the leader has withdrawn it (finance adjusts by hand).
Counting a refund is commission_reversal's, shared with KOLs' commissions, as earning
(leader_pending → payee_payable after pickup and the after-sales window) is
commission_earning's.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from commerce import clock, commission_lines, commission_reversal
from commerce.community import stamping
from commerce.community.commission_lifecycle import COMMISSION, SYSTEM, append_event
from commerce.community.commission_models import (
    LeaderCommission,
    LeaderCommissionLine,
    LeaderCommissionRefund,
)
from commerce.community.commission_rates import rates_for_products
from commerce.community.commission_states import CommissionEventType, CommissionStatus
from commerce.community.errors import CommissionError
from commerce.community.models import CommunityOrder, Leader
from commerce.db import fetch_rows, insert, insert_many, model_row
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger.queries import round_half_up
from commerce.ledger.states import EntryKind
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments import queries as payments
from commerce.payments.events import PaymentReceived, RefundSucceeded
from commerce.payments.states import RefundStatus
from commerce.transactions import unit_of_work, write_transaction

BPS = 10_000
ACCRUE_JOB = "leader_commissions_accrue"
PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.CLOSED)


# --- accrued at payment ----------------------------------------------------------------------


async def accrue_paid(event: PaymentReceived, *, default_bps: int) -> None:
    """Subscriber of payment.received: each paid community order is stamped with its leader
    (if the cut-off did not stamp it first), and then accrues their commission."""
    await stamping.stamp_paid_orders(event)
    for order_id in event.paid_order_ids:
        await accrue(order_id=order_id, default_bps=default_bps)


@unit_of_work
async def accrue(*, order_id: int, default_bps: int) -> int | None:
    """The leader's commission on a paid community order, accrued once (its id); None when the
    order is no community order, has no leader stamped, is not paid, or is the leader's own."""
    found = await CommunityOrder.get_or_none(order_id=order_id)
    if found is None or found.leader_id is None:
        return None
    existing = await LeaderCommission.get_or_none(order_id=order_id)
    if existing is not None:
        return existing.id
    facts = await orders.order_facts(order_id)
    leader = await Leader.get_or_none(id=found.leader_id)
    if facts is None or facts.status not in PAID or leader is None:
        return None
    if leader.user_id == found.user_id:
        return None  # a leader earns nothing on what they buy themself
    [order] = await orders.charged_orders([order_id])
    rates = await rates_for_products([line.product_id for line in order.lines], default_bps=default_bps)
    parts = [
        (line, rates[line.product_id], round_half_up(line.payable * rates[line.product_id], BPS))
        for line in order.lines
    ]
    amount = sum(part for _, _, part in parts)
    basis = sum(line.payable for line in order.lines)
    pending = ledger.leader_pending(leader.user_id)
    await ledger.ensure_accounts([ledger.PLATFORM_COMMISSION, pending])
    now = clock.now()
    try:
        async with write_transaction() as conn:
            commission_id = await insert(
                "leader_commission",
                model_row(
                    LeaderCommission,
                    {
                        "order_id": order_id,
                        "order_no": order.order_no,
                        "leader_id": leader.id,
                        "leader_user_id": leader.user_id,
                        "sale_id": found.sale_id,
                        "basis": basis,
                        "amount": amount,
                        "status": CommissionStatus.PENDING,
                        "accrued_at": now,
                        "updated_at": now,
                    },
                ),
                connection=conn,
            )
            await insert_many(
                "leader_commission_line",
                [
                    model_row(
                        LeaderCommissionLine,
                        {
                            "commission_id": commission_id,
                            "order_line_id": line.id,
                            "product_id": line.product_id,
                            "basis": line.payable,
                            "rate_bps": rate,
                            "amount": part,
                        },
                    )
                    for line, rate, part in parts
                ],
                connection=conn,
            )
            params = {"amount": amount, "basis": basis}
            await append_event(conn, commission_id, CommissionEventType.ACCRUED, params)
            if amount:
                await ledger.post(
                    conn,
                    key=f"leader_commission:{order_id}:accrued",
                    kind=EntryKind.LEADER_COMMISSION_ACCRUED,
                    lines=[
                        ledger.Line(ledger.PLATFORM_COMMISSION, amount, order_id=order_id),
                        ledger.Line(pending, -amount, order_id=order_id),
                    ],
                    memo=f"团长佣金计提：订单 {order.order_no}（团长 {leader.name}）",
                    detail={
                        "leader_id": leader.id,
                        "lines": {str(line.id): [line.payable, rate, part] for line, rate, part in parts},
                    },
                    occurred_at=found.paid_at,
                )
    except IntegrityError:  # accrued at the same moment by another delivery: that one stands
        existing = await LeaderCommission.get_or_none(order_id=order_id)
        if existing is None:
            raise
        return existing.id
    return commission_id


async def accrue_missing(*, default_bps: int) -> int:
    """The job's catch-up: paid community orders with a leader and no commission yet (their
    leader stamped after the payment's subscriber ran, or its delivery failed)."""
    rows = await fetch_rows(
        "SELECT co.`order_id` FROM `community_order` co"
        " JOIN `community_leader` l ON l.`id` = co.`leader_id`"
        " LEFT JOIN `leader_commission` lc ON lc.`order_id` = co.`order_id`"
        " WHERE lc.`id` IS NULL AND l.`user_id` <> co.`user_id` ORDER BY co.`order_id` LIMIT 1000",
        [],
    )

    async def one(order_id: int) -> bool:
        return await accrue(order_id=order_id, default_bps=default_bps) is not None

    return await jobs.each_item(
        job=ACCRUE_JOB, item_kind="order", items=[r["order_id"] for r in rows], item_id=int, handle=one
    )


# --- reversed on refunds ---------------------------------------------------------------------


async def reverse_refunded(event: RefundSucceeded) -> None:
    """Subscriber of refund.succeeded: the commission's share of what was refunded goes back."""
    refund = await payments.refund_facts(event.refund_id)
    if refund is None or refund.status is not RefundStatus.SUCCEEDED or refund.automatic:
        return
    commission = await LeaderCommission.get_or_none(order_id=refund.order_id)
    if commission is None:
        found = await CommunityOrder.get_or_none(order_id=refund.order_id)
        if found is not None and found.leader_id is not None:
            raise CommissionError.NOT_ACCRUED.error(order_id=refund.order_id)  # retried after it
        return
    if await LeaderCommissionRefund.exists(refund_id=refund.id):
        return
    parts = await commission_lines.refunded_line_parts(refund.order_id, refund.amount, event.aftersale_id)
    await reverse(commission_id=commission.id, refund_id=refund.id, parts=parts, at=refund.succeeded_at)


def _reversal_entry(state: dict, refund_id: int, held: ledger.Account) -> commission_reversal.Entry:
    return commission_reversal.Entry(
        key=f"leader_commission:refund:{refund_id}",
        kind=EntryKind.LEADER_COMMISSION_REVERSED,
        memo=f"团长佣金冲回：订单 {state['order_no']} 退款",
        detail={"refund_id": refund_id, "from": held.code},
    )


REVERSAL = commission_reversal.Reversal(
    table="leader_commission",
    model=LeaderCommission,
    refund_model=LeaderCommissionRefund,
    lifecycle=COMMISSION,
    payee_of=lambda row: row.leader_user_id,
    accounts=lambda user: (ledger.leader_pending(user), ledger.payee_payable(user)),
    open=(CommissionStatus.PENDING,),
    reversed=CommissionStatus.REVERSED,
    voided=None,
    reversed_part=CommissionEventType.REVERSED_PART,
    append_event=append_event,
    actor=SYSTEM,
    entry=_reversal_entry,
    over_refunded=CommissionError.OVER_REFUNDED.error,
    already_earned=CommissionError.ALREADY_EARNED.error,
)


async def reverse(*, commission_id: int, refund_id: int, parts: dict[int, int], at=None) -> int:
    """Count a refund's line parts against the commission; the fen reversed (posted from
    leader_pending, or from payee_payable if it was earned). Once per refund."""
    return await commission_reversal.reverse(
        REVERSAL, commission_id=commission_id, refund_id=refund_id, parts=parts, at=at
    )
