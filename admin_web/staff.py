"""Staff accounts: the platform admin's list of everyone (a merchant owner's: its merchant's),
new accounts, and deactivating, reactivating and resetting passwords."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.merchants import services as merchants
from commerce.staff import services as staff_accounts
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require
from commerce.staff.states import StaffRole

ROLE_TEXT = {
    StaffRole.PLATFORM_ADMIN: "平台管理员",
    StaffRole.AGENT: "客服",
    StaffRole.FINANCE: "财务",
    StaffRole.MERCHANT_OWNER: "店主",
    StaffRole.MERCHANT_STAFF: "店员",
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/staff", list_page)
    router.add_post("/staff", create)
    router.add_post("/staff/{id}/deactivate", deactivate)
    router.add_post("/staff/{id}/reactivate", reactivate)
    router.add_post("/staff/{id}/password", reset_password)


def creatable_roles(staff: Staff) -> list[StaffRole]:
    """What this person may make here: the platform's roles, or a merchant's staff."""
    if staff.role is StaffRole.PLATFORM_ADMIN:
        return [StaffRole.AGENT, StaffRole.FINANCE, StaffRole.PLATFORM_ADMIN]
    return [StaffRole.MERCHANT_STAFF]


async def list_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.STAFF)
    return await _render(request, error="", form={})


async def create(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.STAFF)
    form = await request.post()
    role = str(form.get("role", ""))
    if role not in {r.value for r in creatable_roles(staff)}:  # whatever was posted
        raise web.HTTPForbidden(text="不能创建该角色的账号")
    try:
        await staff_accounts.create_staff(
            username=str(form.get("username", "")),
            display_name=str(form.get("display_name", "")),
            password=str(form.get("password", "")),
            role=StaffRole(role),
            merchant_id=staff.merchant_id,  # a merchant owner's own merchant; the platform: none
            actor=staff.actor,
        )
    except CommerceError as error:
        return await _render(request, error=error.message, form=dict(form), status=400)
    raise web.HTTPFound("/admin/staff")


async def deactivate(request: web.Request) -> web.Response:
    staff, staff_id, _ = await _target(request)
    return await _done(request, staff_accounts.deactivate_staff(staff_id=staff_id, by=staff))


async def reactivate(request: web.Request) -> web.Response:
    staff, staff_id, _ = await _target(request)
    return await _done(request, staff_accounts.reactivate_staff(staff_id=staff_id, by=staff))


async def reset_password(request: web.Request) -> web.Response:
    staff, staff_id, form = await _target(request)
    password = str(form.get("password", ""))
    return await _done(request, staff_accounts.reset_password(staff_id=staff_id, password=password, by=staff))


async def _target(request: web.Request):
    """(who acts, on which account id, the form), once the role may manage staff at all."""
    staff = session_for(request).staff
    require(staff, Permission.STAFF)
    return staff, path_id(request), await request.post()


async def _done(request: web.Request, change) -> web.Response:
    """Back to the list once the change is made; an invalid one is said on the list (another
    merchant's account is not found, one not theirs to manage refused)."""
    try:
        await change
    except CommerceError as error:
        if error.kind in (ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN):
            raise
        return await _render(request, error=error.message, form={}, status=400)
    raise web.HTTPFound("/admin/staff")


async def _render(
    request: web.Request, *, error: str, form: dict[str, Any], status: int = 200
) -> web.Response:
    staff = session_for(request).staff
    names = {m.id: m.name for m in await merchants.list_merchants()}
    accounts = await staff_accounts.list_staff(merchant_id=staff.merchant_id)
    if staff.role is not StaffRole.PLATFORM_ADMIN:  # a merchant's people: only their own merchant's
        accounts = [a for a in accounts if a.merchant_id == staff.merchant_id]
    context = {
        "active": "staff",
        "accounts": accounts,
        "manageable": {a.id for a in accounts if staff_accounts.may_manage(staff, a) and a.id != staff.id},
        "merchant_names": names,
        "role_text": ROLE_TEXT,
        "roles": creatable_roles(staff),
        "error": error,
        "form": {k: v for k, v in form.items() if k != "password"},
    }
    return aiohttp_jinja2.render_template("staff.html", request, context, status=status)
