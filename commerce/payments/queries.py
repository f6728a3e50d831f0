"""Payments and refunds as the order's shopper (or staff) sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.payments.models import Payment, Refund
from commerce.payments.states import PaymentStatus, RefundStatus


@dataclass(frozen=True)
class RefundView:
    out_refund_no: str
    amount: int
    reason: str
    automatic: bool  # we returned money the order could not take (paid after cancel, or twice)
    status: RefundStatus
    created_at: datetime
    succeeded_at: datetime | None


@dataclass(frozen=True)
class PaidTransaction:
    """What the shipping upload needs: which WeChat Pay transaction, paid by whom."""

    out_trade_no: str
    transaction_id: str
    payer_openid: str


async def refunds_of(order_id: int) -> list[RefundView]:
    return [
        RefundView(
            out_refund_no=r.out_refund_no,
            amount=r.amount,
            reason=r.reason,
            automatic=r.automatic,
            status=RefundStatus(r.status),
            created_at=r.created_at,
            succeeded_at=r.succeeded_at,
        )
        for r in await Refund.filter(order_id=order_id).order_by("id")
    ]


async def paid_transaction(order_id: int) -> PaidTransaction | None:
    """The attempt that paid the order (the first, if money came twice)."""
    payment = (
        await Payment.filter(order_id=order_id, status=PaymentStatus.PAID).order_by("paid_at", "id").first()
    )
    if payment is None or not payment.transaction_id:
        return None
    return PaidTransaction(payment.out_trade_no, payment.transaction_id, payment.payer_openid)
