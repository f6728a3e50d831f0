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

Control endpoints (under /pay/bills) let a test change what a day's bill says — drop a line,
alter a line's amount or state, add a line for a transaction the merchant never made — close a
day early, and tamper with the next file downloaded (its hash no longer matches).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.pay_http import pay_api, pay_error, pay_reply
from wechat_simulator.pay_state import BEIJING_TZ, PayState, Transaction
from wechat_simulator.replies import json_body

FEE_RATE_BPS = 60  # the simulated merchant's rate: 0.6 %
READY_AT = time(10, 0)  # a day's bills exist from this hour of the next day (Beijing time)
URL_TTL = timedelta(minutes=5)
BILLS = ("trade", "fundflow")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TRADE_HEADER = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]
TRADE_SUMMARY = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
]
FUND_HEADER = [
    "记账时间",
    "微信支付业务单号",
    "资金流水单号",
    "业务名称",
    "业务类型",
    "收支类型",
    "收支金额(元)",
    "账户结余(元)",
    "资金变更提交申请人",
    "备注",
    "业务凭证号",
]
FUND_SUMMARY = [
    "资金流水总笔数",
    "收入笔数",
    "收入金额",
    "支出笔数",
    "支出金额",
]


def yuan(fen: int) -> str:
    """WeChat's amounts: yuan with two decimals (-0.06 for a negative six fen)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fee_of(amount: int) -> int:
    """The fee on an amount at the simulator's rate, rounded half up (to the nearest fen)."""
    return int((Decimal(amount) * FEE_RATE_BPS / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Line:
    """One payment or refund as the day's bills show it."""

    at: datetime
    kind: str  # "payment" or "refund"
    appid: str
    transaction_id: str
    out_trade_no: str
    openid: str
    description: str
    total: int  # the transaction's amount (fen)
    state: str  # 交易状态: SUCCESS for a payment, REFUND for a refund
    refund_id: str = ""
    out_refund_no: str = ""
    refund: int = 0  # fen
    refund_status: str = ""  # SUCCESS, PROCESSING, ABNORMAL, CLOSED

    @property
    def reference(self) -> str:
        return self.out_refund_no if self.kind == "refund" else self.out_trade_no

    @property
    def amount(self) -> int:
        return self.refund if self.kind == "refund" else self.total

    @property
    def fee(self) -> int:
        return -fee_of(self.refund) if self.kind == "refund" else fee_of(self.total)


@dataclass
class Change:
    """What a test asked a day's bill to say differently."""

    action: str  # drop, alter, add
    bills: tuple[str, ...]  # which of "trade", "fundflow"
    reference: str = ""
    amount: int | None = None
    state: str | None = None
    line: Line | None = None  # the line added


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


def day_of(moment: datetime) -> str:
    return moment.astimezone(BEIJING_TZ).date().isoformat()


def lines_of(pay: PayState, bill_date: str) -> list[Line]:
    """The day's payments (by success time) and refunds (a successful one by its success time,
    another by the time it was asked), oldest first."""
    lines: list[Line] = []
    for tx in pay.transactions.values():
        if tx.success_time is not None and day_of(tx.success_time) == bill_date:
            lines.append(_line(tx, tx.success_time, "payment", "SUCCESS"))
    for refund in pay.refunds.values():
        at = refund.success_time or refund.created_at
        if day_of(at) == bill_date:
            line = _line(pay.transactions[refund.out_trade_no], at, "refund", "REFUND")
            lines.append(
                replace(
                    line,
                    refund_id=refund.refund_id,
                    out_refund_no=refund.out_refund_no,
                    refund=refund.refund,
                    refund_status=refund.status,
                )
            )
    return sorted(lines, key=lambda line: line.at)


def _line(tx: Transaction, at: datetime, kind: str, state: str) -> Line:
    return Line(
        at, kind, tx.appid, tx.transaction_id, tx.out_trade_no, tx.openid, tx.description, tx.total, state
    )


def changed(lines: list[Line], changes: list[Change], bill: str) -> list[Line]:
    for change in changes:
        if bill not in change.bills:
            continue
        if change.action == "add" and change.line is not None:
            lines = [*lines, change.line]
        elif change.action == "drop":
            lines = [line for line in lines if line.reference != change.reference]
        elif change.action == "alter":
            lines = [_altered(line, change) if line.reference == change.reference else line for line in lines]
    return lines


def _altered(line: Line, change: Change) -> Line:
    if line.kind == "refund":
        line = replace(line, refund=change.amount if change.amount is not None else line.refund)
        return replace(line, refund_status=change.state or line.refund_status)
    line = replace(line, total=change.amount if change.amount is not None else line.total)
    return replace(line, state=change.state or line.state)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _ticked(values: list[str]) -> list[str]:
    return ["`" + value for value in values]


def trade_bill(lines: list[Line], mchid: str) -> bytes:
    """The trade bill (bill_type=ALL) as WeChat writes it."""
    rows: list[list[str]] = [TRADE_HEADER]
    settled = refunded = fees = ordered = asked = 0
    for line in lines:
        is_refund = line.kind == "refund"
        settle = 0 if is_refund else line.total
        settled, refunded, fees = settled + settle, refunded + line.refund, fees + line.fee
        ordered, asked = ordered + (0 if is_refund else line.total), asked + line.refund
        rows.append(
            _ticked(
                [
                    line.at.astimezone(BEIJING_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                    line.appid,
                    mchid,
                    "0",
                    "",
                    line.transaction_id,
                    line.out_trade_no,
                    line.openid,
                    "JSAPI",
                    line.state,
                    "OTHERS",
                    "CNY",
                    yuan(settle),
                    "0.00",
                    line.refund_id,
                    line.out_refund_no,
                    yuan(line.refund),
                    "0.00",
                    "ORIGINAL" if is_refund else "",
                    line.refund_status,
                    line.description,
                    "",
                    yuan(line.fee),
                    "0.60%",
                    yuan(0 if is_refund else line.total),
                    yuan(line.refund),
                    "",
                ]
            )
        )
    rows.append(TRADE_SUMMARY)
    rows.append(
        _ticked(
            [str(len(lines)), yuan(settled), yuan(refunded), "0.00", yuan(fees), yuan(ordered), yuan(asked)]
        )
    )
    return _csv(rows)


def fund_flow_bill(lines: list[Line]) -> bytes:
    """The basic account's fund-flow bill: per payment its income and the fee deducted, per
    refund the money paid back and the fee returned."""
    rows: list[list[str]] = [FUND_HEADER]
    balance = income = income_count = spent = spent_count = 0
    for line in lines:
        at = line.at.astimezone(BEIJING_TZ).strftime("%Y-%m-%d %H:%M:%S")
        if line.kind == "payment":
            moves = [
                (line.transaction_id, "交易", "交易", line.total, line.out_trade_no),
                (line.transaction_id, "扣除交易手续费", "扣除交易手续费", -line.fee, line.out_trade_no),
            ]
        else:
            moves = [
                (line.refund_id, "退款", "退款", -line.refund, line.out_refund_no),
                (line.refund_id, "扣除交易手续费", "扣除交易手续费", -line.fee, line.out_refund_no),
            ]
        for business_no, name, kind, amount, voucher in moves:
            if amount == 0:
                continue
            balance += amount
            if amount > 0:
                income, income_count = income + amount, income_count + 1
            else:
                spent, spent_count = spent - amount, spent_count + 1
            rows.append(
                _ticked(
                    [
                        at,
                        business_no,
                        "1900" + secrets.token_hex(10),
                        name,
                        kind,
                        "收入" if amount > 0 else "支出",
                        yuan(abs(amount)),
                        yuan(balance),
                        "system",
                        "",
                        voucher,
                    ]
                )
            )
    rows.append(FUND_SUMMARY)
    rows.append(
        _ticked(
            [str(income_count + spent_count), str(income_count), yuan(income), str(spent_count), yuan(spent)]
        )
    )
    return _csv(rows)


def _ready(request: web.Request, bill_date: str) -> bool:
    now = request.app[STATE].now().astimezone(BEIJING_TZ)
    ready_at = datetime.combine(date.fromisoformat(bill_date) + timedelta(days=1), READY_AT, BEIJING_TZ)
    return now >= ready_at or bill_date in request.app[BOOK].closed_early


async def _apply(request: web.Request, bill: str) -> web.Response:
    state, book = request.app[STATE], request.app[BOOK]
    bill_date = request.query.get("bill_date", "")
    try:
        if not _DATE.match(bill_date):
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
    if not isinstance(value, str) or not _DATE.match(value):
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
