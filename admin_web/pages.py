"""The pages. Each checks its permission on the server, whatever the navigation showed."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.charts import bar_chart
from admin_web.navigation import BY_SLUG
from admin_web.security import session_for
from commerce.aftersales.queries import count_open
from commerce.analytics import dashboard as analytics
from commerce.community import queries as leaders
from commerce.money import fen_to_yuan
from commerce.referrals import flags, kol_queries
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, can, require
from commerce.support.queries import list_conversations

# The open after-sales states, in the order staff work through them.
OPEN_TEXT = {
    "requested": "待审核",
    "awaiting_return": "待买家退货",
    "returning": "待确认收货",
    "refunding": "退款中",
}


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    staff = session_for(request).staff
    require(staff, Permission.DASHBOARD)
    # A merchant's people see their merchant's figures; platform roles see the platform's.
    figures = await analytics.dashboard(merchant_id=staff.merchant_id)
    waiting = None
    if can(staff, Permission.CONVERSATIONS):
        waiting = (await list_conversations(status="waiting", page_size=1)).total
    open_aftersales = None
    if can(staff, Permission.REFUNDS):
        open_aftersales = await count_open(merchant_id=staff.merchant_id)
    return {
        "active": "",
        "d": figures,
        "waiting_conversations": waiting,
        "open_aftersales": open_aftersales,
        "reviews": await _reviews_waiting(staff),
        "aftersale_statuses": OPEN_TEXT,
        "chart": bar_chart(figures.daily_gmv),
        "yuan": fen_to_yuan,
    }


async def _reviews_waiting(staff: Staff) -> list[tuple[str, str, str, int]]:
    """The platform's reviews waiting, for the roles that make them: (figure, title, link, count)."""
    waiting = []
    if can(staff, Permission.LEADERS):
        leader_applications = await leaders.applications_waiting()
        waiting.append(("leader-applications", "团长申请", "/admin/leaders", leader_applications))
    if can(staff, Permission.KOLS):
        kol_applications = await kol_queries.applications_waiting()
        waiting.append(("kol-applications", "达人申请", "/admin/kols?status=applied", kol_applications))
        waiting.append(("kol-flags", "推广风控", "/admin/kol-flags?status=open", await flags.open_flags()))
    return waiting


@aiohttp_jinja2.template("section.html")
async def section(request: web.Request) -> dict[str, Any]:
    found = BY_SLUG.get(request.match_info["section"])
    if found is None:
        raise web.HTTPNotFound()
    require(session_for(request).staff, found.permission)
    return {"active": found.slug, "section": found}
