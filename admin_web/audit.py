"""The audit log page: every change staff made, newest first, searchable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number
from admin_web.security import session_for
from commerce import clock
from commerce.audit.queries import search_audit
from commerce.staff.permissions import Permission, require

PAGE_SIZE = 50


@aiohttp_jinja2.template("audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.AUDIT)
    text = request.query.get("q", "")[:64]
    page = await search_audit(text=text, page=page_number(request.query.get("page", "")), page_size=PAGE_SIZE)
    rows = [
        (entry, clock.to_shanghai(entry.created_at).strftime("%Y-%m-%d %H:%M:%S")) for entry in page.items
    ]
    return {
        "active": "audit",
        "q": text,
        "rows": rows,
        "total": page.total,
        "page": page.page,
        "pages": max((page.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: "/admin/audit?" + urlencode({**({"q": text} if text else {}), "page": n}),
    }
