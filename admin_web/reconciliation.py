"""Reconciliation with WeChat Pay's bills, for finance: the days reconciled with their counts,
a day's differences with what to do about each, resolving one with a note, and running a day
again."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.keys import CORE
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError, ErrorKind
from commerce.money import fen_to_yuan
from commerce.reconciliation import queries, services
from commerce.staff.permissions import Permission, require
from commerce.staff.services import list_staff

BASE = "/admin/finance/reconciliation"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/finance/reconciliation", runs_page)
    router.add_post("/finance/reconciliation/run", run_day)
    router.add_get("/finance/reconciliation/{day}", day_page)
    router.add_post("/finance/reconciliation/differences/{id}/resolve", resolve)


def _shown(moment) -> str:
    return clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _money(fen: int | None) -> str:
    return "" if fen is None else f"¥{fen_to_yuan(fen)}"


def _common() -> dict[str, Any]:
    return {
        "active": "finance",
        "shown": _shown,
        "money": _money,
        "kind_text": queries.KIND_TEXT,
        "subject_text": queries.SUBJECT_TEXT,
        "source_text": queries.SOURCE_TEXT,
        "run_text": queries.RUN_TEXT,
    }


async def runs_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _runs(request)


async def _runs(request: web.Request, *, error: str = "", status: int = 200, day: str = "") -> web.Response:
    context = {
        **_common(),
        "runs": await queries.runs(),
        "error": error,
        "day": day or services.yesterday().isoformat(),
    }
    return aiohttp_jinja2.render_template("reconciliation.html", request, context, status=status)


async def _names(actors: set[str]) -> dict[str, str]:
    """Who ran a day or resolved a difference, as finance reads it."""
    ids = {int(a[6:]) for a in actors if a.startswith("staff:") and a[6:].isdigit()}
    named = {f"staff:{s.id}": s.username for s in await list_staff(ids=ids)} if ids else {}
    return {a: named.get(a, {"system": "系统（定时任务）", "cli": "命令行"}.get(a, a)) for a in actors}


def _day(text: str) -> date:
    """A day whose page may exist: a real date, not later than today (Asia/Shanghai)."""
    try:
        return services.checked_date(text, latest=clock.to_shanghai(clock.now()).date())
    except CommerceError:
        raise web.HTTPNotFound() from None


async def day_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _day_page(request, _day(request.match_info["day"]))


async def _day_page(request: web.Request, day: date, *, error: str = "", status: int = 200) -> web.Response:
    run, differences = await queries.run_of(day), await queries.differences_of(day)
    actors = {d.resolved_by for d in differences} | ({run.requested_by} if run else set())
    context = {
        **_common(),
        "day": day.isoformat(),
        "run": run,
        "differences": differences,
        "names": await _names(actors),
        "error": error,
    }
    return aiohttp_jinja2.render_template("reconciliation_day.html", request, context, status=status)


async def run_day(request: web.Request) -> web.Response:
    """Run a day (again): its page afterwards, or the reason it could not run."""
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    form = await request.post()
    text = str(form.get("day", ""))[:20]
    try:
        day = services.checked_date(text)
        await services.rerun(pay=request.app[CORE].pay, bill_date=day, staff=staff)
    except CommerceError as error:
        if error.kind is ErrorKind.FORBIDDEN:
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await _runs(request, error=error.message, status=status, day=text)
    raise web.HTTPFound(f"{BASE}/{day.isoformat()}")


async def resolve(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    found = await queries.difference(path_id(request))
    if found is None:
        raise web.HTTPNotFound()
    note = str((await request.post()).get("note", ""))
    try:
        await services.resolve(difference_id=found.id, staff=staff, note=note)
    except CommerceError as error:
        if error.kind in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND):
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await _day_page(request, found.bill_date, error=error.message, status=status)
    raise web.HTTPFound(f"{BASE}/{found.bill_date.isoformat()}#difference-{found.id}")
