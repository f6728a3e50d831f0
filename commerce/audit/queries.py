"""The audit log as staff search it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from commerce.audit.models import AuditEntry


@dataclass(frozen=True)
class AuditView:
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditView]
    total: int
    page: int
    page_size: int


async def search_audit(*, text: str = "", page: int = 1, page_size: int = 50) -> AuditPage:
    """Newest first; `text` matches the actor, action, object or summary."""
    query = AuditEntry.all()
    text = text.strip()[:64]
    if text:
        query = query.filter(
            Q(actor__icontains=text)
            | Q(action__icontains=text)
            | Q(object_id=text)
            | Q(summary__icontains=text)
        )
    total = await query.count()
    rows = await query.order_by("-id").offset((max(page, 1) - 1) * page_size).limit(page_size)
    items = [
        AuditView(r.actor, r.action, r.object_type, r.object_id, r.summary, r.before, r.after, r.created_at)
        for r in rows
    ]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)
