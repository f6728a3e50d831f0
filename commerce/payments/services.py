"""What a shopper does with money: pay an order through WeChat Pay; the refunds after-sales asks for."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from commerce import clock, outbox
from commerce.config import Settings, load_settings
from commerce.errors import CommerceError
from commerce.orders import queries as orders
from commerce.orders.queries import OrderView
from commerce.orders.states import OrderStatus
from commerce.payments.errors import PaymentError
from commerce.payments.events import RefundRequested
from commerce.payments.lifecycle import REFUND
from commerce.payments.models import Payment, Refund
from commerce.payments.queries import paying_attempt
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.transactions import unit_of_work
from commerce.users.services import Shopper
from commerce.wechat.pay import WeChatPayClient, WeChatPayRefused, WeChatPayUnavailable

log = logging.getLogger(__name__)

# WeChat Pay keeps a prepay two hours; we stop handing one out a little before.
PREPAY_LIFETIME = timedelta(hours=2) - timedelta(minutes=5)
REFUND_REQUESTED = RefundRequested.topic


@unit_of_work
async def start_payment(*, shopper: Shopper, order_id: int, pay: WeChatPayClient | None) -> dict[str, str]:
    """The wx.requestPayment parameters for the shopper's unpaid order: one WeChat Pay
    transaction pays the order's whole checkout (an order per merchant), so the shopper pays
    once, from whichever of its orders.

    A retry reuses the prepay while it is valid; an expired one is closed at WeChat Pay and a
    new attempt (a new out_trade_no) made.
    """
    await orders.get_order(shopper=shopper, order_id=order_id)  # ownership: someone else's is a 404
    if pay is None:
        raise PaymentError.PAY_UNAVAILABLE.error()
    facts = await orders.order_facts(order_id)
    checkout = await orders.checkout_of_order(order_id)
    assert facts is not None and checkout is not None
    if facts.status in (OrderStatus.PAID, OrderStatus.GROUPING, OrderStatus.SHIPPED):
        raise PaymentError.ALREADY_PAID.error()
    if facts.status is not OrderStatus.PENDING_PAYMENT:
        raise PaymentError.NOT_PAYABLE.error()
    if checkout.pay_deadline <= clock.now():
        raise PaymentError.PAY_EXPIRED.error()
    try:
        attempt = await _current_attempt(checkout, pay)
    except (WeChatPayRefused, WeChatPayUnavailable) as exc:  # closing an expired prepay failed
        log.warning("payment attempt for checkout %s not renewed: %s", checkout.checkout_no, exc)
        raise PaymentError.PAY_UNAVAILABLE.error() from None
    if attempt.prepay_id and attempt.prepay_expires_at and attempt.prepay_expires_at > clock.now():
        return pay.payment_params(attempt.prepay_id)
    openid = shopper.openid
    try:
        prepay_id = await pay.jsapi_prepay(
            out_trade_no=attempt.out_trade_no,
            description=_within_bytes(_description(checkout), 127),
            total=attempt.amount,
            openid=openid,
            time_expire=checkout.pay_deadline,
        )
    except WeChatPayRefused as refused:
        if refused.code == "ORDERPAID":
            raise PaymentError.ALREADY_PAID.error() from None
        log.warning("prepay refused for %s: %s", attempt.out_trade_no, refused)
        raise PaymentError.PAY_UNAVAILABLE.error() from None
    except WeChatPayUnavailable as exc:
        log.warning("prepay failed for %s: %s", attempt.out_trade_no, exc)
        raise PaymentError.PAY_UNAVAILABLE.error() from None
    now = clock.now()
    await Payment.filter(id=attempt.id, status=PaymentStatus.PENDING).update(
        prepay_id=prepay_id, prepay_expires_at=now + PREPAY_LIFETIME, payer_openid=openid, updated_at=now
    )
    return pay.payment_params(prepay_id)


def _description(checkout: orders.CheckoutFacts) -> str:
    """What the shopper reads in the payment sheet: the goods, and how many orders (merchants)
    the one payment covers."""
    if len(checkout.orders) <= 1:
        return checkout.summary
    return f"{checkout.summary}（{len(checkout.orders)}个订单）"


def _within_bytes(text: str, limit: int) -> str:
    """WeChat Pay counts the description in UTF-8 bytes: cut there, never inside a character."""
    return text.encode()[:limit].decode(errors="ignore")


async def _current_attempt(checkout: orders.CheckoutFacts, pay: WeChatPayClient) -> Payment:
    """The checkout's open attempt; a new one when there is none or its prepay expired."""
    latest = await Payment.filter(checkout_id=checkout.id).order_by("-id").first()
    if latest is not None and latest.status is PaymentStatus.PAID:
        raise PaymentError.ALREADY_PAID.error()
    if latest is not None and latest.status is PaymentStatus.PENDING:
        expired = latest.prepay_expires_at is not None and latest.prepay_expires_at <= clock.now()
        if not expired:
            return latest
        await close_attempt(latest, pay)  # raises ALREADY_PAID if it was paid after all
    out_trade_no = _next_out_trade_no(checkout.checkout_no, latest)
    now = clock.now()
    try:
        return await Payment.create(
            checkout_id=checkout.id,
            out_trade_no=out_trade_no,
            amount=checkout.payable,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:  # a concurrent retry of the same shopper made this attempt first
        return await Payment.get(out_trade_no=out_trade_no)


def _next_out_trade_no(checkout_no: str, latest: Payment | None) -> str:
    """The checkout number for the first attempt, then checkout_no_2, checkout_no_3, ...
    Derived from the latest attempt (not a count) so concurrent first requests agree on one
    number."""
    if latest is None:
        return checkout_no
    _, _, suffix = latest.out_trade_no.partition("_")
    return f"{checkout_no}_{int(suffix or 1) + 1}"


async def close_attempt(payment: Payment, pay: WeChatPayClient) -> bool:
    """Close an unpaid attempt at WeChat Pay, then here. If WeChat Pay says it was paid, the
    payment is recorded (and returned if the order cannot take it) and ALREADY_PAID raised."""
    from commerce.payments.settlement import settle_from_query  # settlement imports this module

    if payment.prepay_id:
        try:
            await pay.close_transaction(payment.out_trade_no)
        except WeChatPayRefused as refused:
            if refused.code != "ORDERPAID":
                raise
            await settle_from_query(payment.out_trade_no, pay)
            raise PaymentError.ALREADY_PAID.error() from None
    closed = await Payment.filter(id=payment.id, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CLOSED, updated_at=clock.now()
    )
    return bool(closed)


@dataclass(frozen=True)
class SubmittedRefund:
    refund_id: int
    out_refund_no: str
    event: outbox.OutboxEvent  # the caller delivers it after its commit: WeChat Pay is asked then


async def refund_aftersale(
    conn, *, order_id: int, aftersale_id: int, amount: int, reason: str, actor: str
) -> SubmittedRefund:
    """Inside an approved after-sales request's transaction: the refund of its amount, to
    submit after commit. The request counted the money on the order already (Order.refunded).
    A refund written for it before after-sales existed, still awaiting review, is the one
    submitted (no second refund for the same money)."""
    waiting = (
        await Refund.filter(aftersale_id=aftersale_id, status=RefundStatus.AWAITING_REVIEW)
        .using_db(conn)
        .first()
    )
    if waiting is not None:
        await REFUND.move(
            conn,
            waiting.id,
            RefundStatus.AWAITING_REVIEW,
            RefundStatus.REQUESTED,
            actor=actor,
            changes={"reviewed_by": actor, "reviewed_at": clock.now()},
        )
        refund = waiting
    else:
        payment = await paying_attempt(order_id)
        if payment is None:
            raise PaymentError.NOT_REFUNDABLE.error()
        refund = await new_refund(
            conn,
            payment=payment,
            order_id=order_id,
            amount=amount,
            reason=reason,
            actor=actor,
            automatic=False,
            whole_order=False,
            aftersale_id=aftersale_id,
        )
    return SubmittedRefund(refund.id, refund.out_refund_no, await _submission(conn, refund))


async def drop_aftersale_refund(conn, *, aftersale_id: int, reason: str, actor: str) -> None:
    """Inside a refused or withdrawn request's transaction: a refund written for it before
    after-sales existed, still awaiting review, is refused with it."""
    await (
        Refund.filter(aftersale_id=aftersale_id, status=RefundStatus.AWAITING_REVIEW)
        .using_db(conn)
        .update(
            status=RefundStatus.REFUSED,
            refusal=reason[:200],
            reviewed_by=actor,
            reviewed_at=clock.now(),
            updated_at=clock.now(),
        )
    )


async def request_refund(
    *, shopper: Shopper, order_id: int, reason: str, settings: Settings | None = None
) -> OrderView:
    """Transitional, until the shopper API calls after-sales itself: the order's whole refund
    as an after-sales request (commerce.aftersales.services.request_whole_refund), answered
    with the order and the codes this call always had."""
    from commerce.aftersales import services as aftersales  # after-sales builds on this module
    from commerce.aftersales.errors import AfterSaleError

    refusals = {
        AfterSaleError.NOT_ALLOWED.code: PaymentError.NOT_REFUNDABLE,
        AfterSaleError.WINDOW_PASSED.code: PaymentError.NOT_REFUNDABLE,
        AfterSaleError.ALREADY_HANDLED.code: PaymentError.NOT_REFUNDABLE,
        AfterSaleError.EXCEEDS_LINE.code: PaymentError.NOT_REFUNDABLE,
        AfterSaleError.INVALID_REASON.code: PaymentError.INVALID_REFUND_REASON,
    }
    try:
        await aftersales.request_whole_refund(
            shopper=shopper, order_id=order_id, reason=reason, settings=settings or load_settings()
        )
    except CommerceError as exc:
        if exc.code in refusals:
            raise refusals[exc.code].error() from None
        raise
    return await orders.get_order(shopper=shopper, order_id=order_id)


async def create_refund(conn, *, payment: Payment, order_id: int, amount: int, reason: str, actor: str):
    """An automatic refund (money an order could not take) to submit now, in the caller's
    transaction; returns its outbox event."""
    refund = await new_refund(
        conn, payment=payment, order_id=order_id, amount=amount, reason=reason, actor=actor, automatic=True
    )
    return await _submission(conn, refund)


async def new_refund(
    conn,
    *,
    payment: Payment,
    order_id: int,
    amount: int,
    reason: str,
    actor: str,
    automatic: bool,
    status: RefundStatus = RefundStatus.REQUESTED,
    whole_order: bool = True,
    aftersale_id: int | None = None,
) -> Refund:
    """A refund row of `amount` of the order with the payment's next out_refund_no. The
    payment's row is locked first (MySQL), so refunds of its orders draw numbers one at a time;
    elsewhere a concurrent one taking the same number fails on the unique index."""
    if conn.capabilities.dialect == "mysql":
        await Payment.filter(id=payment.id).using_db(conn).select_for_update().first()
    number = await Refund.filter(payment_id=payment.id).using_db(conn).count() + 1
    now = clock.now()
    return await Refund.create(
        order_id=order_id,
        payment_id=payment.id,
        out_refund_no=f"R{payment.out_trade_no}" + (f"_{number}" if number > 1 else ""),
        amount=amount,
        whole_order=whole_order,
        aftersale_id=aftersale_id,
        reason=reason[:80],
        automatic=automatic,
        status=status,
        requested_by=actor,
        created_at=now,
        updated_at=now,
        using_db=conn,
    )


async def _submission(conn, refund: Refund) -> outbox.OutboxEvent:
    return await outbox.emit(RefundRequested(refund_id=refund.id), connection=conn)
