"""The platform's KOL funnels: per KOL (paged, sorted by GMV or another figure) and per tier over
a range of Beijing days, exported as CSV or Excel; and one KOL's funnel by day (with a chart)
and by channel. The platform admin's only (Permission.KOLS, as the KOL section)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.charts import bar_chart
from admin_web.orders import day_of, page_number
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError
from commerce.money import fen_to_yuan
from commerce.referrals import funnel
from commerce.staff.permissions import Permission, require

PATH = "/admin/kol-funnels"
PAGE_SIZE = 50
PERMISSION = Permission.KOLS
DEFAULT_DAYS = 30
SORT_TEXT = {
    "gmv": "付款金额",
    "orders": "付款订单",
    "touches": "点击",
    "customers": "新客户",
    "commission": "计提佣金",
}
CHANNEL_TEXT = {
    "link": "分享链接",
    "qr_scan": "扫码（已关注）",
    "qr_follow": "扫码关注",
    "mp_code": "小程序码",
    "share": "用户转发",
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/kol-funnels", platform_page)
    router.add_get("/kol-funnels.csv", export_csv)
    router.add_get("/kol-funnels.xlsx", export_xlsx)
    router.add_get("/kol-funnels/{id}", kol_page)


def _range(request: web.Request) -> tuple[date, date, str]:
    """The ?from=&to= days (the last 30 days by default); an error message when unreadable."""
    today = clock.to_shanghai(clock.now()).date()
    start, ok_start = day_of(request.query.get("from", ""))
    end, ok_end = day_of(request.query.get("to", ""))
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if not (ok_start and ok_end):
        return today - timedelta(days=DEFAULT_DAYS - 1), today, "日期格式应为 YYYY-MM-DD"
    return start, end, ""


def _sort(request: web.Request) -> str:
    sort = request.query.get("sort", "gmv")
    return sort if sort in SORT_TEXT else "gmv"


def _common(start: date, end: date) -> dict[str, Any]:
    return {
        "active": "kol-funnels",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "yuan": fen_to_yuan,
        "percent": lambda bps: f"{bps / 100:.2f}%",
        "channels": CHANNEL_TEXT,
    }


async def platform_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    start, end, error = _range(request)
    sort = _sort(request)
    try:
        found = await funnel.per_kol(
            start=start,
            end=end,
            sort=sort,
            page=page_number(request.query.get("page", "")),
            page_size=PAGE_SIZE,
        )
        tiers = await funnel.per_tier(start=start, end=end)
    except CommerceError as refused:
        return await _empty(request, start, end, sort, refused.message)
    kept = urlencode({"from": start.isoformat(), "to": end.isoformat(), "sort": sort})
    context = {
        **_common(start, end),
        "rows": found.items,
        "totals": found.totals,
        "total": found.total,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: f"{PATH}?{kept}&page={n}",
        "tiers": tiers,
        "sort": sort,
        "sorts": SORT_TEXT,
        "csv_url": f"{PATH}.csv?{kept}",
        "xlsx_url": f"{PATH}.xlsx?{kept}",
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol_funnels.html", request, context, status=400 if error else 200)


async def _empty(request: web.Request, start: date, end: date, sort: str, error: str) -> web.Response:
    context = {
        **_common(start, end),
        "rows": [],
        "totals": funnel.Figures(),
        "total": 0,
        "page": 1,
        "pages": 1,
        "page_url": lambda n: PATH,
        "tiers": [],
        "sort": sort,
        "sorts": SORT_TEXT,
        "csv_url": "",
        "xlsx_url": "",
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol_funnels.html", request, context, status=400)


async def export_csv(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    start, end, _ = _range(request)
    body = await funnel.export_csv(start=start, end=end, sort=_sort(request))
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f"attachment; filename=kol-funnels-{start}-{end}.csv",
        },
    )


async def export_xlsx(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    start, end, _ = _range(request)
    body = await funnel.export_xlsx(start=start, end=end, sort=_sort(request))
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f"attachment; filename=kol-funnels-{start}-{end}.xlsx",
        },
    )


async def kol_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, PERMISSION)
    kol_id = path_id(request)
    name, code = await funnel.kol_name(kol_id)
    start, end, error = _range(request)
    try:
        funnel.checked_range(start, end)
    except CommerceError as refused:
        start, end, error = end - timedelta(days=DEFAULT_DAYS - 1), end, refused.message
    by_day = await funnel.kol_funnel(kol_id=kol_id, start=start, end=end, by="day")
    by_channel = await funnel.kol_funnel(kol_id=kol_id, start=start, end=end, by="channel")
    context = {
        **_common(start, end),
        "kol_id": kol_id,
        "name": name,
        "code": code,
        "by_day": by_day,
        "by_channel": by_channel,
        "gmv_chart": bar_chart([(r.key[5:], r.figures.paid_gmv) for r in by_day.rows], label="每日付款金额"),
        "touch_chart": bar_chart(
            [(r.key[5:], r.figures.touches) for r in by_day.rows], label="每日点击", money=False
        ),
        "error": error,
    }
    return aiohttp_jinja2.render_template("kol_funnel.html", request, context, status=400 if error else 200)
