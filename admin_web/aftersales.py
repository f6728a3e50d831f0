"""After-sales for staff: the filtered list (newest first, how long each has waited for review)
and a request's page (lines, money, photos, the return, the refund at WeChat Pay, the timeline)
with what may be done in its state: approve, refuse, confirm the return's receipt, reject the
return, submit a failed refund again, add a note. A merchant's people see only their merchant's
requests; agents decide only refunds up to the agent refund limit (the core says no to the
rest)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.orders import ROLE_TEXT, day_of, page_number, shown
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.aftersales import queries, review
from commerce.aftersales.queries import AfterSaleView
from commerce.aftersales.states import AfterSaleKind, AfterSaleStatus
from commerce.clock import SHANGHAI
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, can, require
from commerce.staff.services import list_staff
from commerce.staff.states import StaffRole

PAGE_SIZE = 50
STATUS_TEXT = {
    "requested": "待审核",
    "awaiting_return": "待买家退货",
    "returning": "退货中（待确认收货）",
    "refunding": "退款中",
    "refunded": "已退款",
    "refused": "已拒绝",
    "cancelled": "买家已撤销",
}
KIND_TEXT = {"refund_only": "仅退款", "return_refund": "退货退款"}
EVENT_TEXT = {
    "requested": "买家申请",
    "status_changed": "状态变更",
    "return_shipped": "买家寄回",
    "received": "确认收到退货",
    "refund_failed": "退款失败",
    "refund_retried": "重新提交退款",
    "note": "备注",
}
REFUND_TEXT = {
    "requested": "已提交微信支付",
    "processing": "微信支付退款中",
    "succeeded": "已退回买家",
    "failed": "退款失败",
}
SYSTEM_ACTORS = {
    "system:aftersales": "系统",  # an approval when the review was due says so in its details
    "system:upgrade": "系统（旧退款转入）",
    "system:scheduler": "系统（定时任务）",
    "system:wechatpay": "微信支付",
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/refunds", _to_aftersales)  # where the whole-order refund list was
    router.add_get("/aftersales", list_page)
    router.add_get("/aftersales/{id}", detail)
    router.add_post("/aftersales/{id}/approve", approve)
    router.add_post("/aftersales/{id}/refuse", refuse)
    router.add_post("/aftersales/{id}/receive", confirm_return)
    router.add_post("/aftersales/{id}/reject-return", reject_return)
    router.add_post("/aftersales/{id}/retry", retry)
    router.add_post("/aftersales/{id}/notes", add_note)


async def _to_aftersales(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/admin/aftersales")


@aiohttp_jinja2.template("aftersales.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    query = request.query
    status = query.get("status", "") if query.get("status", "") in STATUS_TEXT else ""
    kind = query.get("kind", "") if query.get("kind", "") in KIND_TEXT else ""
    order_no = query.get("order_no", "").strip()[:32]
    since, from_ok = day_of(query.get("from", ""))
    until, to_ok = day_of(query.get("to", ""))
    page_no = page_number(query.get("page", ""))
    items, total = await queries.staff_list(
        merchant_id=staff.merchant_id,
        status=AfterSaleStatus(status) if status else None,
        kind=AfterSaleKind(kind) if kind else None,
        order_no=order_no or None,
        since=_midnight(since),
        until=_midnight(until + timedelta(days=1)) if until else None,
        page=page_no,
        page_size=PAGE_SIZE,
    )
    kept = {
        "status": status,
        "kind": kind,
        "order_no": order_no,
        "from": since.isoformat() if since else "",
        "to": until.isoformat() if until else "",
    }
    return {
        "active": "aftersales",
        "items": items,
        "total": total,
        "page": page_no,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "filters": kept,
        "page_url": lambda n: (
            "/admin/aftersales?" + urlencode({**{k: v for k, v in kept.items() if v}, "page": n})
        ),
        "date_error": "" if from_ok and to_ok else "日期格式应为 年-月-日，如 2024-05-01",
        "statuses": STATUS_TEXT,
        "kinds": KIND_TEXT,
        "waited": waited,
        "yuan": fen_to_yuan,
        "shown": shown,
    }


def waited(since: datetime) -> str:
    """How long a request has waited for review, as staff read it."""
    minutes = max(int((clock.now() - since).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 24 * 60:
        return f"{minutes // 60} 小时 {minutes % 60} 分钟"
    return f"{minutes // (24 * 60)} 天 {minutes % (24 * 60) // 60} 小时"


def _midnight(day: date | None) -> datetime | None:
    """The start of a Shanghai calendar day, in UTC."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI).astimezone(UTC) if day else None


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.REFUNDS)
    return await render_aftersale(request, path_id(request), error="")


async def render_aftersale(
    request: web.Request, aftersale_id: int, *, error: str, status: int = 200
) -> web.Response:
    staff = session_for(request).staff
    view = await queries.staff_get(aftersale_id=aftersale_id, merchant_id=staff.merchant_id)
    limit = request.app[CORE].settings.agent_refund_limit_fen
    context = {
        "active": "aftersales",
        "a": view,
        # Shown as images and links: only web addresses (the core stores its media URLs).
        "photos": [url for url in view.photos if str(url).startswith(("https://", "http://", "/"))],
        "status_value": _value(view.status),
        "kind_value": _value(view.kind),
        "actions": actions_for(staff, view, limit),
        "over_limit": staff.role is StaffRole.AGENT and view.amount > limit,
        "refund_advice": _refund_advice(view),
        "actors": await _actor_names(view),
        "statuses": STATUS_TEXT,
        "kinds": KIND_TEXT,
        "event_text": EVENT_TEXT,
        "refund_text": REFUND_TEXT,
        "value": _value,
        "error": error,
        "yuan": fen_to_yuan,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("aftersale.html", request, context, status=status)


def actions_for(staff: Staff, view: AfterSaleView, agent_refund_limit_fen: int) -> set[str]:
    """The buttons the page offers (the core checks again): by state, for who may decide."""
    if not can(staff, Permission.REFUNDS):
        return set()
    offered = {"note"}
    if staff.role is StaffRole.AGENT and view.amount > agent_refund_limit_fen:
        return offered
    status = _value(view.status)
    if status == "requested":
        offered |= {"approve", "refuse"}
    elif status == "returning":
        offered |= {"receive", "reject_return"}
    elif status == "refunding" and view.refund is not None and view.refund.retryable:
        offered.add("retry")
    return offered


def _refund_advice(view: AfterSaleView) -> str:
    """What staff do about a refund WeChat Pay did not pay out (the core says it)."""
    refund = view.refund
    return refund.advice if refund is not None and refund.status == "failed" else ""


async def _actor_names(view: AfterSaleView) -> dict[str, str]:
    """Who did each step, as staff read it: a name and a role, the buyer, or the system."""
    actors = {str(entry.actor) for entry in view.timeline}
    staff_ids = {int(a.partition(":")[2]) for a in actors if a.startswith("staff:") and a[6:].isdigit()}
    named = (
        {
            f"staff:{s.id}": f"{s.username}（{ROLE_TEXT.get(s.role.value, s.role.value)}）"
            for s in await list_staff(ids=staff_ids)
        }
        if staff_ids
        else {}
    )
    for actor in actors:
        if actor not in named:
            named[actor] = "买家" if actor.startswith("shopper:") else SYSTEM_ACTORS.get(actor, actor)
    return named


async def approve(request: web.Request) -> web.Response:
    return await _act(request, review.approve)


async def refuse(request: web.Request) -> web.Response:
    form = await request.post()
    return await _act(request, partial(review.refuse, reason=str(form.get("reason", "")).strip()))


async def confirm_return(request: web.Request) -> web.Response:
    form = await request.post()
    restock = str(form.get("restock", "")) == "yes"
    return await _act(request, partial(review.confirm_return, restock=restock))


async def reject_return(request: web.Request) -> web.Response:
    form = await request.post()
    return await _act(request, partial(review.reject_return, reason=str(form.get("reason", "")).strip()))


async def retry(request: web.Request) -> web.Response:
    return await _act(request, review.retry_refund)


async def add_note(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    aftersale_id = path_id(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    if not text or len(text) > 500:
        return await render_aftersale(request, aftersale_id, error="备注为 1-500 字", status=400)
    try:
        await review.add_note(aftersale_id=aftersale_id, staff=staff, text=text)
    except CommerceError as error:
        return await _refused(request, aftersale_id, error)
    raise web.HTTPFound(f"/admin/aftersales/{aftersale_id}#timeline")


async def _act(request: web.Request, action) -> web.Response:
    """Run a review action and go back to the request; a refusal is said on its page."""
    staff = session_for(request).staff
    require(staff, Permission.REFUNDS)
    aftersale_id = path_id(request)
    try:
        # The limit comes from the settings; the core decides whom it binds (agents).
        await action(
            aftersale_id=aftersale_id,
            staff=staff,
            agent_refund_limit_fen=request.app[CORE].settings.agent_refund_limit_fen,
        )
    except CommerceError as error:
        return await _refused(request, aftersale_id, error)
    raise web.HTTPFound(f"/admin/aftersales/{aftersale_id}")


async def _refused(request: web.Request, aftersale_id: int, error: CommerceError) -> web.Response:
    if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
        raise error  # the error page: not theirs, or not theirs to decide
    status = 400 if error.kind is ErrorKind.INVALID else 409
    return await render_aftersale(request, aftersale_id, error=error.message, status=status)


def _value(value: Any) -> Any:
    return getattr(value, "value", value)
