"""Leaders' commissions earned: the hourly job moves what is left of a pending commission to the
leader's withdrawable balance once its order was picked up (completed) more than the after-sales
window ago, with no request open and every refund of it counted (a refund whose reversal was
missed is counted then):

EARNED `leader_commission:{order_id}:earned`: leader_pending +e, payee_payable −e,
e = accrued − reversed; keyed once, and the move pending → earned is conditional on the
reversed amount read, so a refund counted meanwhile makes it wait for the next run.
"""

from __future__ import annotations

from commerce import commission_earning
from commerce.community.commission_lifecycle import COMMISSION, SYSTEM
from commerce.community.commission_models import LeaderCommission, LeaderCommissionRefund
from commerce.community.commission_states import CommissionStatus
from commerce.community.commissions import accrue_missing, reverse_refunded
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind

EARN_JOB = "leader_commissions_earn"

EARNING = commission_earning.Earning(
    model=LeaderCommission,
    refund_model=LeaderCommissionRefund,
    lifecycle=COMMISSION,
    pending=CommissionStatus.PENDING,
    earned=CommissionStatus.EARNED,
    actor=SYSTEM,
    accounts=lambda row: (
        ledger.leader_pending(row.leader_user_id),
        ledger.payee_payable(row.leader_user_id),
    ),
    entry=lambda row: (
        f"leader_commission:{row.order_id}:earned",
        EntryKind.LEADER_COMMISSION_EARNED,
        f"团长佣金结算：订单 {row.order_no}",
    ),
    reverse_refunded=reverse_refunded,
)


async def earn_due(*, window_days: int) -> int:
    """The hourly job: every pending commission whose order was picked up (completed) more than
    the after-sales window ago, with no request open and every refund counted, is earned. How
    many were."""
    pending = await LeaderCommission.filter(status=CommissionStatus.PENDING).values_list("id", "order_id")
    by_order = {order_id: commission_id for commission_id, order_id in pending}
    due_orders = await commission_earning.due_orders(by_order, window_days=window_days)
    due = [by_order[order_id] for order_id in sorted(due_orders)]

    async def one(commission_id: int) -> bool:
        return await earn(commission_id=commission_id)

    return await jobs.each_item(
        job=EARN_JOB, item_kind="leader_commission", items=due, item_id=int, handle=one
    )


async def earn(*, commission_id: int) -> bool:
    """What is left of the commission becomes the leader's, withdrawable (see
    commerce.commission_earning.earn)."""
    return await commission_earning.earn(EARNING, commission_id)


async def settle_due(*, window_days: int, default_bps: int) -> int:
    """The scheduler's one call: accrue what was missed, then earn what is due."""
    await accrue_missing(default_bps=default_bps)
    return await earn_due(window_days=window_days)
