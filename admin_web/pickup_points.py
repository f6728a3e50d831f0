"""Pickup points: where shoppers may choose to collect their orders. A merchant's owner keeps
its merchant's points (another merchant's are not found); the platform's people keep the
platform's points and see every merchant's. Closing a point takes it off new checkouts."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, read_form, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.fulfilment import queries, services
from commerce.merchants import services as merchants
from commerce.staff.permissions import Permission, require
from commerce.users.services import mask_phone

FIELDS = ("name", "address", "opening_hours", "contact_phone")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/pickups/points", list_page)
    router.add_get("/pickups/points/new", new_page)
    router.add_post("/pickups/points", create)
    router.add_get("/pickups/points/{id}", edit_page)
    router.add_post("/pickups/points/{id}", save)
    router.add_post("/pickups/points/{id}/deactivate", deactivate)
    router.add_post("/pickups/points/{id}/reactivate", reactivate)


async def list_page(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PICKUP_POINTS)
    points = await queries.staff_points(merchant_id=staff.merchant_id)
    names = {m.id: m.name for m in await merchants.list_merchants()} if staff.merchant_id is None else {}
    rows = [
        {
            "point": point,
            "owner": "平台" if point.merchant_id is None else names.get(point.merchant_id, "本店"),
            "phone": mask_phone(point.contact_phone) if point.contact_phone else "",
            "manageable": _manageable(staff.merchant_id, point),
        }
        for point in points
    ]
    context = {"active": "pickups", "rows": rows, "platform": staff.merchant_id is None}
    return aiohttp_jinja2.render_template("pickup_points.html", request, context)


async def new_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.PICKUP_POINTS)
    return _form(request, point=None, form=dict.fromkeys(FIELDS, ""), error="")


async def create(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PICKUP_POINTS)
    form = _posted(await read_form(request))
    try:
        await services.create_pickup_point(merchant_id=staff.merchant_id, actor=staff.actor, **form)
    except CommerceError as error:
        if error.kind is not ErrorKind.INVALID:
            raise
        return _form(request, point=None, form=form, error=error.message, status=400)
    raise web.HTTPFound("/admin/pickups/points")


async def edit_page(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PICKUP_POINTS)
    point = await queries.staff_point(point_id=path_id(request), merchant_id=staff.merchant_id)
    form = {name: getattr(point, name) for name in FIELDS}
    return _form(
        request, point=point, form=form, error="", readonly=not _manageable(staff.merchant_id, point)
    )


async def save(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PICKUP_POINTS)
    point_id = path_id(request)
    form = _posted(await read_form(request))
    try:
        await services.update_pickup_point(
            point_id=point_id, staff_merchant_id=staff.merchant_id, actor=staff.actor, **form
        )
    except CommerceError as error:
        if error.kind is not ErrorKind.INVALID:
            raise
        point = await queries.staff_point(point_id=point_id, merchant_id=staff.merchant_id)
        return _form(request, point=point, form=form, error=error.message, status=400)
    raise web.HTTPFound("/admin/pickups/points")


async def deactivate(request: web.Request) -> web.Response:
    return await _set_active(request, active=False)


async def reactivate(request: web.Request) -> web.Response:
    return await _set_active(request, active=True)


async def _set_active(request: web.Request, *, active: bool) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.PICKUP_POINTS)
    await services.set_pickup_point_active(
        point_id=path_id(request), staff_merchant_id=staff.merchant_id, active=active, actor=staff.actor
    )
    raise web.HTTPFound("/admin/pickups/points")


def _manageable(staff_merchant_id: int | None, point: queries.PickupPointView) -> bool:
    """A merchant's people change their merchant's points; the platform's people its own."""
    return point.merchant_id == staff_merchant_id


def _posted(posted) -> dict[str, str]:
    return {name: str(posted.get(name, ""))[:300] for name in FIELDS}


def _form(
    request: web.Request,
    *,
    point: queries.PickupPointView | None,
    form: dict[str, str],
    error: str,
    readonly: bool = False,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "active": "pickups",
        "point": point,
        "form": form,
        "error": error,
        "readonly": readonly,
    }
    return aiohttp_jinja2.render_template("pickup_point.html", request, context, status=status)
