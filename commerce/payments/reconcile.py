"""Reconciliation (the scheduler runs it): what a lost notification would have told us, we ask
WeChat Pay for. Paid attempts are settled, stale prepays of orders that can no longer be paid
are closed, refunds left processing are looked up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from commerce import clock
from commerce.jobs import services as jobs
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments.models import Payment, Refund
from commerce.payments.services import close_attempt
from commerce.payments.settlement import settle_refund, settle_transaction
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.wechat.pay import WeChatPayClient

log = logging.getLogger(__name__)

# A notification normally arrives within seconds; past this we stop waiting and ask.
NOTIFY_GRACE = timedelta(minutes=2)
RECONCILE = "reconcile_payments"  # the scheduled job's name in its failure records
# An ABNORMAL refund waits for the merchant to resolve it at the merchant platform (days,
# perhaps); in case the SUCCESS notification that follows is lost, we ask at this pace.
ABNORMAL_RECHECK = timedelta(minutes=30)


@dataclass
class Reconciled:
    settled: int = 0  # paid attempts found by asking
    closed: int = 0  # stale prepays closed
    refunds: int = 0  # refunds whose outcome was found by asking


async def reconcile_payments(*, pay: WeChatPayClient | None, limit: int = 100) -> Reconciled:
    """Ask WeChat Pay about attempts and refunds a notification should have settled by now. Each
    is handled on its own: one that fails (WeChat Pay unavailable, an answer that does not
    match) is recorded and asked again by a later run, the others go on."""
    done = Reconciled()
    if pay is None:
        return done
    before = clock.now() - NOTIFY_GRACE
    put_off = await jobs.put_off(job=RECONCILE, item_kind="payment")
    attempts = (
        await Payment.filter(status=PaymentStatus.PENDING, updated_at__lte=before)
        .exclude(prepay_id="")
        .exclude(id__in=put_off or [0])
        .order_by("updated_at")
        .limit(limit)
    )
    await jobs.each_item(
        job=RECONCILE,
        item_kind="payment",
        items=attempts,
        item_id=lambda payment: payment.id,
        handle=lambda payment: _reconcile_attempt(payment, pay, done),
    )
    put_off = await jobs.put_off(job=RECONCILE, item_kind="refund")
    processing = Refund.filter(status=RefundStatus.PROCESSING, updated_at__lte=before)
    abnormal = Refund.filter(
        status=RefundStatus.FAILED,
        failure_code="ABNORMAL",
        retried_as_id=None,
        updated_at__lte=clock.now() - ABNORMAL_RECHECK,
    )
    refunds = [
        *await processing.exclude(id__in=put_off or [0]).order_by("updated_at").limit(limit),
        *await abnormal.exclude(id__in=put_off or [0]).order_by("updated_at").limit(limit),
    ]
    await jobs.each_item(
        job=RECONCILE,
        item_kind="refund",
        items=refunds,
        item_id=lambda refund: refund.id,
        handle=lambda refund: _reconcile_refund(refund, pay, done),
    )
    return done


async def _reconcile_refund(refund: Refund, pay: WeChatPayClient, done: Reconciled) -> None:
    answer = await pay.query_refund(refund.out_refund_no)
    status = answer.get("status") if answer is not None else None
    if refund.status is RefundStatus.FAILED and status != "SUCCESS":  # not resolved yet: later
        await Refund.filter(id=refund.id, status=RefundStatus.FAILED).update(updated_at=clock.now())
        return
    if answer is not None and status != "PROCESSING":
        await settle_refund(answer, pay)
        done.refunds += 1


async def _reconcile_attempt(payment: Payment, pay: WeChatPayClient, done: Reconciled) -> None:
    transaction = await pay.query_transaction(payment.out_trade_no)
    state = transaction.get("trade_state") if transaction else None
    if state in ("SUCCESS", "REFUND"):
        await settle_transaction(transaction, pay)
        done.settled += 1
        return
    checkout = await orders.checkout_facts(payment.checkout_id)
    payable = checkout is not None and any(o.status is OrderStatus.PENDING_PAYMENT for o in checkout.orders)
    if state == "CLOSED" or not payable or (checkout and checkout.pay_deadline <= clock.now()):
        if await close_attempt(payment, pay):
            done.closed += 1
    else:  # still the shopper's to pay: look again next time, not every minute until then
        await Payment.filter(id=payment.id, status=PaymentStatus.PENDING).update(updated_at=clock.now())
