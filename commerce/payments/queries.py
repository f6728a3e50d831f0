"""Payments and refunds as the order's shopper (or staff) sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.orders import queries as orders
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
    id: int = 0
    order_id: int = 0
    refusal: str = ""  # why staff refused it (the shopper sees it)
    failure: str = ""  # why it failed (staff see it)
    failure_code: str = ""
    requested_by: str = ""
    reviewed_by: str = ""
    reviewed_at: datetime | None = None
    retried: bool = False  # a failed refund submitted again as a new refund


@dataclass(frozen=True)
class PaymentView:
    out_trade_no: str
    transaction_id: str
    amount: int
    status: PaymentStatus
    paid_at: datetime | None
    created_at: datetime
    # What of `amount` is this order's, and how many orders (one per merchant) it paid together.
    order_amount: int = 0
    order_count: int = 1


@dataclass(frozen=True)
class PaidTransaction:
    """What the shipping upload needs: which WeChat Pay transaction, paid by whom."""

    out_trade_no: str
    transaction_id: str
    payer_openid: str


def view_of(r: Refund) -> RefundView:
    return RefundView(
        out_refund_no=r.out_refund_no,
        amount=r.amount,
        reason=r.reason,
        automatic=r.automatic,
        status=RefundStatus(r.status),
        created_at=r.created_at,
        succeeded_at=r.succeeded_at,
        id=r.id,
        order_id=r.order_id,
        refusal=r.refusal,
        failure=r.failure,
        failure_code=r.failure_code,
        requested_by=r.requested_by,
        reviewed_by=r.reviewed_by,
        reviewed_at=r.reviewed_at,
        retried=r.retried_as_id is not None,
    )


async def refunds_of(order_id: int) -> list[RefundView]:
    return [view_of(r) for r in await Refund.filter(order_id=order_id).order_by("id")]


async def payments_of(order_id: int) -> list[PaymentView]:
    """Every WeChat Pay attempt that paid (or tried to pay) the order, oldest first: those of
    its checkout, whose amount covers the checkout's other orders too (order_amount: this one's)."""
    checkout = await orders.checkout_of_order(order_id)
    if checkout is None:
        return []
    share = next((o.payable for o in checkout.orders if o.id == order_id), 0)
    return [
        PaymentView(
            p.out_trade_no,
            p.transaction_id or "",
            p.amount,
            PaymentStatus(p.status),
            p.paid_at,
            p.created_at,
            order_amount=share,
            order_count=len(checkout.orders),
        )
        for p in await Payment.filter(checkout_id=checkout.id).order_by("id")
    ]


async def _checkout_id(order_id: int) -> int:
    checkout = await orders.checkout_of_order(order_id)
    return checkout.id if checkout is not None else 0


async def paying_attempt(order_id: int) -> Payment | None:
    """The attempt of the order's checkout whose money the order keeps: paid, and not one
    returned to it automatically (money that came twice, or for an order already cancelled);
    the first such if several."""
    returned = await Refund.filter(order_id=order_id, automatic=True).values_list("payment_id", flat=True)
    return (
        await Payment.filter(checkout_id=await _checkout_id(order_id), status=PaymentStatus.PAID)
        .exclude(id__in=list(returned) or [0])
        .order_by("paid_at", "id")
        .first()
    )


async def paid_transaction(order_id: int) -> PaidTransaction | None:
    """The WeChat Pay transaction that paid the order."""
    payment = await paying_attempt(order_id)
    if payment is None or not payment.transaction_id:
        return None
    return PaidTransaction(payment.out_trade_no, payment.transaction_id, payment.payer_openid)


async def aftersale_refunds(aftersale_ids: list[int]) -> dict[int, RefundView]:
    """The latest refund of each after-sales request that has one (a retried one's newest)."""
    if not aftersale_ids:
        return {}
    latest: dict[int, RefundView] = {}
    for r in await Refund.filter(aftersale_id__in=aftersale_ids).order_by("id"):
        assert r.aftersale_id is not None
        latest[r.aftersale_id] = view_of(r)
    return latest


async def refund_facts(refund_id: int) -> RefundView | None:
    refund = await Refund.get_or_none(id=refund_id)
    return view_of(refund) if refund is not None else None


async def paid_at(payment_id: int) -> datetime | None:
    """When the payment was recorded paid (None: not paid)."""
    rows = await Payment.filter(id=payment_id).values_list("paid_at", flat=True)
    return rows[0] if rows else None
