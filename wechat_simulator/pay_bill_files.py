"""The daily bills' files as WeChat Pay writes them: a day's lines (Asia/Shanghai) from the
transactions and refunds the simulator holds, a test's changes applied, rendered as WeChat's CSV
(a header row, every data field prefixed with a backquote, a summary header and a summary row;
amounts in yuan with two decimals; a fee per line at the simulator's rate, 0.6 % rounded half
up, negative on refunds). wechat_simulator.pay_bills serves them."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from wechat_simulator.pay_state import BEIJING_TZ, PayState, Transaction

FEE_RATE_BPS = 60  # the simulated merchant's rate: 0.6 %
READY_AT = time(10, 0)  # a day's bills exist from this hour of the next day (Beijing time)
URL_TTL = timedelta(minutes=5)
BILLS = ("trade", "fundflow")
DATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")

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
