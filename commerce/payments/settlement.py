"""What WeChat Pay tells us: a transaction paid, a refund done. From a notification or from
reconciliation's query, the same code applies it once, however often WeChat repeats itself."""

from __future__ import annotations

import logging
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from commerce import clock, outbox
from commerce.errors import CommerceError
from commerce.groupbuy import services as groupbuy
from commerce.metrics import GMV_PAID, ORDERS_PAID, PAYMENT_NOTIFICATIONS
from commerce.orders import queries as orders
from commerce.orders import services as order_services
from commerce.orders.states import EventType, OrderStatus
from commerce.payments.errors import PaymentError
from commerce.payments.events import PaymentReceived, PaymentReturned, RefundFailed, RefundSucceeded
from commerce.payments.lifecycle import REFUND
from commerce.payments.models import Payment, Refund
from commerce.payments.services import create_refund
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.wechat.pay import NotificationMalformed, NotificationRejected, WeChatPayClient

log = logging.getLogger(__name__)

ACTOR = "system:wechatpay"
PAYMENT_RETURNED = PaymentReturned.topic  # the shopper is to be told their money goes back
REFUND_SUCCEEDED = RefundSucceeded.topic
REFUND_FAILED = RefundFailed.topic
# Where a SUCCESS may come from: on its way, or ABNORMAL (the bank refused the original path)
# and then resolved by the merchant at the merchant platform, which WeChat Pay reports as SUCCESS.
SUCCEEDS_FROM = Q(status__in=(RefundStatus.REQUESTED, RefundStatus.PROCESSING)) | Q(
    status=RefundStatus.FAILED, failure_code="ABNORMAL", retried_as_id=None
)


async def on_payment_notification(*, pay: WeChatPayClient | None, headers: Any, body: bytes) -> None:
    """POST /pay/wechat/notify: verify, decrypt, apply. Raises NOTIFICATION_REJECTED or
    NOTIFICATION_MISMATCH (answered FAIL, nothing changed); returns for success."""
    try:
        notification = _open(pay, headers, body)
        if notification.event_type != "TRANSACTION.SUCCESS":
            log.info("payment notification %s ignored: %s", notification.id, notification.event_type)
            PAYMENT_NOTIFICATIONS.labels("ignored").inc()
            return
        assert pay is not None
        settled = await settle_transaction(notification.resource, pay)
    except CommerceError as error:  # rejected, malformed, mismatch: by its stable code
        PAYMENT_NOTIFICATIONS.labels(str(error.code)).inc()
        raise
    except Exception:  # the database failed: WeChat Pay is answered 500 and tells us again
        PAYMENT_NOTIFICATIONS.labels("error").inc()
        raise
    PAYMENT_NOTIFICATIONS.labels("paid" if settled else "duplicate").inc()


async def on_refund_notification(*, pay: WeChatPayClient | None, headers: Any, body: bytes) -> None:
    """POST /pay/wechat/refund-notify: like the payment notification, for refunds."""
    notification = _open(pay, headers, body)
    assert pay is not None
    await settle_refund(notification.resource, pay)


def _open(pay: WeChatPayClient | None, headers: Any, body: bytes):
    if pay is None:
        raise PaymentError.NOTIFICATION_REJECTED.error()
    try:
        return pay.open_notification(headers, body)
    except NotificationMalformed as exc:  # signed, so WeChat Pay's: a 400, not an impostor's 401
        log.error("WeChat Pay notification unreadable: %s", exc)
        raise PaymentError.NOTIFICATION_MALFORMED.error() from None
    except NotificationRejected as exc:
        log.warning("WeChat Pay notification refused: %s", exc)
        raise PaymentError.NOTIFICATION_REJECTED.error() from None


async def settle_from_query(out_trade_no: str, pay: WeChatPayClient) -> None:
    """Ask WeChat Pay about an attempt and apply what it says (reconciliation)."""
    transaction = await pay.query_transaction(out_trade_no)
    if transaction is not None and transaction.get("trade_state") in ("SUCCESS", "REFUND"):
        await settle_transaction(transaction, pay)


@unit_of_work
async def settle_transaction(transaction: dict[str, Any], pay: WeChatPayClient) -> bool:
    """Record a paid transaction once and move every order of its checkout to paid, in one
    transaction; money an order cannot take (cancelled meanwhile, or paid through another
    attempt) goes back automatically. False: recorded before (or not paid), nothing done."""
    if transaction.get("trade_state") not in ("SUCCESS", "REFUND"):
        return False
    payment = await _matching_payment(transaction, pay)
    transaction_id = str(transaction.get("transaction_id") or "")
    payer = transaction.get("payer") or {}
    checkout = await orders.checkout_facts(payment.checkout_id)
    assert checkout is not None
    # What the books charge each order, read before the transaction (it stays short).
    terms = await order_services.charge_terms([order.id for order in checkout.orders])
    events: list[outbox.OutboxEvent] = []
    try:
        async with write_transaction() as conn:
            moved = await (
                Payment.filter(id=payment.id, status__in=(PaymentStatus.PENDING, PaymentStatus.CLOSED))
                .using_db(conn)
                .update(
                    status=PaymentStatus.PAID,
                    transaction_id=transaction_id,
                    payer_openid=str(payer.get("openid") or payment.payer_openid),
                    paid_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
            if not moved:  # paid before: a redelivery, or a duplicate from another server
                return False
            details = {"out_trade_no": payment.out_trade_no, "transaction_id": transaction_id}
            returned = [
                order
                for order in checkout.orders
                if not await order_services.mark_paid(
                    conn, order_id=order.id, actor=ACTOR, params=details, terms=terms[order.id]
                )
            ]
            if returned:
                events = await _return_money(conn, payment, returned, details)
            # Orders that wait for their 拼团 group: their seats are paid in this transaction
            # (the N-th makes the whole group paid; a payer with no seat left is placed anew).
            returned_ids = {order.id for order in returned}
            waiting = [o.id for o in checkout.orders if o.id not in returned_ids and terms[o.id].waits]
            if waiting:
                events += await groupbuy.seat_payments(conn, order_ids=waiting, actor=ACTOR)
            # The books post it (commerce.ledger.handlers), after commit.
            events.insert(
                0,
                await outbox.emit(
                    PaymentReceived(
                        payment_id=payment.id,
                        paid_order_ids=[o.id for o in checkout.orders if o.id not in returned_ids],
                        returned_order_ids=sorted(returned_ids),
                        amount=payment.amount,
                    ),
                    connection=conn,
                ),
            )
    except IntegrityError:  # the same transaction_id recorded concurrently: it paid once
        log.info("transaction %s already recorded", transaction_id)
        return False
    paid = [order for order in checkout.orders if order.id not in returned_ids]
    ORDERS_PAID.inc(len(paid))  # committed: counted once, by the process that moved it
    GMV_PAID.inc(sum(order.payable for order in paid))
    await outbox.deliver(events)
    return True


async def _matching_payment(transaction: dict[str, Any], pay: WeChatPayClient) -> Payment:
    creds = pay.credentials
    if transaction.get("mchid") != creds.mchid or transaction.get("appid") != creds.appid:
        log.error(
            "notification for another merchant or app: %s/%s",
            transaction.get("mchid"),
            transaction.get("appid"),
        )
        raise PaymentError.NOTIFICATION_MISMATCH.error()
    payment = await Payment.get_or_none(out_trade_no=str(transaction.get("out_trade_no", "")))
    total = (transaction.get("amount") or {}).get("total")
    if payment is None or total != payment.amount or not transaction.get("transaction_id"):
        log.error(
            "notification does not match our records: out_trade_no %s, total %s",
            transaction.get("out_trade_no"),
            total,
        )
        raise PaymentError.NOTIFICATION_MISMATCH.error()
    return payment


async def _return_money(
    conn, payment: Payment, returned: list[orders.OrderFacts], details: dict
) -> list[outbox.OutboxEvent]:
    """Each order that could not take its share of the payment gets it back (a refund of its
    payable); the shopper is told once."""
    events = []
    told = False
    for facts in returned:
        current = await orders.order_facts(facts.id)
        assert current is not None
        paid_twice = current.status in _PAID_STATES
        reason = "订单已支付，重复付款原路退回" if paid_twice else "订单已取消，款项原路退回"
        await order_services.record_event(
            conn,
            order_id=facts.id,
            type_=EventType.PAYMENT_RETURNED,
            actor=ACTOR,
            params={**details, "reason": reason, "amount": facts.payable},
        )
        if not told:
            await outbox.emit(
                PaymentReturned(
                    order_id=facts.id,
                    user_id=facts.user_id,
                    amount=sum(o.payable for o in returned),
                    reason=reason,
                    paid_twice=paid_twice,
                ),
                connection=conn,
            )
            told = True
        events.append(
            await create_refund(
                conn, payment=payment, order_id=facts.id, amount=facts.payable, reason=reason, actor=ACTOR
            )
        )
    return events


# Orders that took their money once already (a closed one was paid, then refunded).
_PAID_STATES = (
    OrderStatus.PAID,
    OrderStatus.GROUPING,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.CLOSED,
)


async def settle_refund(result: dict[str, Any], pay: WeChatPayClient) -> None:
    """Apply a refund's outcome once: SUCCESS ends it (after-sales learns it from the event),
    also after an ABNORMAL the merchant resolved at the merchant platform; ABNORMAL or CLOSED
    marks it failed for staff to handle."""
    if "mchid" in result and result["mchid"] != pay.credentials.mchid:
        raise PaymentError.NOTIFICATION_MISMATCH.error()
    refund = await Refund.get_or_none(out_refund_no=str(result.get("out_refund_no", "")))
    if refund is None:
        log.error("refund outcome for an unknown refund %s", result.get("out_refund_no"))
        raise PaymentError.NOTIFICATION_MISMATCH.error()
    payment = await Payment.get(id=refund.payment_id)
    asked = (result.get("amount") or {}).get("refund", refund.amount)
    if result.get("out_trade_no", payment.out_trade_no) != payment.out_trade_no or asked != refund.amount:
        # The number is ours but the refund is not (one made by hand at the merchant platform
        # under the same number, for another payment): it must not settle ours.
        log.error("refund outcome %s does not match our refund", refund.out_refund_no)
        raise PaymentError.NOTIFICATION_MISMATCH.error()
    status = result.get("refund_status") or result.get("status")
    refund_id = str(result.get("refund_id") or refund.refund_id)
    if status == "SUCCESS":
        await _refund_succeeded(refund, refund_id)
    elif status in ("ABNORMAL", "CLOSED"):
        why = "微信支付退款异常（原路退回失败）" if status == "ABNORMAL" else "微信支付退款关闭"
        await refund_failed(refund, why, code=str(status))
    elif status == "PROCESSING":
        await _refund_processing(refund, refund_id)


@unit_of_work
async def _refund_processing(refund: Refund, refund_id: str) -> None:
    async with write_transaction() as conn:
        await REFUND.try_move(
            conn,
            refund.id,
            RefundStatus.REQUESTED,
            RefundStatus.PROCESSING,
            actor=ACTOR,
            changes={"refund_id": refund_id},
        )


@unit_of_work
async def _refund_succeeded(refund: Refund, refund_id: str) -> None:
    async with write_transaction() as conn:
        moved = await REFUND.try_move(
            conn,
            refund.id,
            (RefundStatus.REQUESTED, RefundStatus.PROCESSING, RefundStatus.FAILED),
            RefundStatus.SUCCEEDED,
            actor=ACTOR,
            where=SUCCEEDS_FROM,
            changes={"refund_id": refund_id, "succeeded_at": clock.now()},
        )
        if moved is None:
            return  # told before
        # After-sales learns it (its request is refunded; the order may close), right after commit.
        event = await outbox.emit(
            RefundSucceeded(refund_id=refund.id, order_id=refund.order_id, aftersale_id=refund.aftersale_id),
            connection=conn,
        )
    await outbox.deliver([event])


@unit_of_work
async def refund_failed(refund: Refund, why: str, *, code: str) -> None:
    """The refund failed for good (`code`: WeChat Pay's refusal, or ABNORMAL / CLOSED): staff
    see it and may submit it again (commerce.payments.review)."""
    async with write_transaction() as conn:
        moved = await REFUND.try_move(
            conn,
            refund.id,
            (RefundStatus.REQUESTED, RefundStatus.PROCESSING),
            RefundStatus.FAILED,
            actor=ACTOR,
            changes={"failure": why[:200], "failure_code": code[:32]},
            event=RefundFailed(
                refund_id=refund.id, order_id=refund.order_id, aftersale_id=refund.aftersale_id
            ),
        )
        if moved is None:
            return
        await order_services.record_event(
            conn,
            order_id=refund.order_id,
            type_=EventType.REFUND_FAILED,
            actor=ACTOR,
            params={"out_refund_no": refund.out_refund_no, "why": why, "code": code},
        )
    await outbox.deliver([moved.outbox])  # after-sales shows it on the request's timeline
