"""Payouts for the finance role: withdrawals by status (newest first) and one with its
timeline, where a person approves it (it goes to WeChat Pay's merchant transfer) or refuses it
with a reason the payee reads (the money returns to their balance)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number, shown
from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.payouts import queries, services
from commerce.payouts.states import PayoutStatus
from commerce.staff.permissions import Permission, require

PAGE_SIZE = 50
STATUS_TEXT = {
    "requested": "待审核",
    "approved": "已审核，转账中",
    "waiting_confirmation": "待收款人确认",
    "succeeded": "已到账",
    "refused": "已拒绝",
    "failed": "转账失败（已退回余额）",
    "cancelled": "已撤销（已退回余额）",
}
EVENT_TEXT = {
    "requested": "申请提现",
    "status_changed": "状态变更",
    "submitted": "提交微信支付",
    "submit_failed": "提交微信支付未成功（将用同一单号重试）",
    "cancel_asked": "超时未确认，已申请撤销",
}
ACTOR_TEXT = {"system:payouts": "系统（小额自动审核）", "system:wechatpay": "微信支付"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/finance/payouts", list_page)
    router.add_get("/finance/payouts/{id}", detail)
    router.add_post("/finance/payouts/{id}/approve", approve)
    router.add_post("/finance/payouts/{id}/refuse", refuse)


@aiohttp_jinja2.template("payouts.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.FINANCE)
    status = request.query.get("status", "")
    status = status if status in STATUS_TEXT else ""
    page_no = page_number(request.query.get("page", ""))
    items, total = await queries.staff_list(
        status=PayoutStatus(status) if status else None, page=page_no, page_size=PAGE_SIZE
    )
    return {
        "active": "finance",
        "items": items,
        "total": total,
        "status": status,
        "page": page_no,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: (
            "/admin/finance/payouts?" + urlencode({**({"status": status} if status else {}), "page": n})
        ),
        "statuses": STATUS_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
    }


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _render(request, path_id(request), error="")


async def _render(request: web.Request, payout_id: int, *, error: str, status: int = 200) -> web.Response:
    view = await queries.staff_get(payout_id=payout_id)
    context = {
        "active": "finance",
        "p": view,
        "status_value": view.status.value,
        "statuses": STATUS_TEXT,
        "event_text": EVENT_TEXT,
        "actor_text": ACTOR_TEXT,
        "error": error,
        "yuan": fen_to_yuan,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("payout.html", request, context, status=status)


async def approve(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    payout_id = path_id(request)
    try:
        await services.approve(payout_id=payout_id, staff=staff)
    except CommerceError as error:
        return await _refused(request, payout_id, error)
    raise web.HTTPFound(f"/admin/finance/payouts/{payout_id}")


async def refuse(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    payout_id = path_id(request)
    form = await request.post()
    try:
        await services.refuse(payout_id=payout_id, staff=staff, reason=str(form.get("reason", "")))
    except CommerceError as error:
        return await _refused(request, payout_id, error)
    raise web.HTTPFound(f"/admin/finance/payouts/{payout_id}")


async def _refused(request: web.Request, payout_id: int, error: CommerceError) -> web.Response:
    if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
        raise error  # the error page
    status = 400 if error.kind is ErrorKind.INVALID else 409
    return await _render(request, payout_id, error=error.message, status=status)
