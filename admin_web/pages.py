"""The pages. Each checks its permission on the server, whatever the navigation showed."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.navigation import BY_SLUG
from admin_web.security import session_for
from commerce.staff.permissions import Permission, require


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.DASHBOARD)
    return {"active": ""}


@aiohttp_jinja2.template("section.html")
async def section(request: web.Request) -> dict[str, Any]:
    found = BY_SLUG.get(request.match_info["section"])
    if found is None:
        raise web.HTTPNotFound()
    require(session_for(request).staff, found.permission)
    return {"active": found.slug, "section": found}
