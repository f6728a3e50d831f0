"""Payment work done after commit, driven by outbox events: submit refunds to WeChat Pay,
close the prepay of a cancelled order. Every handler is idempotent (the outbox may repeat)."""

from __future__ import annotations

import logging
from typing import Any

from commerce import outbox
from commerce.errors import CommerceError
from commerce.orders.services import ORDER_STATUS_CHANGED
from commerce.orders.states import OrderStatus
from commerce.payments.errors import PaymentError
from commerce.payments.models import Payment, Refund
from commerce.payments.services import REFUND_REQUESTED, close_attempt
from commerce.payments.settlement import refund_failed, settle_refund
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.wechat.pay import WeChatPayClient, WeChatPayRefused

log = logging.getLogger(__name__)

# WeChat Pay's refusals that trying again will not change: the refund fails for staff to see.
FINAL_REFUND_REFUSALS = frozenset(
    {"NOT_ENOUGH", "PARAM_ERROR", "INVALID_REQUEST", "RESOURCE_NOT_EXISTS", "USER_ACCOUNT_ABNORMAL"}
)


def subscribe(pay: WeChatPayClient) -> None:
    async def submit(payload: dict[str, Any]) -> None:
        await submit_refund(refund_id=int(payload["refund_id"]), pay=pay)

    async def close_cancelled(payload: dict[str, Any]) -> None:
        if payload.get("to") == OrderStatus.CANCELLED.value:
            await close_open_attempts(order_id=int(payload["order_id"]), pay=pay)

    outbox.subscribe(REFUND_REQUESTED, submit)
    outbox.subscribe(ORDER_STATUS_CHANGED, close_cancelled)


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
            await refund_failed(refund, f"微信支付拒绝退款：{refused.message}"[:200])
            return
        raise  # busy, frequency limits: the outbox tries again later
    await settle_refund(answer, pay)


async def close_open_attempts(*, order_id: int, pay: WeChatPayClient) -> None:
    """A cancelled order's prepays are closed so they cannot be paid any more. If one was
    paid meanwhile, settlement records it and sends the money back."""
    for payment in await Payment.filter(order_id=order_id, status=PaymentStatus.PENDING):
        try:
            await close_attempt(payment, pay)
        except CommerceError as exc:  # ALREADY_PAID: settled (and returned) already
            if exc.code != PaymentError.ALREADY_PAID.code:
                raise
