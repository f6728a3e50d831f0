"""KOLs' commissions as finance keeps them: CSV (UTF-8 with a BOM, so Excel reads the Chinese)
and Excel (.xlsx, amounts as numbers with two decimals). One row per commission, amounts in
yuan, Beijing time; cells a spreadsheet would run as formulas go out guarded with a '."""

from __future__ import annotations

import csv
import io

from commerce import clock
from commerce.catalog.catalog_file import guard_cell
from commerce.money import fen_to_yuan
from commerce.referrals.commission_queries import CommissionView
from commerce.referrals.states import KolCommissionStatus
from commerce.spreadsheets import xlsx_of

COLUMNS = (
    "订单号",
    "级别",
    "推广员编号",
    "推广员",
    "渠道",
    "计佣金额",
    "计提佣金",
    "已退款",
    "冲回/作废",
    "已结算",
    "状态",
    "计提时间",
    "结算时间",
)
MONEY = {5, 6, 7, 8, 9}  # the columns in yuan
STATUS_TEXT = {
    KolCommissionStatus.PENDING: "待结算",
    KolCommissionStatus.HELD: "风控冻结",
    KolCommissionStatus.EARNED: "已结算",
    KolCommissionStatus.REVERSED: "已冲回",
    KolCommissionStatus.VOIDED: "已作废",
}


def _time(moment) -> str:
    return f"{clock.to_shanghai(moment):%Y-%m-%d %H:%M}" if moment else ""


def _rows(rows: list[CommissionView]) -> list[list[object]]:
    return [
        [
            c.order_no,
            c.level,
            c.kol_id,
            c.kol_name,
            c.channel,
            fen_to_yuan(c.basis),
            fen_to_yuan(c.amount),
            fen_to_yuan(c.refunded),
            fen_to_yuan(c.reversed),
            fen_to_yuan(c.earned),
            STATUS_TEXT[c.status],
            _time(c.accrued_at),
            _time(c.earned_at),
        ]
        for c in rows
    ]


def commissions_csv(rows: list[CommissionView]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in _rows(rows):
        writer.writerow(
            [guard_cell(v) if isinstance(v, str) and n not in MONEY else v for n, v in enumerate(row)]
        )
    return buffer.getvalue().encode("utf-8-sig")


def commissions_xlsx(rows: list[CommissionView]) -> bytes:
    return xlsx_of("推广佣金", list(COLUMNS), _rows(rows), money_columns=MONEY)
