"""Leaders' commissions as a CSV finance keeps (UTF-8 with a BOM, so Excel reads the Chinese):
one row per commission, amounts in yuan with two decimals, Beijing time; cells a spreadsheet
would run as formulas go out guarded with a ' (as the other exports)."""

from __future__ import annotations

import csv
import io

from commerce import clock
from commerce.catalog.catalog_file import guard_cell
from commerce.community.commission_queries import CommissionView
from commerce.community.commission_states import CommissionStatus
from commerce.money import fen_to_yuan

COLUMNS = (
    "订单号",
    "团长编号",
    "团长",
    "计佣金额",
    "计提佣金",
    "冲回",
    "已结算",
    "状态",
    "计提时间",
    "结算时间",
)
STATUS_TEXT = {
    CommissionStatus.PENDING: "待结算",
    CommissionStatus.EARNED: "已结算",
    CommissionStatus.REVERSED: "已冲回",
}


def _time(moment) -> str:
    return f"{clock.to_shanghai(moment):%Y-%m-%d %H:%M}" if moment else ""


def commissions_csv(rows: list[CommissionView]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for c in rows:
        writer.writerow(
            [
                guard_cell(c.order_no),
                c.leader_id,
                guard_cell(c.leader_name),
                fen_to_yuan(c.basis),
                fen_to_yuan(c.amount),
                fen_to_yuan(c.reversed),
                fen_to_yuan(c.earned),
                STATUS_TEXT[c.status],
                _time(c.accrued_at),
                _time(c.earned_at),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
