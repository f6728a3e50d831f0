"""A statement as files finance and merchants keep: CSV (UTF-8 with a BOM, so Excel reads the
Chinese) and Excel (.xlsx). Amounts in yuan with two decimals; cells a spreadsheet would run
as formulas go out guarded with a ' (as the catalog's exports)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from commerce import clock
from commerce.catalog.catalog_file import guard_cell
from commerce.money import fen_to_yuan
from commerce.settlement.queries import StatementDetail
from commerce.settlement.states import STATUS_TEXT

ORDER_COLUMNS = ("订单号", "类型", "销售额", "退款", "平台佣金", "支付手续费", "调整", "应结金额")


def _head(detail: StatementDetail) -> list[list[object]]:
    s = detail.statement
    return [
        ["结算单号", s.number],
        ["商家", s.merchant_name],
        ["结算周期", f"{s.period_start:%Y-%m-%d} 至 {s.period_end:%Y-%m-%d}"],
        ["状态", STATUS_TEXT[s.status]],
        ["出单时间", f"{clock.to_shanghai(s.issued_at):%Y-%m-%d %H:%M}"],
        ["销售额", _yuan(s.sales)],
        ["退款", _yuan(s.refunds)],
        ["平台佣金", _yuan(s.commission)],
        ["支付手续费", _yuan(s.fees)],
        ["调整", _yuan(s.adjustments)],
        ["上期结转", _yuan(s.carried_in)],
        ["应结金额", _yuan(s.owed)],
        ["付款流水号", s.bank_reference],
        ["付款日期", s.paid_on.isoformat() if s.paid_on else ""],
        [],
        list(ORDER_COLUMNS),
    ]


def _rows(detail: StatementDetail) -> list[list[object]]:
    return [
        [
            line.order_no or "（无订单）",
            "调整" if line.is_adjustment else "结算",
            _yuan(line.figures.sales),
            _yuan(line.figures.refunds),
            _yuan(line.figures.commission),
            _yuan(line.figures.fees),
            _yuan(line.figures.adjustments),
            _yuan(line.figures.payable),
        ]
        for line in detail.orders
    ]


def _yuan(fen: int) -> Decimal:
    return Decimal(fen_to_yuan(fen))


def _cell(value: object) -> object:
    return guard_cell(value) if isinstance(value, str) else value


def statement_csv(detail: StatementDetail) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in [*_head(detail), *_rows(detail)]:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def statement_xlsx(detail: StatementDetail) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("结算单")

    def cell(value: object) -> object:
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("", _cell(value))
        amount = WriteOnlyCell(sheet, value)  # yuan as a number Excel adds up, shown with its fen
        amount.number_format = "0.00"
        return amount

    for row in [*_head(detail), *_rows(detail)]:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
