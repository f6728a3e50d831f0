"""Community leaders (团长), the platform's people only: applications waiting for review
(approve, or refuse with a reason the applicant is told), leaders with their figures (suspend
with a reason, reinstate), and leaders' pickup points with their coordinates. Merchants never
see leaders (Permission.LEADERS is the platform admin's)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import shown
from admin_web.security import path_id, read_form, session_for
from commerce.community import leaders, queries
from commerce.community.states import LeaderStatus
from commerce.errors import CommerceError, ErrorKind
from commerce.staff.permissions import Permission, require
from commerce.users.services import mask_phone

STATUS_TEXT = {
    "applied": "待审核",
    "approved": "已通过",
    "refused": "未通过",
    "suspended": "已暂停",
}
EVENT_TEXT = {"applied": "提交申请", "status_changed": "状态变更", "edited": "修改资料"}
SOURCE_TEXT = {"qr": "扫码", "link": "分享链接", "chosen": "自选自提点"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/leaders", list_page)
    router.add_get("/leaders/points", points_page)
    router.add_get("/leaders/{id}", detail)
    router.add_post("/leaders/{id}/approve", approve)
    router.add_post("/leaders/{id}/refuse", refuse)
    router.add_post("/leaders/{id}/suspend", suspend)
    router.add_post("/leaders/{id}/reinstate", reinstate)


@aiohttp_jinja2.template("leaders.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.LEADERS)
    status = request.query.get("status", "")
    status = status if status in STATUS_TEXT and status != "applied" else ""
    return {
        "active": "leaders",
        "applications": await queries.applications(),
        "rows": await queries.leaders_with_figures(status=LeaderStatus(status) if status else None),
        "status": status,
        "statuses": STATUS_TEXT,
        "masked": mask_phone,
        "shown": shown,
    }


@aiohttp_jinja2.template("leader_points.html")
async def points_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.LEADERS)
    return {
        "active": "leaders",
        "leaders": await queries.leader_points(),
        "statuses": STATUS_TEXT,
    }


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.LEADERS)
    return await _render(request, path_id(request), error="")


async def approve(request: web.Request) -> web.Response:
    return await _act(request, lambda leader_id, actor, _: leaders.approve(leader_id=leader_id, actor=actor))


async def refuse(request: web.Request) -> web.Response:
    return await _act(
        request,
        lambda leader_id, actor, reason: leaders.refuse(leader_id=leader_id, reason=reason, actor=actor),
    )


async def suspend(request: web.Request) -> web.Response:
    return await _act(
        request,
        lambda leader_id, actor, reason: leaders.suspend(leader_id=leader_id, reason=reason, actor=actor),
    )


async def reinstate(request: web.Request) -> web.Response:
    return await _act(
        request, lambda leader_id, actor, _: leaders.reinstate(leader_id=leader_id, actor=actor)
    )


async def _act(request: web.Request, action) -> web.Response:
    """One review action by the signed-in staff member (audited by the service); a refusal of
    the lifecycle (someone handled it first) shows on the leader's page."""
    staff = session_for(request).staff
    require(staff, Permission.LEADERS)
    leader_id = path_id(request)
    form = await read_form(request)
    try:
        await action(leader_id, staff.actor, str(form.get("reason", ""))[:300])
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await _render(request, leader_id, error=error.message, status=status)
    raise web.HTTPFound(f"/admin/leaders/{leader_id}")


async def _render(request: web.Request, leader_id: int, *, error: str, status: int = 200) -> web.Response:
    view = await queries.get_leader(leader_id)
    context = {
        "active": "leaders",
        "l": view,
        "status_value": view.status.value,
        "phone": mask_phone(view.phone),
        "customers": await queries.customers_count(view.id),
        "recent": await queries.customers_of(view.id, page=1, page_size=20),
        "events": await queries.leader_events(view.id),
        "statuses": STATUS_TEXT,
        "event_text": EVENT_TEXT,
        "source_text": SOURCE_TEXT,
        "masked_name": queries.mask_nickname,
        "share_path": queries.share_path(view.share_code),
        "error": error,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("leader.html", request, context, status=status)
