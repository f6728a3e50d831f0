"""Orders for staff: list, detail with its timeline and refunds, and shipping."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.orders import backoffice
from commerce.orders.states import OrderStatus
from commerce.payments.queries import refunds_of
from commerce.shipping.queries import CARRIERS
from commerce.staff.permissions import Permission, can, require
from commerce.users.services import mask_phone

STATUS_TEXT = {
    "pending_payment": "待付款",
    "paid": "待发货",
    "shipped": "已发货",
    "completed": "已完成",
    "cancelled": "已取消",
    "refunding": "退款中",
    "refunded": "已退款",
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/orders", list_page)
    router.add_get("/orders/{id}", detail)
    router.add_post("/orders/{id}/ship", ship)


@aiohttp_jinja2.template("orders.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.ORDERS)
    status_text = request.query.get("status", "")
    status = OrderStatus(status_text) if status_text in STATUS_TEXT else None
    order_no = request.query.get("q", "")[:32]
    views, total = await backoffice.list_for_staff(
        merchant_id=staff.merchant_id, status=status, order_no=order_no
    )
    return {
        "active": "orders",
        "orders": views,
        "total": total,
        "status": status_text,
        "q": order_no,
        "statuses": STATUS_TEXT,
        "yuan": fen_to_yuan,
        "shown": _shown,
    }


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.ORDERS)
    return await _render(request, path_id(request), error="")


async def ship(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.SHIP)
    order_id = path_id(request)
    form = await request.post()
    try:
        await backoffice.ship_for_staff(
            order_id=order_id,
            merchant_id=session.staff.merchant_id,
            carrier=str(form.get("carrier", "")),
            tracking_no=str(form.get("tracking_no", "")),
            actor=session.staff.actor,
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await _render(request, order_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/orders/{order_id}")


async def _render(request: web.Request, order_id: int, *, error: str, status: int = 200) -> web.Response:
    staff = session_for(request).staff
    found = await backoffice.order_for_staff(order_id=order_id, merchant_id=staff.merchant_id)
    address = dict(found.order.address)
    if not can(staff, Permission.REVEAL_PII):
        address["phone"] = mask_phone(str(address.get("phone", "")))
        address["detail"] = "****"
    context = {
        "active": "orders",
        "found": found,
        "address": address,
        "refunds": await refunds_of(order_id),
        "may_ship": can(staff, Permission.SHIP)
        and found.order.status is OrderStatus.PAID
        and found.all_lines_mine,
        "carriers": sorted(CARRIERS.values()),
        "statuses": STATUS_TEXT,
        "error": error,
        "yuan": fen_to_yuan,
        "shown": _shown,
    }
    return aiohttp_jinja2.render_template("order.html", request, context, status=status)


def _shown(moment) -> str:
    return clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
