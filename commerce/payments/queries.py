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
    aftersale_id: int | None = None  # the after-sales request it pays back


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
        aftersale_id=r.aftersale_id,
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


async def refunded_orders(order_ids: list[int]) -> dict[int, int]:
    """Of these orders, those a shopper's refund succeeded on, and how much came back (fen);
    automatic refunds (money the order could not take) are not the shopper's refunds."""
    if not order_ids:
        return {}
    refunded: dict[int, int] = {}
    for order_id, amount in await Refund.filter(
        order_id__in=sorted(set(order_ids)), status=RefundStatus.SUCCEEDED, automatic=False
    ).values_list("order_id", "amount"):
        refunded[order_id] = refunded.get(order_id, 0) + amount
    return refunded


async def refund_facts(refund_id: int) -> RefundView | None:
    refund = await Refund.get_or_none(id=refund_id)
    return view_of(refund) if refund is not None else None


async def paid_at(payment_id: int) -> datetime | None:
    """When the payment was recorded paid (None: not paid)."""
    rows = await Payment.filter(id=payment_id).values_list("paid_at", flat=True)
    return rows[0] if rows else None


@dataclass(frozen=True)
class PaidPayment:
    """A paid attempt as the books post it: the orders it paid, and those it could not."""

    id: int
    paid_order_ids: list[int]
    returned_order_ids: list[int]  # their money went back (an automatic refund of this attempt)
    amount: int


async def paid_payments_after(after_id: int, *, limit: int) -> list[PaidPayment]:
    """Paid attempts with an id above `after_id`, in id order (for the books' catch-up)."""
    payments = await Payment.filter(id__gt=after_id, status=PaymentStatus.PAID).order_by("id").limit(limit)
    if not payments:
        return []
    returned: dict[int, set[int]] = {}
    for payment_id, order_id in await Refund.filter(
        payment_id__in=[p.id for p in payments], automatic=True
    ).values_list("payment_id", "order_id"):
        returned.setdefault(payment_id, set()).add(order_id)
    found = []
    for p in payments:
        checkout = await orders.checkout_facts(p.checkout_id)
        order_ids = [o.id for o in checkout.orders] if checkout is not None else []
        back = returned.get(p.id, set())
        found.append(
            PaidPayment(
                p.id, [i for i in order_ids if i not in back], sorted(back & set(order_ids)), p.amount
            )
        )
    return found


async def succeeded_refunds_after(after_id: int, *, limit: int) -> list[RefundView]:
    """Succeeded refunds with an id above `after_id`, in id order (for the books' catch-up)."""
    refunds = await Refund.filter(id__gt=after_id, status=RefundStatus.SUCCEEDED).order_by("id").limit(limit)
    return [view_of(r) for r in refunds]


# -- what the day's WeChat Pay bills are compared with (commerce.reconciliation) --------------


@dataclass(frozen=True)
class Movement:
    """A payment attempt (by out_trade_no) or a refund (by out_refund_no) as we hold it."""

    reference: str
    amount: int  # fen
    status: str  # PaymentStatus or RefundStatus
    at: datetime | None  # paid_at or succeeded_at


def _payment_movement(p: Payment) -> Movement:
    return Movement(p.out_trade_no, p.amount, PaymentStatus(p.status).value, p.paid_at)


def _refund_movement(r: Refund) -> Movement:
    return Movement(r.out_refund_no, r.amount, RefundStatus(r.status).value, r.succeeded_at)


async def payments_paid_between(start: datetime, end: datetime) -> list[Movement]:
    """Attempts WeChat Pay took money for within [start, end)."""
    found = Payment.filter(status=PaymentStatus.PAID, paid_at__gte=start, paid_at__lt=end).order_by("id")
    return [_payment_movement(p) for p in await found]


async def refunds_succeeded_between(start: datetime, end: datetime) -> list[Movement]:
    """Refunds whose money went back within [start, end)."""
    found = Refund.filter(status=RefundStatus.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end)
    return [_refund_movement(r) for r in await found.order_by("id")]


_CHUNK = 500  # references per IN (...) list


async def payments_by_reference(out_trade_nos: list[str]) -> dict[str, Movement]:
    """Our attempts by out_trade_no, whatever their status (those we know of)."""
    return await _by_reference(Payment, "out_trade_no", out_trade_nos, _payment_movement)


async def refunds_by_reference(out_refund_nos: list[str]) -> dict[str, Movement]:
    """Our refunds by out_refund_no, whatever their status (those we know of)."""
    return await _by_reference(Refund, "out_refund_no", out_refund_nos, _refund_movement)


async def _by_reference(model, field: str, references: list[str], movement) -> dict[str, Movement]:
    found: dict[str, Movement] = {}
    for i in range(0, len(references), _CHUNK):
        for row in await model.filter(**{f"{field}__in": references[i : i + _CHUNK]}):
            found[getattr(row, field)] = movement(row)
    return found
