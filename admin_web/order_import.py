"""Shipping many orders from one upload: a CSV or .xlsx file with 订单号, 快递公司, 快递单号.
Each row is shipped as the order page ships one (the same core call, the same scoping), and the
page answers with every row's result."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from admin_web.security import session_for
from commerce.orders import backoffice
from commerce.shipping.queries import CARRIERS
from commerce.spreadsheets import SpreadsheetTooLarge, check_unzipped_size
from commerce.staff.permissions import Permission, require

MAX_BYTES = 2 * 1024 * 1024
HEADERS = ("订单号", "快递公司", "快递单号")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRefused(Exception):
    """The upload cannot be read as a shipping list; the message says why (zh-CN)."""


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/orders/ship-bulk", form_page)
    router.add_get("/orders/ship-bulk/template.xlsx", template)
    router.add_post("/orders/ship-bulk", upload)


async def form_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.SHIP)
    return _page(request, results=None, error="")


async def upload(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.SHIP)
    form = await request.post()
    sent = form.get("file")
    try:
        if not isinstance(sent, web.FileField):
            raise FileRefused("请选择要上传的 CSV 或 Excel（.xlsx）文件")
        data = sent.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise FileRefused("文件超过 2 MB，请分批上传")
        rows = await asyncio.to_thread(read_rows, sent.filename or "", data)
        if len(rows) > backoffice.BULK_SHIP_MAX_ROWS:
            raise FileRefused(f"一次最多发货 {backoffice.BULK_SHIP_MAX_ROWS} 单，请分批上传")
    except FileRefused as refused:
        return _page(request, results=None, error=str(refused), status=400)
    results = await backoffice.ship_rows(rows=rows, merchant_id=staff.merchant_id, actor=staff.actor)
    return _page(request, results=results, error="")


def _page(request: web.Request, *, results, error: str, status: int = 200) -> web.Response:
    context: dict[str, Any] = {
        "active": "orders",
        "carriers": sorted(CARRIERS.values()),
        "results": results,
        "shipped": sum(1 for r in results if r.shipped) if results else 0,
        "error": error,
        "max_rows": backoffice.BULK_SHIP_MAX_ROWS,
    }
    return aiohttp_jinja2.render_template("orders_ship_bulk.html", request, context, status=status)


def read_rows(filename: str, data: bytes) -> list[tuple[int, str, str, str]]:
    """(row number, order number, carrier, tracking number) of every non-empty row."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_table(data)
    elif name.endswith(".csv"):
        table = _csv_table(data)
    else:
        raise FileRefused("只支持 CSV 或 Excel（.xlsx）文件")
    header = [_cell(value) for value in next(table, [])]
    missing = [h for h in HEADERS if h not in header]
    if missing:
        raise FileRefused(f"第一行应为表头：{'、'.join(HEADERS)}（缺少 {'、'.join(missing)}）")
    at = [header.index(h) for h in HEADERS]
    rows = []
    for number, values in enumerate(table, start=2):
        cells = [_cell(values[i]) if i < len(values) else "" for i in at]
        if any(cells):
            rows.append((number, cells[0], cells[1], cells[2]))
        if len(rows) > backoffice.BULK_SHIP_MAX_ROWS:
            break  # the caller refuses the file; no need to read further
    if not rows:
        raise FileRefused("文件中没有要发货的订单")
    return rows


def _csv_table(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused("无法识别文件编码，请另存为 UTF-8 编码的 CSV")
    if "\x00" in text:
        raise FileRefused("文件不是 CSV 文本")
    try:  # a 2 MB file at most: read it whole, so that a bad row is refused here
        return iter(list(csv.reader(io.StringIO(text))))
    except csv.Error as exc:
        raise FileRefused(f"文件不是有效的 CSV：{exc}") from exc


def _xlsx_table(data: bytes):
    try:
        check_unzipped_size(data)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            rows = list(book.active.iter_rows(values_only=True, max_row=backoffice.BULK_SHIP_MAX_ROWS + 2))
        finally:
            book.close()
    except SpreadsheetTooLarge as exc:
        raise FileRefused(str(exc)) from None
    except Exception:  # openpyxl and zipfile raise many types for a file that is not .xlsx
        raise FileRefused("无法读取该 Excel 文件，请使用 .xlsx 格式（可下载模板）") from None
    return iter(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a cell; order numbers belong in text cells
    return str(value).strip()[:64]


async def template(request: web.Request) -> web.Response:
    """The .xlsx to fill in: the three columns, and the carriers allowed (a list to choose from)."""
    require(session_for(request).staff, Permission.SHIP)
    body = await asyncio.to_thread(_template_bytes)
    name = quote("批量发货模板.xlsx")
    return web.Response(
        body=body,
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename=ship-bulk.xlsx; filename*=UTF-8''{name}"},
    )


def _template_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "发货"
    sheet.append(list(HEADERS))
    for column, width in (("A", 26), ("B", 16), ("C", 24)):
        sheet.column_dimensions[column].width = width
        for row in range(2, backoffice.BULK_SHIP_MAX_ROWS + 2):
            sheet[f"{column}{row}"].number_format = "@"  # text: long order numbers stay exact
    carriers = book.create_sheet("快递公司")
    carriers.append(["快递公司", "编码"])
    for code, carrier in sorted(CARRIERS.items(), key=lambda item: item[1]):
        carriers.append([carrier, code])
    choice = DataValidation(
        type="list", formula1=f"='快递公司'!$A$2:$A${len(CARRIERS) + 1}", allow_blank=True
    )
    choice.add(f"B2:B{backoffice.BULK_SHIP_MAX_ROWS + 1}")
    sheet.add_data_validation(choice)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
