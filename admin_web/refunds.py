"""Refunds for staff: the list (awaiting review first, with how long each has waited), and the
order page's refund forms: approve, refuse with a reason, submit a failed refund again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web import orders
from admin_web.keys import CORE
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.orders.queries import orders_wholly_of_merchant
from commerce.payments import queries, review
from commerce.payments.states import RefundStatus
from commerce.staff.permissions import Permission, require

PAGE_SIZE = 50


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/refunds", list_page)
    router.add_post("/refunds/{id}/approve", approve)
    router.add_post("/refunds/{id}/refuse", refuse)
    router.add_post("/refunds/{id}/retry", retry)


@aiohttp_jinja2.template("refunds.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    status_text = request.query.get("status", "")
    status = RefundStatus(status_text) if status_text in orders.REFUND_STATUS_TEXT else None
    page_no = orders.page_number(request.query.get("page", ""))
    found = await queries.refunds_for_staff(
        merchant_id=staff.merchant_id, status=status, page=page_no, page_size=PAGE_SIZE
    )
    kept = {"status": status.value} if status else {}
    # A refund of an order holding another merchant's products tells that merchant's money.
    shown_money = None
    if staff.merchant_id is not None:
        order_ids = {item.refund.order_id for item in found.items}
        shown_money = await orders_wholly_of_merchant(order_ids, staff.merchant_id)
    return {
        "active": "refunds",
        "refunds": found.items,
        "shown_money": shown_money,
        "total": found.total,
        "awaiting": found.awaiting_review,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: "/admin/refunds?" + urlencode({**kept, "page": n}),
        "status": status.value if status else "",
        "refund_statuses": orders.REFUND_STATUS_TEXT,
        "waited": _waited,
        "yuan": fen_to_yuan,
        "shown": orders.shown,
    }


def _waited(since) -> str:
    minutes = max(int((clock.now() - since).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 24 * 60:
        return f"{minutes // 60} 小时 {minutes % 60} 分钟"
    return f"{minutes // (24 * 60)} 天 {minutes % (24 * 60) // 60} 小时"


async def approve(request: web.Request) -> web.Response:
    return await _act(request, review.approve_refund)


async def refuse(request: web.Request) -> web.Response:
    form = await request.post()
    return await _act(request, partial(review.refuse_refund, reason=str(form.get("reason", ""))))


async def retry(request: web.Request) -> web.Response:
    return await _act(request, review.retry_refund)


async def _act(request: web.Request, action: Callable[..., Awaitable[int]]) -> web.Response:
    """Run a refund action and go back to its order; a refusal is said on the order's page."""
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    refund_id = path_id(request)
    form = await request.post()
    try:
        # The limit comes from the settings; the core decides whom it binds (agents).
        order_id = await action(
            refund_id=refund_id,
            staff=staff,
            agent_refund_limit_fen=request.app[CORE].settings.agent_refund_limit_fen,
        )
    except CommerceError as error:
        back = str(form.get("order_id", ""))
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN) or not (
            back.isascii() and back.isdigit() and len(back) < 10
        ):
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await orders.render_order(request, int(back), error=error.message, status=status)
    raise web.HTTPFound(f"/admin/orders/{order_id}")
