"""Community batches (团购批次): the platform's people see every batch, a merchant's owner the
batches of their merchant's sales; the picking list as a printable page, Excel and CSV; the
batch dispatched, then arrived at its point (each order made ready, its shopper told the code);
orders left unclaimed at a point."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import shown
from admin_web.security import path_id, session_for
from commerce import clock
from commerce.community import batches, picking, pickups
from commerce.community.states import BatchStatus
from commerce.errors import CommerceError, ErrorKind
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require

STATUS_TEXT = {
    BatchStatus.FORMED: "待发货",
    BatchStatus.DISPATCHED: "已发车",
    BatchStatus.ARRIVED: "已到自提点",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/batches", list_page)
    router.add_get("/batches/{id}", picking_page)
    router.add_get("/batches/{id}/picking.xlsx", export_xlsx)
    router.add_get("/batches/{id}/picking.csv", export_csv)
    router.add_post("/batches/{id}/dispatch", dispatch)
    router.add_post("/batches/{id}/arrive", arrive)


def _staff(request: web.Request) -> Staff:
    staff = session_for(request).staff
    require(staff, Permission.COMMUNITY_SALES)
    return staff


async def list_page(request: web.Request) -> web.Response:
    staff = _staff(request)
    sale = request.query.get("sale", "")
    sale_id = int(sale) if sale.isascii() and sale.isdigit() and len(sale) < 10 else None
    found = await batches.staff_batches(merchant_id=staff.merchant_id, sale_id=sale_id)
    totals = await picking.sale_totals(sale_id=sale_id, merchant_id=staff.merchant_id) if sale_id else []
    flags = await pickups.unclaimed(batch_ids=[b.id for b in found])
    late = await batches.paid_after_cutoff(sale_id=sale_id, merchant_id=staff.merchant_id) if sale_id else []
    context: dict[str, Any] = {
        "active": "batches",
        "batches": found,
        "sale_id": sale_id,
        "totals": totals,
        "flags": flags,
        "late": late,
        "statuses": STATUS_TEXT,
        "shown": shown,
    }
    return aiohttp_jinja2.render_template("batches.html", request, context)


async def picking_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    staff = _staff(request)
    found = await picking.picking_list(batch_id=path_id(request), merchant_id=staff.merchant_id)
    context: dict[str, Any] = {
        "active": "batches",
        "found": found,
        "b": found.batch,
        "statuses": STATUS_TEXT,
        "shown": shown,
        "now": clock.now(),
        "error": error,
        "flags": await pickups.unclaimed(batch_ids=[found.batch.id]),
    }
    return aiohttp_jinja2.render_template("batch_picking.html", request, context, status=status)


async def export_xlsx(request: web.Request) -> web.Response:
    staff = _staff(request)
    found = await picking.picking_list(batch_id=path_id(request), merchant_id=staff.merchant_id)
    return _download(picking.picking_xlsx(found), f"picking-{found.batch.id}.xlsx", XLSX)


async def export_csv(request: web.Request) -> web.Response:
    staff = _staff(request)
    found = await picking.picking_list(batch_id=path_id(request), merchant_id=staff.merchant_id)
    return _download(picking.picking_csv(found), f"picking-{found.batch.id}.csv", "text/csv; charset=utf-8")


def _download(body: bytes, filename: str, content_type: str) -> web.Response:
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f"attachment; filename={quote(filename)}",
        },
    )


async def dispatch(request: web.Request) -> web.Response:
    staff = _staff(request)
    batch_id = path_id(request)
    try:
        await batches.dispatch_batch(
            batch_id=batch_id, staff_merchant_id=staff.merchant_id, actor=staff.actor
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await picking_page(request, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/batches/{batch_id}")


async def arrive(request: web.Request) -> web.Response:
    staff = _staff(request)
    batch_id = path_id(request)
    try:
        await batches.arrive_batch(batch_id=batch_id, staff_merchant_id=staff.merchant_id, actor=staff.actor)
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await picking_page(request, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/batches/{batch_id}")
