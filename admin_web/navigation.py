"""The navigation every page shows: only what the signed-in role may open. Later issues fill
the sections in (group buys, leaders and KOLs have their places already)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from admin_web.keys import SESSION
from commerce.staff.permissions import Permission, can


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    permission: Permission
    ready: bool = False  # False: the page says it is coming


SECTIONS = (
    Section("", "概览", Permission.DASHBOARD, ready=True),
    Section("products", "商品", Permission.PRODUCTS, ready=True),
    Section("orders", "订单", Permission.ORDERS, ready=True),
    Section("aftersales", "售后", Permission.REFUNDS, ready=True),
    Section("support", "客服会话", Permission.CONVERSATIONS, ready=True),
    Section("users", "用户", Permission.USERS, ready=True),
    Section("shipping", "运费模板", Permission.SHIPPING, ready=True),
    Section("pickups", "自提", Permission.SHIP, ready=True),  # codes; points with PICKUP_POINTS
    Section("group-deals", "拼团", Permission.PRODUCTS, ready=True),
    Section("groupbuy", "社区团购", Permission.PRODUCTS),
    Section("community-sales", "团购活动", Permission.COMMUNITY_SALES, ready=True),
    Section("batches", "团购批次", Permission.COMMUNITY_SALES, ready=True),
    Section("leaders", "团长", Permission.LEADERS, ready=True),  # the platform's own
    Section("kols", "达人推广", Permission.KOLS, ready=True),  # the platform's own
    Section("merchants", "商家管理", Permission.MERCHANTS, ready=True),
    Section("staff", "员工账号", Permission.STAFF, ready=True),
    Section("finance", "财务结算", Permission.FINANCE, ready=True),
    # KOLs' funnels and fraud flags: the platform admin's (as the KOL section).
    Section("kol-funnels", "推广漏斗", Permission.KOLS, ready=True),
    Section("kol-flags", "推广风控", Permission.KOLS, ready=True),
    # Finance reaches statements from its hub too; a merchant's owner only here.
    Section("statements", "结算单", Permission.STATEMENTS, ready=True),
    Section("audit", "操作日志", Permission.AUDIT, ready=True),
    Section("jobs", "任务异常", Permission.JOBS, ready=True),
)
BY_SLUG = {section.slug: section for section in SECTIONS}


async def navigation_for(request: web.Request) -> dict[str, Any]:
    session = request.get(SESSION)
    if session is None:
        return {"staff": None, "sections": []}
    allowed = [section for section in SECTIONS if can(session.staff, section.permission)]
    return {"staff": session.staff, "sections": allowed, "csrf_token": session.csrf_token}
