"""KOLs' commissions earned: the hourly job moves what is left of a pending commission to the
KOL's withdrawable balance once its order completed more than the after-sales window ago, with
no request open and every refund of it counted (a refund whose reversal was missed is counted
then). A held commission (its KOL flagged by the fraud signals) is never earned; a pending one
of a KOL flagged meanwhile is held instead.

EARNED `kol_commission:{order_id}:{level}:earned`: kol_pending +e, payee_payable −e,
e = accrued − reversed; keyed once, and the move pending → earned is conditional on the
reversed amount read, so a refund counted meanwhile makes it wait for the next run.
"""

from __future__ import annotations

from commerce import commission_earning
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger.states import EntryKind
from commerce.referrals import holds, rollups
from commerce.referrals.commission_lifecycle import COMMISSION, SYSTEM
from commerce.referrals.commission_models import KolCommission, KolCommissionRefund
from commerce.referrals.commissions import accrue_missing, reverse_refunded
from commerce.referrals.models import KolFlag
from commerce.referrals.states import KolCommissionStatus

EARN_JOB = "kol_commissions_earn"


async def _count_earned(conn, row: KolCommission, amount: int, now) -> None:
    await rollups.bump(conn, kol_id=row.kol_id, at=now, channel=row.channel, commission_earned=amount)


EARNING = commission_earning.Earning(
    model=KolCommission,
    refund_model=KolCommissionRefund,
    lifecycle=COMMISSION,
    pending=KolCommissionStatus.PENDING,
    earned=KolCommissionStatus.EARNED,
    actor=SYSTEM,
    accounts=lambda row: (ledger.kol_pending(row.kol_user_id), ledger.payee_payable(row.kol_user_id)),
    entry=lambda row: (
        f"kol_commission:{row.order_id}:{row.level}:earned",
        EntryKind.KOL_COMMISSION_EARNED,
        f"推广佣金结算：订单 {row.order_no}（{row.level} 级）",
    ),
    reverse_refunded=reverse_refunded,
    also=_count_earned,
)


async def earn_due(*, window_days: int) -> int:
    """Every pending commission whose order completed more than the after-sales window ago,
    with no request open and every refund counted, is earned; how many were."""
    pending = await KolCommission.filter(status=KolCommissionStatus.PENDING).values_list(
        "id", "order_id", "kol_id"
    )
    flags = dict(
        await KolFlag.filter(open_key__in=sorted({k for _, _, k in pending}) or [0]).values_list(
            "open_key", "id"
        )
    )
    for kol_id, flag_id in flags.items():  # flagged while their commission accrued: held now
        await holds.hold_kol(kol_id=kol_id, flag_id=flag_id)
    by_order: dict[int, list[int]] = {}
    for commission_id, order_id, kol_id in pending:
        if kol_id not in flags:
            by_order.setdefault(order_id, []).append(commission_id)
    due_orders = await commission_earning.due_orders(by_order, window_days=window_days)
    due = sorted(commission_id for order_id in due_orders for commission_id in by_order[order_id])

    async def one(commission_id: int) -> bool:
        return await earn(commission_id=commission_id)

    return await jobs.each_item(job=EARN_JOB, item_kind="kol_commission", items=due, item_id=int, handle=one)


async def earn(*, commission_id: int) -> bool:
    """What is left of the commission becomes the KOL's, withdrawable (see
    commerce.commission_earning.earn); a held one never is."""
    return await commission_earning.earn(EARNING, commission_id)


async def settle_due(*, window_days: int) -> int:
    """The scheduler's one call: accrue what was missed, then earn what is due."""
    await accrue_missing()
    return await earn_due(window_days=window_days)
