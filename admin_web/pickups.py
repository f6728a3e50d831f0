"""Pickup verification: the point's staff type the code the shopper shows. A merchant's people
(with the shipping permission) verify at their merchant's points, the platform's at every point.
Before that, they make an order ready at the point its shopper chose."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web import orders
from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.fulfilment import queries, services
from commerce.staff.permissions import Permission, can, require


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/pickups", page)
    router.add_post("/pickups/verify", verify)
    router.add_post("/orders/{id}/ready-for-pickup", ready_for_pickup)


async def page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.SHIP)
    return await _render(request, error="", done=None)


async def verify(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.SHIP)
    form = await request.post()
    point = str(form.get("point_id", ""))
    if not (point.isascii() and point.isdigit() and len(point) < 10):
        return await _render(request, error="请选择自提点", done=None, status=400)
    try:
        order_id = await services.verify_pickup(
            point_id=int(point),
            code=str(form.get("code", "")),
            merchant_id=session.staff.merchant_id,
            actor=session.staff.actor,
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise  # another merchant's point: as one that does not exist
        return await _render(request, error=error.message, done=None, status=409)
    return await _render(request, error="", done=order_id)


async def ready_for_pickup(request: web.Request) -> web.Response:
    """The goods are at the point the shopper chose: the shopper's code is drawn."""
    session = session_for(request)
    require(session.staff, Permission.SHIP)
    order_id = path_id(request)
    try:
        await services.mark_ready_for_pickup(
            order_id=order_id, merchant_id=session.staff.merchant_id, actor=session.staff.actor
        )
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await orders.render_order(request, order_id, error=error.message, status=409)
    raise web.HTTPFound(f"/admin/orders/{order_id}")


async def _render(request: web.Request, *, error: str, done: int | None, status: int = 200) -> web.Response:
    staff = session_for(request).staff
    context: dict[str, Any] = {
        "active": "pickups",
        "points": await queries.pickup_points(merchant_id=staff.merchant_id),
        "can_manage": can(staff, Permission.PICKUP_POINTS),
        "error": error,
        "done": done,
    }
    return aiohttp_jinja2.render_template("pickups.html", request, context, status=status)
