"""Merchants and their staff accounts: the platform admin's pages."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.merchants import services as merchants
from commerce.merchants.states import MerchantStatus
from commerce.staff import services as staff_accounts
from commerce.staff.permissions import Permission, require
from commerce.staff.states import StaffRole

MERCHANT_ROLES = {StaffRole.MERCHANT_OWNER.value: "店主", StaffRole.MERCHANT_STAFF.value: "店员"}


async def list_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.MERCHANTS)
    return await _render_list(request, error="", form={})


async def create(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.MERCHANTS)
    form = await request.post()
    try:
        made = await merchants.create_merchant(
            code=str(form.get("code", "")),
            name=str(form.get("name", "")),
            contact_name=str(form.get("contact_name", "")),
            contact_phone=str(form.get("contact_phone", "")),
            actor=session.staff.actor,
        )
    except CommerceError as error:
        return await _render_list(request, error=error.message, form=dict(form), status=400)
    raise web.HTTPFound(f"/admin/merchants/{made.id}")


async def _render_list(request: web.Request, *, error: str, form: dict, status: int = 200) -> web.Response:
    context = {
        "active": "merchants",
        "merchants": await merchants.list_merchants(),
        "status_text": merchants.STATUS_TEXT,
        "error": error,
        "form": form,
    }
    return aiohttp_jinja2.render_template("merchants.html", request, context, status=status)


async def detail(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.MERCHANTS)
    return await _render_detail(request, path_id(request), error="", form={})


async def create_staff(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.MERCHANTS)
    merchant_id = path_id(request)
    await merchants.get_merchant(merchant_id=merchant_id)  # 404 for a made-up id
    form = await request.post()
    role = str(form.get("role", ""))
    try:
        if role not in MERCHANT_ROLES:  # only the merchant's own roles here, whatever was posted
            raise web.HTTPForbidden(text="不能在此创建该角色")
        await staff_accounts.create_staff(
            username=str(form.get("username", "")),
            display_name=str(form.get("display_name", "")),
            password=str(form.get("password", "")),
            role=StaffRole(role),
            merchant_id=merchant_id,  # from the URL, never from the form
            actor=session.staff.actor,
        )
    except CommerceError as error:
        return await _render_detail(request, merchant_id, error=error.message, form=dict(form), status=400)
    raise web.HTTPFound(f"/admin/merchants/{merchant_id}")


async def change_status(request: web.Request) -> web.Response:
    session = session_for(request)
    require(session.staff, Permission.MERCHANTS)
    merchant_id = path_id(request)
    form = await request.post()
    status = str(form.get("status", ""))
    if status not in {s.value for s in MerchantStatus}:
        raise web.HTTPNotFound()
    try:
        await merchants.change_merchant_status(
            merchant_id=merchant_id,
            status=MerchantStatus(status),
            reason=str(form.get("reason", "")),
            actor=session.staff.actor,
        )
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        return await _render_detail(request, merchant_id, error=error.message, form={}, status=400)
    raise web.HTTPFound(f"/admin/merchants/{merchant_id}")


async def _render_detail(
    request: web.Request, merchant_id: int, *, error: str, form: dict[str, Any], status: int = 200
) -> web.Response:
    context = {
        "active": "merchants",
        "merchant": await merchants.get_merchant(merchant_id=merchant_id),
        "accounts": await staff_accounts.list_staff(merchant_id=merchant_id),
        "roles": MERCHANT_ROLES,
        "status_text": merchants.STATUS_TEXT,
        "error": error,
        "form": {k: v for k, v in form.items() if k != "password"},
    }
    return aiohttp_jinja2.render_template("merchant.html", request, context, status=status)
