"""Finance's page of community leaders' commissions: the rates (per category or product, else
the default setting), totals per leader, and the commissions by status, leader or order.
Permission FINANCE; rate changes are audited by the core."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.orders import page_number, shown
from admin_web.security import read_form, session_for
from commerce.catalog import queries as catalog
from commerce.community import commission_exports as exports
from commerce.community import commission_queries as queries
from commerce.community import commission_rates as rates
from commerce.community.commission_states import CommissionStatus
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.staff.permissions import Permission, require

PATH = "/admin/finance/leader-commissions"
PAGE_SIZE = 50
STATUS_TEXT = {
    CommissionStatus.PENDING: "待结算",
    CommissionStatus.EARNED: "已结算",
    CommissionStatus.REVERSED: "已冲回",
}
_RATE = re.compile(r"^\d{1,3}(\.\d{1,2})?$")
_ID = re.compile(r"^\d{1,9}$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/finance/leader-commissions", page)
    router.add_get("/finance/leader-commissions.csv", export_csv)
    router.add_post("/finance/leader-commissions/rates", set_rate)


async def page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _render(request)


def _filters(request: web.Request) -> dict[str, str]:
    """The list's filters as given, the odd ones dropped."""
    query = request.query
    wanted = query.get("status", "")
    leader = query.get("leader", "").strip()
    return {
        "status": wanted if wanted in {s.value for s in CommissionStatus} else "",
        "leader": leader if _ID.match(leader) else "",
        "order_no": query.get("order_no", "").strip()[:32],
    }


def _filter_args(filters: dict[str, str]) -> dict:
    return {
        "status": filters["status"] or None,
        "leader_id": int(filters["leader"]) if filters["leader"] else None,
        "order_no": filters["order_no"] or None,
    }


async def export_csv(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    rows = await queries.staff_export(**_filter_args(_filters(request)))
    return web.Response(
        body=exports.commissions_csv(rows),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": "attachment; filename=leader-commissions.csv",
        },
    )


async def _render(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    filters = _filters(request)
    found = await queries.staff_list(
        **_filter_args(filters), page=page_number(request.query.get("page", "")), page_size=PAGE_SIZE
    )
    names = {line.id: line.name for line in await catalog.category_lines()}

    kept = urlencode({k: v for k, v in filters.items() if v})

    def page_url(n: int) -> str:
        return f"{PATH}?{kept}&page={n}" if kept else f"{PATH}?page={n}"

    context = {
        "active": "finance",
        "default_bps": request.app[CORE].settings.leader_commission_default_bps,
        "rates": await rates.rates(),
        "category_names": names,
        "categories": sorted(names.items(), key=lambda item: item[1]),
        "totals": await queries.totals_per_leader(),
        "commissions": found.items,
        "total": found.total,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": page_url,
        "export_url": f"{PATH}.csv?{kept}" if kept else f"{PATH}.csv",
        "filters": filters,
        "statuses": STATUS_TEXT,
        "percent": lambda bps: f"{Decimal(bps) / 100:.2f}%",
        "yuan": fen_to_yuan,
        "shown": shown,
        "error": error,
    }
    return aiohttp_jinja2.render_template("finance_leader_commissions.html", request, context, status=status)


async def set_rate(request: web.Request) -> web.Response:
    """A category's or product's rate in percent (two decimals at most); blank: clear it."""
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    form = await read_form(request)
    target = str(form.get("target", ""))
    target_id = str(form.get("target_id", "")).strip()
    rate = str(form.get("rate", "")).strip().removesuffix("%")
    if target not in ("category", "product") or not _ID.match(target_id):
        return await _render(request, error="请选择类目或填写商品编号", status=400)
    try:
        if not rate:
            await rates.clear_rate(staff=staff, target=target, target_id=int(target_id))  # type: ignore[arg-type]
        elif _RATE.match(rate):
            bps = int(Decimal(rate) * 100)
            await rates.set_rate(staff=staff, target=target, target_id=int(target_id), rate_bps=bps)  # type: ignore[arg-type]
        else:
            return await _render(request, error="费率请填写百分数，如 10 或 8.5", status=400)
    except CommerceError as error:
        code = 404 if error.kind is ErrorKind.NOT_FOUND else 400
        return await _render(request, error=error.message, status=code)
    raise web.HTTPFound(PATH)
