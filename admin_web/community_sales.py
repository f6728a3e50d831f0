"""Community sales (社区团购活动): the platform's people see and publish every sale, a merchant's
owner their merchant's (its own SKUs only); a sale is cancelled before its cut-off only.

Items are typed one per line as "SKU ID, 团购价（元）"."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.orders import shown
from admin_web.security import path_id, session_for
from commerce.community import sales
from commerce.community.states import SaleStatus
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan, yuan_to_fen
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require

FORMAT_HELP = "请按格式填写：日期 YYYY-MM-DD，截单小时 0–23，每行「SKU ID, 团购价」"
STATUS_TEXT = {SaleStatus.OPEN: "进行中", SaleStatus.CUT_OFF: "已截单", SaleStatus.CANCELLED: "已取消"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/community-sales", list_page)
    router.add_post("/community-sales", create)
    router.add_post("/community-sales/{id}/cancel", cancel)


def _staff(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.COMMUNITY_SALES)
    return staff


async def list_page(request: web.Request) -> web.Response:
    return await _render(request, _staff(request))


async def create(request: web.Request) -> web.Response:
    staff = _staff(request)
    form = await request.post()
    settings = request.app[CORE].settings
    try:
        items = _items(str(form.get("items", "")))
        day = date.fromisoformat(str(form.get("sale_date", "")).strip())
        hour_text = str(form.get("cutoff_hour", "")).strip()
        hour = int(hour_text) if hour_text else settings.community_cutoff_hour
    except ValueError:
        return await _render(
            request,
            staff,
            error="请按格式填写：日期 YYYY-MM-DD，截单小时 0–23，每行「SKU ID, 团购价」",
            status=400,
            form=form,
        )
    try:
        await sales.create_sale(
            title=str(form.get("title", "")),
            sale_date=day,
            items=items,
            merchant_id=staff.merchant_id,
            cutoff_hour=hour,
            actor=staff.actor,
        )
    except CommerceError as error:
        if error.kind is ErrorKind.FORBIDDEN:
            raise
        return await _render(request, staff, error=error.message, status=400, form=form)
    raise web.HTTPFound("/admin/community-sales")


def _items(text: str) -> list[tuple[int, int]]:
    items = []
    for line in text.replace("，", ",").splitlines():
        if not line.strip():
            continue
        sku, price = (part.strip() for part in line.split(",", 1))
        if not (sku.isascii() and sku.isdigit() and len(sku) < 10):
            raise ValueError(sku)
        items.append((int(sku), yuan_to_fen(price)))
    return items


async def cancel(request: web.Request) -> web.Response:
    staff = _staff(request)
    try:
        await sales.cancel_sale(
            sale_id=path_id(request), staff_merchant_id=staff.merchant_id, actor=staff.actor
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await _render(request, staff, error=error.message, status=409)
    raise web.HTTPFound("/admin/community-sales")


async def _render(
    request: web.Request, staff: Staff, *, error: str = "", status: int = 200, form=None
) -> web.Response:
    found = await sales.staff_sales(merchant_id=staff.merchant_id)
    tomorrow = sales.shanghai_today() + timedelta(days=1)
    context: dict[str, Any] = {
        "active": "community-sales",
        "sales": found,
        "statuses": STATUS_TEXT,
        "shown": shown,
        "yuan": fen_to_yuan,
        "error": error,
        "form": form or {},
        "default_date": tomorrow.isoformat(),
        "default_hour": request.app[CORE].settings.community_cutoff_hour,
    }
    return aiohttp_jinja2.render_template("community_sales.html", request, context, status=status)
