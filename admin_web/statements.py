"""Merchants' settlement statements: finance sees every merchant's, approves them and marks
them paid (the bank transfer happens outside); a merchant's owner sees its own (another's is
not found). Each statement exports as Excel and CSV, and prints."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number, shown
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.errors import CommerceError, ErrorKind
from commerce.merchants import services as merchants
from commerce.money import fen_to_yuan
from commerce.settlement import exports, queries
from commerce.settlement import services as settlement
from commerce.settlement.states import STATUS_TEXT, StatementStatus
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, can, require

ROUTE = r"/statements/{id:\d+}"
PERIOD_TEXT = {"daily": "日结", "weekly": "周结"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/statements", list_page)
    router.add_get(ROUTE, detail)
    router.add_get(ROUTE + ".xlsx", export_xlsx)
    router.add_get(ROUTE + ".csv", export_csv)
    router.add_get(ROUTE + "/print", print_page)
    router.add_post(ROUTE + "/approve", approve)
    router.add_post(ROUTE + "/paid", mark_paid)


def _reader(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.STATEMENTS)
    return staff


def _finance(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    return staff


@aiohttp_jinja2.template("statements.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    staff = _reader(request)
    query = request.query
    status_text = query.get("status", "")
    status = StatementStatus(status_text) if status_text in STATUS_TEXT else None
    chosen = query.get("merchant", "")
    merchant_id = staff.merchant_id  # a merchant's people: their own, whatever the URL says
    if merchant_id is None and chosen.isascii() and chosen.isdigit() and len(chosen) < 12:
        merchant_id = int(chosen)
    found = await queries.list_statements(
        merchant_id=merchant_id, status=status, page=page_number(query.get("page", ""))
    )
    kept = {"status": status_text if status else "", "merchant": str(merchant_id or "")}
    return {
        "active": "statements",
        "statements": found.items,
        "total": found.total,
        "page": found.page,
        "pages": max((found.total + found.page_size - 1) // found.page_size, 1),
        "page_url": lambda n: (
            "/admin/statements?" + urlencode({**{k: v for k, v in kept.items() if v}, "page": n})
        ),
        "filters": kept,
        "merchants": await merchants.list_merchants() if staff.merchant_id is None else [],
        "statuses": {s.value: text for s, text in STATUS_TEXT.items()},
        "yuan": fen_to_yuan,
    }


async def detail(request: web.Request) -> web.Response:
    staff = _reader(request)
    return await _render(request, staff, path_id(request), error="")


async def print_page(request: web.Request) -> web.Response:
    staff = _reader(request)
    found = await queries.get_statement(statement_id=path_id(request), merchant_id=staff.merchant_id)
    return aiohttp_jinja2.render_template("statement_print.html", request, _context(found, staff))


async def export_xlsx(request: web.Request) -> web.Response:
    staff = _reader(request)
    found = await queries.get_statement(statement_id=path_id(request), merchant_id=staff.merchant_id)
    return _download(
        exports.statement_xlsx(found),
        f"{found.statement.number}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


async def export_csv(request: web.Request) -> web.Response:
    staff = _reader(request)
    found = await queries.get_statement(statement_id=path_id(request), merchant_id=staff.merchant_id)
    return _download(exports.statement_csv(found), f"{found.statement.number}.csv", "text/csv; charset=utf-8")


async def approve(request: web.Request) -> web.Response:
    staff = _finance(request)
    statement_id = path_id(request)
    try:
        await settlement.approve(statement_id=statement_id, staff=staff)
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        return await _render(request, staff, statement_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/statements/{statement_id}")


async def mark_paid(request: web.Request) -> web.Response:
    staff = _finance(request)
    statement_id = path_id(request)
    form = await request.post()
    try:
        await settlement.mark_paid(
            statement_id=statement_id,
            staff=staff,
            reference=str(form.get("reference", "")),
            paid_on=str(form.get("paid_on", "")),
        )
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        status = 400 if error.kind is ErrorKind.INVALID else 409
        return await _render(
            request, staff, statement_id, error=error.message, status=status, form=dict(form)
        )
    raise web.HTTPFound(f"/admin/statements/{statement_id}")


async def _render(
    request: web.Request,
    staff: Staff,
    statement_id: int,
    *,
    error: str,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> web.Response:
    found = await queries.get_statement(statement_id=statement_id, merchant_id=staff.merchant_id)
    context = {**_context(found, staff), "error": error, "form": form or {}}
    return aiohttp_jinja2.render_template("statement.html", request, context, status=status)


def _context(found: queries.StatementDetail, staff: Staff) -> dict[str, Any]:
    return {
        "active": "statements",
        "s": found.statement,
        "orders": found.orders,
        "events": found.events,
        "may_act": can(staff, Permission.FINANCE),
        "today": clock.to_shanghai(clock.now()).date().isoformat(),
        "now": clock.now(),
        "status_text": STATUS_TEXT,
        "period_text": PERIOD_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
    }


def _download(body: bytes, filename: str, content_type: str) -> web.Response:
    name = quote(filename)  # ASCII already (JS-12-20261130.csv); quoted all the same
    return web.Response(
        body=body,
        headers={"Content-Type": content_type, "Content-Disposition": f"attachment; filename={name}"},
    )
