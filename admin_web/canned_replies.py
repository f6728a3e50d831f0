"""Canned replies (快捷回复): agents keep the texts they send often, and pick them on the
conversation page. Each change is recorded in the audit log (by the core)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import path_id, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.staff.permissions import Permission, require
from commerce.support import canned
from commerce.support.errors import MAX_CANNED_TEXT_CHARS, MAX_CANNED_TITLE_CHARS


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/support/canned", list_page)
    router.add_post("/support/canned", create)
    router.add_post("/support/canned/{id}", update)
    router.add_post("/support/canned/{id}/delete", delete)


async def list_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.CONVERSATIONS)
    return await _render(request, error="", form={})


async def create(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.CONVERSATIONS)
    form = await request.post()
    fields = _fields(form)
    try:
        await canned.create_canned_reply(**fields, actor=staff.actor)
    except CommerceError as error:
        return await _render(request, error=error.message, form=fields, status=400)
    raise web.HTTPFound("/admin/support/canned")


async def update(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.CONVERSATIONS)
    canned_id = path_id(request)
    fields = _fields(await request.post())
    try:
        await canned.update_canned_reply(canned_id=canned_id, **fields, actor=staff.actor)
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        return await _render(request, error=error.message, form={}, status=400)
    raise web.HTTPFound("/admin/support/canned")


async def delete(request: web.Request) -> web.Response:
    staff = session_for(request).staff
    require(staff, Permission.CONVERSATIONS)
    await canned.delete_canned_reply(canned_id=path_id(request), actor=staff.actor)
    raise web.HTTPFound("/admin/support/canned")


def _fields(form) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in ("title", "text", "sort")}


async def _render(request: web.Request, *, error: str, form: dict, status: int = 200) -> web.Response:
    context = {
        "active": "support",
        "replies": await canned.list_canned_replies(),
        "error": error,
        "form": form,
        "max_title": MAX_CANNED_TITLE_CHARS,
        "max_text": MAX_CANNED_TEXT_CHARS,
    }
    return aiohttp_jinja2.render_template("canned_replies.html", request, context, status=status)
