"""Reading the CSV bills WeChat Pay writes (trade bill, fund-flow bill).

A bill is a header row, data rows whose every field starts with a backquote (`), then a
summary header row and one summary row (its fields backquoted too). Amounts are yuan with two
decimals: read as int fen exactly, never through a float. The summary is checked against the
rows (count and totals), so a truncated or altered file is refused rather than half read.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from commerce.clock import SHANGHAI

_YUAN = re.compile(r"^(-?)(\d{1,12})(?:\.(\d{1,2}))?$")
TRADE_SUMMARY_FIRST = "总交易单数"
FUND_SUMMARY_FIRST = "资金流水总笔数"


class BillMalformed(Exception):
    """The file is not a bill as WeChat Pay writes it (columns, amounts, summary)."""


def fen_of(text: str) -> int:
    """'12.34' -> 1234, '-0.06' -> -6, '5' -> 500; anything else is BillMalformed."""
    found = _YUAN.match(text.strip())
    if found is None:
        raise BillMalformed(f"not an amount in yuan: {text[:20]!r}")
    sign, whole, cents = found.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen


def _time(text: str) -> datetime:
    """'2026-12-06 09:15:02', Beijing time, as UTC."""
    text = text.strip()
    try:
        if len(text) != 19 or text[10] != " ":
            raise ValueError(text)
        local = datetime.fromisoformat(text)
    except ValueError:
        raise BillMalformed(f"not a bill time: {text[:20]!r}") from None
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class TradeBillRow:
    """One line of the trade bill: a payment (trade_state SUCCESS) or a refund (REFUND)."""

    traded_at: datetime  # UTC
    transaction_id: str
    out_trade_no: str
    openid: str
    trade_type: str
    trade_state: str
    settlement_total: int  # 应结订单金额 (fen): what the payment brought; 0 on a refund line
    refund_id: str
    out_refund_no: str
    refund: int  # 退款金额 (fen)
    refund_status: str  # 退款状态: SUCCESS, PROCESSING, ABNORMAL, CLOSED ("" on a payment)
    fee: int  # 手续费 (fen), negative when a refund returns it
    total: int  # 订单金额 (fen)
    refund_asked: int  # 申请退款金额 (fen)

    @property
    def is_refund(self) -> bool:
        return bool(self.out_refund_no) or self.trade_state == "REFUND"


@dataclass(frozen=True)
class FundFlowRow:
    """One movement of the account: income (收入) or expense (支出)."""

    booked_at: datetime  # UTC
    business_no: str  # 微信支付业务单号: the transaction's or the refund's id
    flow_no: str  # 资金流水单号
    business_name: str
    business_type: str  # 交易, 退款, 扣除交易手续费, ...
    income: bool  # 收支类型 收入 (True) or 支出
    amount: int  # 收支金额 (fen), positive
    balance: int  # 账户结余 (fen)
    voucher: str  # 业务凭证号: our out_trade_no or out_refund_no

    @property
    def signed(self) -> int:
        return self.amount if self.income else -self.amount


Row = TypeVar("Row")


@dataclass(frozen=True)
class Bill(Generic[Row]):
    rows: list[Row]
    summary: dict[str, str]


def split(text: str, summary_first: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The data rows (by header name) and the summary (by its header name), backquotes gone."""
    table = [
        row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(cell.strip() for cell in row)
    ]
    if len(table) < 3:
        raise BillMalformed("a bill has a header, a summary header and a summary row")
    header = [cell.strip() for cell in table[0]]
    ends = next((i for i, row in enumerate(table) if row and row[0].strip() == summary_first), None)
    if ends is None or ends + 2 != len(table):
        raise BillMalformed(f"no summary ({summary_first}) closing the bill")
    rows = []
    for raw in table[1:ends]:
        if len(raw) != len(header):
            raise BillMalformed(f"a row of {len(raw)} fields under a header of {len(header)}")
        rows.append({name: _untick(cell) for name, cell in zip(header, raw, strict=True)})
    names, values = [c.strip() for c in table[ends]], table[ends + 1]
    if len(names) != len(values):
        raise BillMalformed("the summary row does not match its header")
    return rows, {name: _untick(value) for name, value in zip(names, values, strict=True)}


def _untick(cell: str) -> str:
    cell = cell.strip()
    return cell[1:] if cell.startswith("`") else cell


def _need(row: dict[str, str], name: str) -> str:
    if name not in row:
        raise BillMalformed(f"no column {name}")
    return row[name]


def parse_trade_bill(text: str) -> Bill[TradeBillRow]:
    rows, summary = split(text, TRADE_SUMMARY_FIRST)
    parsed = [
        TradeBillRow(
            traded_at=_time(_need(r, "交易时间")),
            transaction_id=_need(r, "微信订单号"),
            out_trade_no=_need(r, "商户订单号"),
            openid=_need(r, "用户标识"),
            trade_type=_need(r, "交易类型"),
            trade_state=_need(r, "交易状态"),
            settlement_total=fen_of(_need(r, "应结订单金额")),
            refund_id=_need(r, "微信退款单号"),
            out_refund_no=_need(r, "商户退款单号"),
            refund=fen_of(_need(r, "退款金额")),
            refund_status=_need(r, "退款状态"),
            fee=fen_of(_need(r, "手续费")),
            total=fen_of(_need(r, "订单金额")),
            refund_asked=fen_of(_need(r, "申请退款金额")),
        )
        for r in rows
    ]
    _check(summary, "总交易单数", len(parsed), count=True)
    _check(summary, "应结订单总金额", sum(r.settlement_total for r in parsed))
    _check(summary, "退款总金额", sum(r.refund for r in parsed))
    _check(summary, "手续费总金额", sum(r.fee for r in parsed))
    return Bill(parsed, summary)


def parse_fund_flow_bill(text: str) -> Bill[FundFlowRow]:
    rows, summary = split(text, FUND_SUMMARY_FIRST)
    parsed = []
    for r in rows:
        direction = _need(r, "收支类型")
        if direction not in ("收入", "支出"):
            raise BillMalformed(f"收支类型 {direction[:8]!r}")
        parsed.append(
            FundFlowRow(
                booked_at=_time(_need(r, "记账时间")),
                business_no=_need(r, "微信支付业务单号"),
                flow_no=_need(r, "资金流水单号"),
                business_name=_need(r, "业务名称"),
                business_type=_need(r, "业务类型"),
                income=direction == "收入",
                amount=fen_of(_need(r, "收支金额(元)")),
                balance=fen_of(_need(r, "账户结余(元)")),
                voucher=_need(r, "业务凭证号"),
            )
        )
    _check(summary, "资金流水总笔数", len(parsed), count=True)
    _check(summary, "收入笔数", sum(1 for r in parsed if r.income), count=True)
    _check(summary, "收入金额", sum(r.amount for r in parsed if r.income))
    _check(summary, "支出笔数", sum(1 for r in parsed if not r.income), count=True)
    _check(summary, "支出金额", sum(r.amount for r in parsed if not r.income))
    return Bill(parsed, summary)


def _check(summary: dict[str, str], name: str, expected: int, *, count: bool = False) -> None:
    text = _need(summary, name)
    if count:
        if not text.isdigit() or int(text) != expected:
            raise BillMalformed(f"the summary's {name} is {text[:12]!r}, the rows make {expected}")
    elif fen_of(text) != expected:
        raise BillMalformed(f"the summary's {name} is {text[:12]!r}, the rows make {expected} fen")
