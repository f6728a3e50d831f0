"""Control endpoints for WeChat Pay (under /pay): the shopper pays, a notification is sent
again, refunds end badly, and a look inside. Bad input is a 400 with {"error": "..."}."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.mp_state import record_payment
from wechat_simulator.pay_notify import NOTIFIER
from wechat_simulator.pay_refund import settle_refund
from wechat_simulator.pay_state import PREPAY_TTL, Notification
from wechat_simulator.replies import json_body

MAX_COPIES = 5
MAX_OUTCOMES = 100
OUTCOMES = ("SUCCESS", "ABNORMAL", "CLOSED")
MAX_LOST = 100


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def confirm(request: web.Request) -> web.Response:
    """{"prepay_id", "copies"?: 1..5}: the shopper pays in the WeChat sheet. The transaction
    succeeds and WeChat notifies the merchant from `copies` servers at once; answers once those
    first deliveries are done: {"out_trade_no", "transaction_id", "notified": [status | null]}."""
    state = request.app[STATE]
    pay, now = state.pay, state.now()
    body = await json_body(request)
    if body is None:
        return _bad('需要 JSON 对象 {"prepay_id": "wx...", "copies": 1}')
    prepay_id, copies = body.get("prepay_id"), body.get("copies", 1)
    if type(copies) is not int or not 1 <= copies <= MAX_COPIES:
        return _bad(f"copies 应为 1–{MAX_COPIES}")
    out_trade_no = pay.prepays.get(prepay_id) if isinstance(prepay_id, str) else None
    if out_trade_no is None:
        return _bad("未知的 prepay_id")
    tx = pay.transactions[out_trade_no]
    prepay = next(p for p in tx.prepays if p.prepay_id == prepay_id)
    if tx.state == "CLOSED":
        return _bad("订单已关闭，无法支付")
    if tx.paid:
        return _bad("订单已支付，请勿重复支付")
    if tx.time_expire is not None and now >= tx.time_expire:
        return _bad("订单已过支付截止时间（time_expire）")
    if now - prepay.issued_at >= PREPAY_TTL:
        return _bad("prepay_id 已过期（两小时有效）")
    pay.pay(tx, now)
    record_payment(state, tx.openid)  # the official accounts may write to the payer for 48 hours
    notifier = request.app[NOTIFIER]
    plaintext = pay.transaction_view(tx)
    notice = notifier.create("TRANSACTION.SUCCESS", "transaction", out_trade_no, tx.notify_url, plaintext)
    notified = await notifier.send(notice, copies)
    return web.json_response(
        {"out_trade_no": out_trade_no, "transaction_id": tx.transaction_id, "notified": notified}
    )


async def redeliver(request: web.Request) -> web.Response:
    """{"out_trade_no"} or {"out_refund_no"}: WeChat sends the last notification about it again
    now (same id and resource, fresh signature); answers like /pay/confirm."""
    pay = request.app[STATE].pay
    body = await json_body(request)
    if body is None or not (("out_trade_no" in body) ^ ("out_refund_no" in body)):
        return _bad('需要 JSON 对象 {"out_trade_no": "..."} 或 {"out_refund_no": "..."}')
    subject = "transaction" if "out_trade_no" in body else "refund"
    key = body.get("out_trade_no", body.get("out_refund_no"))
    notice_id = pay.last_notice.get(f"{subject}:{key}") if isinstance(key, str) else None
    if notice_id is None:
        return _bad("该交易或退款还没有发出过通知")
    notice: Notification = pay.notifications[notice_id]
    notified = await request.app[NOTIFIER].send(notice)
    if subject == "transaction":
        tx = pay.transactions[notice.key]
        return web.json_response(
            {"out_trade_no": tx.out_trade_no, "transaction_id": tx.transaction_id, "notified": notified}
        )
    refund = pay.refunds[notice.key]
    return web.json_response(
        {"out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id, "notified": notified}
    )


async def refund_outcome(request: web.Request) -> web.Response:
    """{"outcome": "ABNORMAL" | "CLOSED" | "SUCCESS", "times"?: 1}: how the next refunds end."""
    pay = request.app[STATE].pay
    body = await json_body(request)
    if body is None:
        return _bad('需要 JSON 对象 {"outcome": "ABNORMAL", "times": 1}')
    outcome, times = body.get("outcome"), body.get("times", 1)
    if outcome not in OUTCOMES:
        return _bad("outcome 应为 SUCCESS、ABNORMAL 或 CLOSED")
    if type(times) is not int or not 1 <= times <= MAX_OUTCOMES:
        return _bad(f"times 应为 1–{MAX_OUTCOMES}")
    pay.refund_outcomes.extend([outcome] * times)
    return web.json_response({"pending": list(pay.refund_outcomes)})


async def resolve_abnormal(request: web.Request) -> web.Response:
    """{"out_refund_no"}: the merchant handles an ABNORMAL refund on the merchant platform (or
    by 发起异常退款): it is PROCESSING again, then SUCCESS a moment later, with a notification."""
    pay = request.app[STATE].pay
    body = await json_body(request)
    key = body.get("out_refund_no") if body is not None else None
    if not isinstance(key, str):
        return _bad('需要 JSON 对象 {"out_refund_no": "..."}')
    refund = pay.refunds.get(key)
    if refund is None:
        return _bad("退款单不存在")
    if refund.status != "ABNORMAL":
        return _bad("只有退款异常（ABNORMAL）的退款可以处理")
    refund.status, refund.outcome = "PROCESSING", "SUCCESS"
    notifier = request.app[NOTIFIER]
    notifier.spawn(settle_refund(notifier, refund, request.app[STATE].config.refund_delay_seconds))
    return web.json_response(pay.refund_view(refund))


async def lose_notifications(request: web.Request) -> web.Response:
    """{"times"?: 1}: the next notifications WeChat Pay makes never reach the merchant (a
    network that lost them, retries and all); /pay/redeliver still sends one."""
    pay = request.app[STATE].pay
    body = await json_body(request)
    times = body.get("times", 1) if body is not None else None
    if type(times) is not int or not 1 <= times <= MAX_LOST:
        return _bad(f'需要 JSON 对象 {{"times": 1}}，times 应为 1–{MAX_LOST}')
    pay.notifications_to_lose += times
    return web.json_response({"to_lose": pay.notifications_to_lose})


async def inspect(request: web.Request) -> web.Response:
    """Transactions, refunds, notifications with their deliveries, shipping uploaded."""
    snapshot: dict[str, Any] = request.app[STATE].pay.snapshot()
    return web.json_response(snapshot)
