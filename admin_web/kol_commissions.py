"""The platform's page of KOLs' commissions: the list by KOL, status and the days they accrued,
exported as CSV or Excel. Permission FINANCE (finance and the platform admin)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number, shown
from admin_web.security import session_for
from commerce.money import fen_to_yuan
from commerce.referrals import commission_exports as exports
from commerce.referrals import commission_queries as queries
from commerce.referrals.commission_queries import Filters
from commerce.referrals.states import KolCommissionStatus
from commerce.staff.permissions import Permission, require

PATH = "/admin/kol-commissions"
PAGE_SIZE = 50
_ID = re.compile(r"^\d{1,9}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/kol-commissions", page)
    router.add_get("/kol-commissions.csv", export_csv)
    router.add_get("/kol-commissions.xlsx", export_xlsx)


def _day(text: str) -> date | None:
    if not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _filters(request: web.Request) -> dict[str, str]:
    """The list's filters as given, the odd ones dropped."""
    query = request.query
    wanted = query.get("status", "")
    kol = query.get("kol", "").strip()
    since, until = query.get("from", "").strip(), query.get("to", "").strip()
    return {
        "status": wanted if wanted in {s.value for s in KolCommissionStatus} else "",
        "kol": kol if _ID.match(kol) else "",
        "from": since if _day(since) else "",
        "to": until if _day(until) else "",
    }


def _filter_args(filters: dict[str, str]) -> Filters:
    return Filters(
        kol_id=int(filters["kol"]) if filters["kol"] else None,
        status=filters["status"] or None,
        accrued_from=_day(filters["from"]),
        accrued_to=_day(filters["to"]),
    )


async def page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    filters = _filters(request)
    found = await queries.staff_list(
        filters=_filter_args(filters), page=page_number(request.query.get("page", "")), page_size=PAGE_SIZE
    )
    kept = urlencode({k: v for k, v in filters.items() if v})

    def page_url(n: int) -> str:
        return f"{PATH}?{kept}&page={n}" if kept else f"{PATH}?page={n}"

    context = {
        "active": "finance",
        "commissions": found.items,
        "total": found.total,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": page_url,
        "csv_url": f"{PATH}.csv?{kept}" if kept else f"{PATH}.csv",
        "xlsx_url": f"{PATH}.xlsx?{kept}" if kept else f"{PATH}.xlsx",
        "filters": filters,
        "statuses": exports.STATUS_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("kol_commissions.html", request, context)


async def export_csv(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    rows = await queries.staff_export(filters=_filter_args(_filters(request)))
    return web.Response(
        body=exports.commissions_csv(rows),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": "attachment; filename=kol-commissions.csv",
        },
    )


async def export_xlsx(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    rows = await queries.staff_export(filters=_filter_args(_filters(request)))
    return web.Response(
        body=exports.commissions_xlsx(rows),
        headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": "attachment; filename=kol-commissions.xlsx",
        },
    )
