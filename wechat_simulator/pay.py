"""WeChat Pay's JSAPI transactions (APIv3): prepay, query, close.

The shopper's side (paying in the WeChat sheet) is the control endpoint POST /pay/confirm."""

from __future__ import annotations

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
from wechat_simulator.pay_state import PREPAY_TTL, Transaction, parse_rfc3339
from wechat_simulator.replies import json_body

OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")


@pay_api("pay_jsapi")
async def jsapi(request: web.Request) -> web.Response:
    """POST /v3/pay/transactions/jsapi {appid, mchid, description, out_trade_no, time_expire?,
    attach?, notify_url, amount: {total, currency?}, payer: {openid}} -> {"prepay_id"}

    The same out_trade_no again: its valid prepay_id (or a new one) when nothing changed; the
    order is refused once paid or closed, or when amount, payer or appid differ."""
    state = request.app[STATE]
    body = await json_body(request)
    if body is None:
        return pay_error(request, 400, "PARAM_ERROR", "请求体应为 JSON 对象")
    try:
        appid, mchid = need_text(body, "appid", max_len=32), need_text(body, "mchid", max_len=32)
        description = need_text(body, "description", max_len=127)
        out_trade_no = need_text(body, "out_trade_no", max_len=32, pattern=OUT_TRADE_NO)
        notify_url = need_url(body, "notify_url")
        attach = optional_text(body, "attach")
        amount, payer = need_dict(body, "amount"), need_dict(body, "payer")
        total = need_amount(amount, "total")
        need_currency(amount, required=False)
        openid = need_text(payer, "openid")
        time_expire = parse_rfc3339(body["time_expire"]) if body.get("time_expire") is not None else None
        if body.get("time_expire") is not None and time_expire is None:
            raise ParamError("time_expire 应为 RFC 3339 时间，如 2026-11-24T20:00:00+08:00")
    except ParamError as exc:
        return pay_error(request, 400, "PARAM_ERROR", str(exc))
    if mchid != state.pay.keys.mchid:
        return pay_error(request, 400, "MCH_NOT_EXISTS", "商户号不存在")
    if appid not in state.config.pay_appids:
        return pay_error(request, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    pay, now = state.pay, state.now()
    tx = pay.transactions.get(out_trade_no)
    if tx is None:
        tx = Transaction(
            appid, mchid, out_trade_no, description, notify_url, total, openid, attach, time_expire, now
        )
        pay.transactions[out_trade_no] = tx
    elif tx.paid:
        return pay_error(request, 400, "ORDERPAID", "该订单已支付")
    elif tx.state == "CLOSED":
        return pay_error(request, 400, "ORDER_CLOSED", "当前订单已关闭，请重新下单")
    elif (tx.total, tx.openid, tx.appid) != (total, openid, appid):
        return pay_error(request, 400, "INVALID_REQUEST", "201 商户订单号重复")
    elif tx.prepays and now - tx.prepays[-1].issued_at < PREPAY_TTL:
        return pay_reply(request, 200, {"prepay_id": tx.prepays[-1].prepay_id})
    return pay_reply(request, 200, {"prepay_id": pay.new_prepay(tx, now).prepay_id})


@pay_api("pay_query")
async def query(request: web.Request) -> web.Response:
    """GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= -> the transaction"""
    refusal = _check_mchid(request, request.query.get("mchid"))
    if refusal is not None:
        return refusal
    pay = request.app[STATE].pay
    tx = pay.transactions.get(request.match_info["out_trade_no"])
    if tx is None:
        return pay_error(request, 404, "ORDER_NOT_EXIST", "订单不存在")
    return pay_reply(request, 200, pay.transaction_view(tx))


@pay_api("pay_query")
async def query_by_id(request: web.Request) -> web.Response:
    """GET /v3/pay/transactions/id/{transaction_id}?mchid= -> the (paid) transaction"""
    refusal = _check_mchid(request, request.query.get("mchid"))
    if refusal is not None:
        return refusal
    pay = request.app[STATE].pay
    tx = pay.by_transaction_id(request.match_info["transaction_id"])
    if tx is None:
        return pay_error(request, 404, "ORDER_NOT_EXIST", "订单不存在")
    return pay_reply(request, 200, pay.transaction_view(tx))


@pay_api("pay_close")
async def close(request: web.Request) -> web.Response:
    """POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close {mchid} -> 204; a paid
    order cannot be closed, a closed one closes again."""
    body = await json_body(request)
    refusal = _check_mchid(request, body.get("mchid") if body is not None else None)
    if refusal is not None:
        return refusal
    tx = request.app[STATE].pay.transactions.get(request.match_info["out_trade_no"])
    if tx is None:
        return pay_error(request, 404, "ORDER_NOT_EXIST", "订单不存在")
    if tx.paid:
        return pay_error(request, 400, "ORDERPAID", "该订单已支付")
    tx.state = "CLOSED"
    return pay_reply(request, 204, None)


def _check_mchid(request: web.Request, mchid: object) -> web.Response | None:
    if not isinstance(mchid, str) or not mchid:
        return pay_error(request, 400, "PARAM_ERROR", "mchid 缺失")
    if mchid != request.app[STATE].pay.keys.mchid:
        return pay_error(request, 400, "MCH_NOT_EXISTS", "商户号不存在")
    return None
