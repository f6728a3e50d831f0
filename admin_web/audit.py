"""The audit log page: every change staff made, newest first, searchable."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number
from admin_web.security import session_for
from admin_web.staff import ROLE_TEXT
from commerce import clock
from commerce.audit.queries import AuditView, search_audit
from commerce.staff.permissions import Permission, require

PAGE_SIZE = 50


@aiohttp_jinja2.template("audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.AUDIT)
    text = request.query.get("q", "")[:64]
    page = await search_audit(text=text, page=page_number(request.query.get("page", "")), page_size=PAGE_SIZE)
    rows = [
        (entry, clock.to_shanghai(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"), changes_of(entry))
        for entry in page.items
    ]
    return {
        "active": "audit",
        "q": text,
        "rows": rows,
        "total": page.total,
        "role_text": ROLE_TEXT,
        "page": page.page,
        "pages": max((page.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: "/admin/audit?" + urlencode({**({"q": text} if text else {}), "page": n}),
    }


def changes_of(entry: AuditView) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field the entry stored; "" where a side has none."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(before) + [key for key in after if key not in before]
    return [(key, _shown(before, key), _shown(after, key)) for key in fields]


def _shown(values: dict[str, Any], key: str) -> str:
    if key not in values:
        return ""
    value = values[key]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:200]
