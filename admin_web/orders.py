"""Orders for staff: the filtered list, the detail page (payments, refunds and their review,
the timeline with notes) and shipping. Refund review and bulk shipping have their own modules."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.aftersales import queries as aftersale_queries
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.orders import backoffice
from commerce.orders.states import OrderStatus
from commerce.payments import queries as payments
from commerce.payments import review as refund_review
from commerce.payments.errors import RefundError
from commerce.shipping.queries import CARRIERS
from commerce.staff.permissions import Permission, can, require
from commerce.users.services import mask_phone

PAGE_SIZE = 50
STATUS_TEXT = {
    "pending_payment": "待付款",
    "paid": "待发货",
    "grouping": "待成团",
    "shipped": "已发货",
    "completed": "已完成",
    "cancelled": "已取消",
    "closed": "已关闭（已全部退款）",
}
REFUND_STATUS_TEXT = {
    "awaiting_review": "待审核",
    "refused": "已拒绝",
    "requested": "已提交微信支付",
    "processing": "退款中",
    "succeeded": "已退款",
    "failed": "退款失败",
}
PAYMENT_STATUS_TEXT = {"pending": "待支付", "paid": "已支付", "closed": "已关闭"}
EVENT_TEXT = {
    "created": "下单",
    "status_changed": "状态变更",
    "payment_returned": "款项原路退回",
    "refund_failed": "退款失败",
    "refund_approved": "同意退款",
    "refund_retried": "重新提交退款",
    "note": "备注",
}
ROLE_TEXT = {
    "platform_admin": "平台管理员",
    "merchant_owner": "店主",
    "merchant_staff": "店员",
    "agent": "客服",
    "finance": "财务",
}
SYSTEM_ACTORS = {"system:scheduler": "系统（定时任务）", "system:wechatpay": "微信支付"}


def add_routes(router: web.UrlDispatcher) -> None:
    # Imported here: both use this module's helpers.
    from admin_web import aftersales, order_import

    router.add_get("/orders", list_page)
    order_import.add_routes(router)  # before /orders/{id}: "ship-bulk" is not an id
    router.add_get("/orders/{id}", detail)
    router.add_post("/orders/{id}/ship", ship)
    router.add_post("/orders/{id}/notes", add_note)
    router.add_post("/orders/{id}/refunds/{refund_id}/retry", retry_automatic_refund)
    router.add_post("/orders/{id}/reveal", reveal)
    aftersales.add_routes(router)


@aiohttp_jinja2.template("orders.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.ORDERS)
    query = request.query
    status_text = query.get("status", "")
    keyword = query.get("q", "")[:50]
    placed_from, from_ok = day_of(query.get("from", ""))
    placed_to, to_ok = day_of(query.get("to", ""))
    page_no = page_number(query.get("page", ""))
    filters = backoffice.OrderFilters(
        status=OrderStatus(status_text) if status_text in STATUS_TEXT else None,
        placed_from=placed_from,
        placed_to=placed_to,
        keyword=keyword,
        full_phone=can(staff, Permission.REVEAL_PII),
    )
    found = await backoffice.list_for_staff(
        merchant_id=staff.merchant_id, filters=filters, page=page_no, page_size=PAGE_SIZE
    )
    kept = {
        "status": status_text if filters.status else "",
        "from": placed_from.isoformat() if placed_from else "",
        "to": placed_to.isoformat() if placed_to else "",
        "q": keyword,
    }
    pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return {
        "active": "orders",
        "orders": found.items,
        "total": found.total,
        "page": found.page,
        "pages": pages,
        "filters": kept,
        "page_url": lambda n: (
            "/admin/orders?" + urlencode({**{k: v for k, v in kept.items() if v}, "page": n})
        ),
        "date_error": "" if from_ok and to_ok else "日期格式应为 年-月-日，如 2024-05-01",
        "phone_note": PHONE_NOTE if _whole_phone(keyword) and not filters.full_phone else "",
        "may_ship": can(staff, Permission.SHIP),
        "statuses": STATUS_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
    }


EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
PHONE_NOTE = "您的角色只能按手机号后四位查找订单，完整号码不参与查找"


def _whole_phone(keyword: str) -> bool:
    keyword = keyword.strip()
    return keyword.isascii() and keyword.isdigit() and len(keyword) >= 7


def day_of(text: str) -> tuple[date | None, bool]:
    """A YYYY-MM-DD day (a Shanghai date) or None; False when given but unreadable."""
    text = text.strip()
    if not text:
        return None, True
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None, False
    if not EARLIEST_DAY <= day <= LATEST_DAY:  # beyond what the clock's arithmetic can hold
        return None, False
    return day, len(text) == 10


def page_number(text: str) -> int:
    """The ?page= of a list: 1 unless a plain number (at most 10,000)."""
    return min(int(text), 10_000) if text.isascii() and text.isdigit() and 0 < len(text) < 6 else 1


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.ORDERS)
    return await render_order(request, path_id(request), error="")


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
        return await render_order(request, order_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/orders/{order_id}")


async def add_note(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.ORDERS)
    order_id = path_id(request)
    form = await request.post()
    try:
        await backoffice.add_note(
            order_id=order_id,
            merchant_id=session.staff.merchant_id,
            text=str(form.get("text", "")),
            actor=session.staff.actor,
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await render_order(request, order_id, error=error.message, status=400)
    raise web.HTTPFound(f"/admin/orders/{order_id}#timeline")


async def reveal(request: web.Request) -> web.Response:
    """The order page with the receiver's whole phone and address (the look is recorded)."""
    session = session_for(request)
    require(session.staff, Permission.REVEAL_PII)
    order_id = path_id(request)
    address = await backoffice.reveal_address(
        order_id=order_id, merchant_id=session.staff.merchant_id, actor=session.staff.actor
    )
    return await render_order(request, order_id, error="", revealed=address)


async def retry_automatic_refund(request: web.Request) -> web.Response:
    """Submit again a failed automatic refund (money the order could not take): it belongs to
    no after-sales request, so it is retried here, on its order."""
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    order_id = path_id(request)
    refund_id = path_id(request, "refund_id")
    refunds = {r.id: r for r in await payments.refunds_of(order_id)}
    try:
        if refund_id not in refunds or not refunds[refund_id].automatic:
            raise RefundError.NOT_FOUND.error()
        await refund_review.retry_refund(
            refund_id=refund_id,
            staff=staff,
            agent_refund_limit_fen=request.app[CORE].settings.agent_refund_limit_fen,
        )
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:  # no such refund on this order, or not theirs
            raise
        return await render_order(request, order_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/orders/{order_id}")


async def render_order(
    request: web.Request, order_id: int, *, error: str, status: int = 200, revealed: dict | None = None
) -> web.Response:
    """The order page, with `error` said at the top (a refused action). The receiver's phone
    and address are masked for everyone until revealed (`revealed`: the recorded look)."""
    from admin_web import aftersales

    staff = session_for(request).staff
    found = await backoffice.order_for_staff(order_id=order_id, merchant_id=staff.merchant_id)
    address = dict(found.order.address)
    if revealed is None:
        address["phone"] = mask_phone(str(address.get("phone", "")))
        address["detail"] = "****"
    refunds = await payments.refunds_of(order_id)
    shows_aftersales = can(staff, Permission.REFUNDS)
    context = {
        "active": "orders",
        "found": found,
        "address": address,
        "may_reveal": revealed is None and can(staff, Permission.REVEAL_PII),
        # An order placed before orders were split per merchant, partly another merchant's:
        # its payments and refunds tell that merchant's money, so its people see no amounts.
        "whole_money": found.all_lines_mine or staff.merchant_id is None,
        "payments": await payments.payments_of(order_id),
        "refunds": refunds,
        "aftersales": await aftersale_queries.of_order(order_id=order_id) if shows_aftersales else [],
        "shows_aftersales": shows_aftersales,
        "aftersale_statuses": aftersales.STATUS_TEXT,
        "aftersale_kinds": aftersales.KIND_TEXT,
        "may_ship": can(staff, Permission.SHIP) and found.order.status is OrderStatus.PAID,
        "carriers": sorted(CARRIERS.values()),
        "statuses": STATUS_TEXT,
        "refund_statuses": REFUND_STATUS_TEXT,
        "payment_statuses": PAYMENT_STATUS_TEXT,
        "event_text": EVENT_TEXT,
        "actor_text": actor_text,
        "error": error,
        "yuan": fen_to_yuan,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("order.html", request, context, status=status)


def actor_text(event: backoffice.EventView) -> str:
    if event.staff_name:
        return f"{event.staff_name}（{ROLE_TEXT.get(event.staff_role, event.staff_role)}）"
    if event.actor.startswith("shopper:"):
        return "买家"
    return SYSTEM_ACTORS.get(event.actor, event.actor)


def shown(moment) -> str:
    return clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
