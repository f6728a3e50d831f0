"""WeChat Pay's daily bills (APIv3): the trade bill and the fund-flow bill of a day.

GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL and
GET /v3/bill/fundflowbill?bill_date=YYYY-MM-DD&account_type=BASIC answer
{"hash_type": "SHA1", "hash_value", "download_url"}; the file itself (a signed GET of
download_url, valid five minutes) comes back unsigned: its SHA1 is what proves it whole.

A day's bill (Asia/Shanghai) holds the transactions paid and the refunds made that day, in
WeChat's CSV: a header row, every data field prefixed with a backquote, then a summary header
and a summary row; amounts in yuan with two decimals; a fee per line at the simulator's rate
(0.6 %, rounded half up, negative on refunds). It exists from 10:00 the next day; before that
WeChat answers 400 STATEMENT_CREATING (today, or a day a test did not close early), and for a
day with no movement 400 NO_STATEMENT_EXIST.

The files themselves are made by wechat_simulator.pay_bill_files. Control endpoints (under
/pay/bills) let a test change what a day's bill says — drop a line, alter a line's amount or
state, add a line for a transaction the merchant never made — close a day early, and tamper
with the next file downloaded (its hash no longer matches).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.pay_bill_files import (
    BILLS,
    DATE_FORMAT,
    READY_AT,
    URL_TTL,
    Change,
    Line,
    changed,
    fund_flow_bill,
    lines_of,
    trade_bill,
)
from wechat_simulator.pay_http import pay_api, pay_error, pay_reply
from wechat_simulator.pay_state import BEIJING_TZ
from wechat_simulator.replies import json_body


@dataclass
class BillFile:
    content: bytes
    expires_at: datetime


@dataclass
class BillBook:
    """The simulator's bills: changes asked per day, days closed early, files to download."""

    changes: dict[str, list[Change]] = field(default_factory=dict)  # bill date -> changes
    closed_early: set[str] = field(default_factory=set)
    tamper_next: int = 0  # the next files downloaded differ from their hash
    files: dict[str, BillFile] = field(default_factory=dict)  # token -> file


BOOK = web.AppKey("pay_bills", BillBook)


def _ready(request: web.Request, bill_date: str) -> bool:
    now = request.app[STATE].now().astimezone(BEIJING_TZ)
    ready_at = datetime.combine(date.fromisoformat(bill_date) + timedelta(days=1), READY_AT, BEIJING_TZ)
    return now >= ready_at or bill_date in request.app[BOOK].closed_early


async def _apply(request: web.Request, bill: str) -> web.Response:
    state, book = request.app[STATE], request.app[BOOK]
    bill_date = request.query.get("bill_date", "")
    try:
        if not DATE_FORMAT.match(bill_date):
            raise ValueError
        date.fromisoformat(bill_date)
    except ValueError:
        return pay_error(request, 400, "PARAM_ERROR", "bill_date 格式应为 yyyy-MM-dd")
    if bill == "trade" and request.query.get("bill_type", "ALL") != "ALL":
        return pay_error(request, 400, "PARAM_ERROR", "模拟器只提供 bill_type=ALL 的账单")
    if bill == "fundflow" and request.query.get("account_type", "BASIC") != "BASIC":
        return pay_error(request, 400, "PARAM_ERROR", "模拟器只提供基本账户（BASIC）的资金账单")
    if not _ready(request, bill_date):
        return pay_error(request, 400, "STATEMENT_CREATING", "账单生成中")
    lines = changed(lines_of(state.pay, bill_date), book.changes.get(bill_date, []), bill)
    if not lines:
        return pay_error(request, 400, "NO_STATEMENT_EXIST", "请求的账单文件不存在")
    content = trade_bill(lines, state.pay.keys.mchid) if bill == "trade" else fund_flow_bill(lines)
    digest = hashlib.sha1(content).hexdigest()
    if book.tamper_next:
        book.tamper_next -= 1
        content = content.replace(b"`0.", b"`9.", 1) if b"`0." in content else content + b"\r\n"
    token = secrets.token_urlsafe(32)
    book.files[token] = BillFile(content, state.now() + URL_TTL)
    root = str(request.url).split("/v3/", 1)[0]
    return pay_reply(
        request,
        200,
        {
            "hash_type": "SHA1",
            "hash_value": digest,
            "download_url": f"{root}/v3/billdownload/file?token={token}",
        },
    )


@pay_api("pay_tradebill")
async def tradebill(request: web.Request) -> web.Response:
    """GET /v3/bill/tradebill?bill_date=&bill_type=ALL -> {hash_type, hash_value, download_url}"""
    return await _apply(request, "trade")


@pay_api("pay_fundflowbill")
async def fundflowbill(request: web.Request) -> web.Response:
    """GET /v3/bill/fundflowbill?bill_date=&account_type=BASIC -> {hash_type, hash_value, download_url}"""
    return await _apply(request, "fundflow")


@pay_api("pay_billdownload")
async def download(request: web.Request) -> web.StreamResponse:
    """GET /v3/billdownload/file?token= -> the file, unsigned (its hash is in the apply answer)."""
    state, book = request.app[STATE], request.app[BOOK]
    found = book.files.get(request.query.get("token", ""))
    if found is None or state.now() >= found.expires_at:
        return pay_error(request, 400, "PARAM_ERROR", "下载地址已失效，请重新申请账单")
    return web.Response(body=found.content, content_type="text/plain", charset="utf-8")


# -- control ----------------------------------------------------------------------------------


class _Bad(Exception):
    pass


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _control_body(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if body is None:
        raise _Bad("需要 JSON 对象")
    return body


def _bill_date(body: dict[str, Any]) -> str:
    value = body.get("bill_date")
    if not isinstance(value, str) or not DATE_FORMAT.match(value):
        raise _Bad("bill_date 应为 yyyy-MM-dd")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _Bad("bill_date 应为 yyyy-MM-dd") from None
    return value


def _bills(body: dict[str, Any]) -> tuple[str, ...]:
    bill = body.get("bill", "both")
    if bill == "both":
        return BILLS
    if bill not in BILLS:
        raise _Bad('bill 应为 "trade"、"fundflow" 或 "both"')
    return (bill,)


def _reference(body: dict[str, Any]) -> str:
    value = body.get("reference")
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise _Bad("reference 应为商户订单号或商户退款单号")
    return value


def _amount(body: dict[str, Any], *, required: bool) -> int | None:
    value = body.get("amount")
    if value is None and not required:
        return None
    if type(value) is not int or not 1 <= value <= 100_000_000_000:
        raise _Bad("amount 应为正整数（分）")
    return value


def _controlled(handler):
    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Bad as exc:
            return _bad(str(exc))

    handle.__doc__ = handler.__doc__
    return handle


@_controlled
async def drop_line(request: web.Request) -> web.Response:
    """{"bill_date", "reference", "bill"?: "trade" | "fundflow" | "both"}: the day's bill leaves
    out the payment (out_trade_no) or refund (out_refund_no)."""
    body = await _control_body(request)
    change = Change("drop", _bills(body), reference=_reference(body))
    return _added(request, _bill_date(body), change)


@_controlled
async def alter_line(request: web.Request) -> web.Response:
    """{"bill_date", "reference", "amount"?: fen, "state"?: 交易状态 or 退款状态, "bill"?}: the
    day's bill shows that line with another amount or state."""
    body = await _control_body(request)
    state = body.get("state")
    if state is not None and (not isinstance(state, str) or not re.match(r"^[A-Z_]{2,32}$", state)):
        raise _Bad("state 应为 SUCCESS、REFUND、CLOSED、REVOKED、PROCESSING、ABNORMAL 等")
    amount = _amount(body, required=False)
    if amount is None and state is None:
        raise _Bad("amount 与 state 至少填一个")
    change = Change("alter", _bills(body), reference=_reference(body), amount=amount, state=state)
    return _added(request, _bill_date(body), change)


@_controlled
async def add_line(request: web.Request) -> web.Response:
    """{"bill_date", "out_trade_no", "amount": fen, "bill"?}: the day's bill holds a paid
    transaction the merchant never made (at noon that day)."""
    body = await _control_body(request)
    bill_date, amount = _bill_date(body), _amount(body, required=True)
    out_trade_no = body.get("out_trade_no")
    if not isinstance(out_trade_no, str) or not re.match(r"^[0-9A-Za-z_\-|*]{6,32}$", out_trade_no):
        raise _Bad("out_trade_no 应为 6–32 位字母数字")
    state = request.app[STATE]
    at = datetime.combine(date.fromisoformat(bill_date), time(12, 0), BEIJING_TZ)
    appid = state.config.pay_appids[0] if state.config.pay_appids else ""
    transaction_id = "4200" + "".join(secrets.choice("0123456789") for _ in range(24))
    line = Line(
        at, "payment", appid, transaction_id, out_trade_no, "", "模拟的陌生交易", amount or 0, "SUCCESS"
    )
    return _added(request, bill_date, Change("add", _bills(body), reference=out_trade_no, line=line))


def _added(request: web.Request, bill_date: str, change: Change) -> web.Response:
    changes = request.app[BOOK].changes.setdefault(bill_date, [])
    changes.append(change)
    return web.json_response({"bill_date": bill_date, "changes": len(changes)})


@_controlled
async def close_day(request: web.Request) -> web.Response:
    """{"bill_date"}: WeChat has the day's bills ready now (a test needs not wait for 10:00
    the next day)."""
    bill_date = _bill_date(await _control_body(request))
    request.app[BOOK].closed_early.add(bill_date)
    return web.json_response({"bill_date": bill_date, "ready": True})


@_controlled
async def tamper(request: web.Request) -> web.Response:
    """{"times"?: 1}: the next bill files downloaded are not the files hashed (a corrupted or
    forged download): the merchant must refuse them."""
    times = (await _control_body(request)).get("times", 1)
    if type(times) is not int or not 1 <= times <= 100:
        raise _Bad("times 应为 1–100")
    book = request.app[BOOK]
    book.tamper_next += times
    return web.json_response({"tamper_next": book.tamper_next})


def add_routes(app: web.Application) -> None:
    app[BOOK] = BillBook()
    app.router.add_get("/v3/bill/tradebill", tradebill)
    app.router.add_get("/v3/bill/fundflowbill", fundflowbill)
    app.router.add_get("/v3/billdownload/file", download)
    app.router.add_post("/pay/bills/drop", drop_line)
    app.router.add_post("/pay/bills/alter", alter_line)
    app.router.add_post("/pay/bills/add", add_line)
    app.router.add_post("/pay/bills/close-day", close_day)
    app.router.add_post("/pay/bills/tamper", tamper)
