"""Payment work done after commit, driven by outbox events: submit refunds to WeChat Pay,
close the prepay of a cancelled order, tell a shopper their money goes back. Every handler is
idempotent (the outbox may repeat); shop.subscriptions says which event drives which."""

from __future__ import annotations

import logging

from commerce.errors import CommerceError
from commerce.money import fen_to_yuan
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.payments.errors import PaymentError
from commerce.payments.events import PaymentReturned
from commerce.payments.models import Payment, Refund
from commerce.payments.services import close_attempt
from commerce.payments.settlement import refund_failed, settle_refund
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import OutOfWindow
from commerce.wechat.pay import WeChatPayClient, WeChatPayRefused

log = logging.getLogger(__name__)

# WeChat Pay's refusals that trying again will not change: the refund fails for staff to see.
FINAL_REFUND_REFUSALS = frozenset(
    {"NOT_ENOUGH", "PARAM_ERROR", "INVALID_REQUEST", "RESOURCE_NOT_EXISTS", "USER_ACCOUNT_ABNORMAL"}
)


async def tell_shopper_money_returned(event: PaymentReturned, *, mp: WeChatClient) -> None:
    """Money that arrived for an order that could not take it goes back: the shopper hears it
    from the official account (WeChat allows messages for 48 hours after a payment)."""
    facts = await orders.order_facts(event.order_id)
    if facts is None:
        return
    why = "已支付过，这笔是重复付款" if event.paid_twice else "在您付款前已取消"
    text = RETURNED_TEXT.format(order_no=facts.order_no, why=why, amount=fen_to_yuan(event.amount))
    for openid in await followers.openids_of_shopper(user_id=event.user_id):
        try:
            await mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
        except OutOfWindow as closed:  # WeChat will not take it now; the order page shows it
            log.info("refund notice to %s not sent: window closed (%s)", openid, closed.errcode)


RETURNED_TEXT = (
    "您好，订单 {order_no} {why}，您支付的 ¥{amount} 将在 1-3 个工作日内原路退回，"
    "可在订单详情查看退款进度。给您带来不便，敬请谅解。"
)


async def submit_refund(*, refund_id: int, pay: WeChatPayClient) -> None:
    """Ask WeChat Pay for a requested refund (a repeat is harmless: same out_refund_no)."""
    refund = await Refund.get_or_none(id=refund_id).prefetch_related("payment")
    if refund is None or refund.status is not RefundStatus.REQUESTED:
        return
    try:
        answer = await pay.refund(
            out_trade_no=refund.payment.out_trade_no,
            out_refund_no=refund.out_refund_no,
            amount=refund.amount,
            total=refund.payment.amount,
            reason=refund.reason,
        )
    except WeChatPayRefused as refused:
        if refused.code in FINAL_REFUND_REFUSALS:
            await refund_failed(refund, f"微信支付拒绝退款：{refused.message}"[:200], code=refused.code)
            return
        raise  # busy, frequency limits: the outbox tries again later
    await settle_refund(answer, pay)


async def close_open_attempts(*, order_id: int, pay: WeChatPayClient) -> None:
    """A cancelled order's checkout prepays are closed so they cannot be paid any more (its
    other orders were cancelled with it; their events find the prepay closed already). If one
    was paid meanwhile, settlement records it and sends the money back."""
    checkout = await orders.checkout_of_order(order_id)
    if checkout is None or any(o.status is OrderStatus.PENDING_PAYMENT for o in checkout.orders):
        return
    for payment in await Payment.filter(checkout_id=checkout.id, status=PaymentStatus.PENDING):
        try:
            await close_attempt(payment, pay)
        except CommerceError as exc:  # ALREADY_PAID: settled (and returned) already
            if exc.code != PaymentError.ALREADY_PAID.code:
                raise
