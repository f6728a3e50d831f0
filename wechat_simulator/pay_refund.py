"""WeChat Pay's domestic refunds (APIv3): asked, PROCESSING, then SUCCESS (or ABNORMAL or
CLOSED when a test asked for it via POST /pay/refund-outcome) a moment later, with a
notification. An ABNORMAL one handled by the merchant (POST /pay/resolve-abnormal) goes
PROCESSING again, then SUCCESS."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.pay_http import (
    ParamError,
    need_amount,
    need_currency,
    need_dict,
    need_text,
    need_url,
    optional_text,
    pay_api,
    pay_error,
    pay_reply,
)
from wechat_simulator.pay_notify import NOTIFIER, Notifier
from wechat_simulator.pay_state import Refund, Transaction
from wechat_simulator.replies import json_body

OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")


@pay_api("refund")
async def refund(request: web.Request) -> web.Response:
    """POST /v3/refund/domestic/refunds {out_trade_no | transaction_id, out_refund_no, reason?,
    notify_url?, amount: {refund, total, currency}} -> the refund, PROCESSING

    The same out_refund_no again answers the same refund (400 INVALID_REQUEST when it asks
    another amount or of another transaction)."""
    state = request.app[STATE]
    pay = state.pay
    body = await json_body(request)
    if body is None:
        return pay_error(request, 400, "PARAM_ERROR", "请求体应为 JSON 对象")
    try:
        out_trade_no = optional_text(body, "out_trade_no", max_len=32)
        transaction_id = optional_text(body, "transaction_id", max_len=32)
        if not out_trade_no and not transaction_id:
            raise ParamError("out_trade_no 与 transaction_id 至少填一个")
        out_refund_no = need_text(body, "out_refund_no", max_len=64, pattern=OUT_REFUND_NO)
        reason = optional_text(body, "reason", max_len=80)
        notify_url = need_url(body, "notify_url", required=False)
        amount = need_dict(body, "amount")
        asked, total = need_amount(amount, "refund"), need_amount(amount, "total")
        need_currency(amount, required=True)
    except ParamError as exc:
        return pay_error(request, 400, "PARAM_ERROR", str(exc))
    tx = _transaction(request, out_trade_no, transaction_id)
    existing = pay.refunds.get(out_refund_no)
    if existing is not None:
        if tx is None or existing.out_trade_no != tx.out_trade_no or existing.refund != asked:
            return pay_error(request, 400, "INVALID_REQUEST", "同一退款单号的退款参数不一致")
        return pay_reply(request, 200, pay.refund_view(existing))
    if tx is None or not tx.paid:
        return pay_error(request, 400, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
    if total != tx.total:
        return pay_error(request, 400, "PARAM_ERROR", "订单金额与原订单金额不一致")
    if pay.refunded(tx) + asked > tx.total:
        return pay_error(request, 403, "NOT_ENOUGH", "退款金额超过可退金额")
    now = state.now()
    new = Refund(
        refund_id=pay.new_refund_id(now),
        out_refund_no=out_refund_no,
        out_trade_no=tx.out_trade_no,
        transaction_id=tx.transaction_id,
        refund=asked,
        total=tx.total,
        reason=reason,
        notify_url=notify_url,
        created_at=now,
        outcome=pay.next_refund_outcome(),
    )
    pay.refunds[out_refund_no] = new
    tx.refunds.append(out_refund_no)
    notifier = request.app[NOTIFIER]
    notifier.spawn(settle_refund(notifier, new, state.config.refund_delay_seconds))
    return pay_reply(request, 200, pay.refund_view(new))


@pay_api("refund_query")
async def refund_query(request: web.Request) -> web.Response:
    """GET /v3/refund/domestic/refunds/{out_refund_no} -> the refund"""
    pay = request.app[STATE].pay
    found = pay.refunds.get(request.match_info["out_refund_no"])
    if found is None:
        return pay_error(request, 404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return pay_reply(request, 200, pay.refund_view(found))


def _transaction(request: web.Request, out_trade_no: str, transaction_id: str) -> Transaction | None:
    pay = request.app[STATE].pay
    tx = pay.by_transaction_id(transaction_id) if transaction_id else pay.transactions.get(out_trade_no)
    if tx is not None and out_trade_no and transaction_id and tx.out_trade_no != out_trade_no:
        return None
    return tx


async def settle_refund(notifier: Notifier, refund: Refund, delay: float) -> None:
    """The bank's answer, a moment later: the refund ends, and the merchant is told."""
    await asyncio.sleep(delay)
    state = notifier.state
    refund.status = refund.outcome
    if refund.status == "SUCCESS":
        refund.success_time = state.now()
    if refund.notify_url:
        event = f"REFUND.{refund.status}"
        plaintext = state.pay.refund_notice(refund)
        notice = notifier.create(event, "refund", refund.out_refund_no, refund.notify_url, plaintext)
        await notifier.send(notice)
