"""The audit log as staff search it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from commerce.audit.models import AuditEntry
from commerce.staff import services as staff_accounts


@dataclass(frozen=True)
class AuditView:
    actor: str  # staff:3, cli, system
    actor_username: str  # "" when the actor is no staff account
    actor_role: str  # the account's role (StaffRole's value), or ""
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
    """Newest first; `text` matches the actor (its username or display name too), action,
    object or summary."""
    query = AuditEntry.all()
    text = text.strip()[:64]
    if text:
        named = [f"staff:{i}" for i in await staff_accounts.staff_ids_named_like(text)]
        query = query.filter(
            Q(actor__icontains=text)
            | Q(actor__in=named or ["-"])
            | Q(action__icontains=text)
            | Q(object_id=text)
            | Q(summary__icontains=text)
        )
    total = await query.count()
    rows = await query.order_by("-id").offset((max(page, 1) - 1) * page_size).limit(page_size)
    ids = {int(r.actor[6:]) for r in rows if r.actor.startswith("staff:") and r.actor[6:].isdigit()}
    accounts = {f"staff:{a.id}": a for a in await staff_accounts.list_staff(ids=ids)} if ids else {}
    items = []
    for r in rows:
        account = accounts.get(r.actor)
        items.append(
            AuditView(
                r.actor,
                account.username if account else "",
                account.role.value if account else "",
                r.action,
                r.object_type,
                r.object_id,
                r.summary,
                r.before,
                r.after,
                r.created_at,
            )
        )
    return AuditPage(items=items, total=total, page=page, page_size=page_size)
