"""Recording staff changes. Called inside the change's own transaction, so the log and the
change commit (or fail) together."""

from __future__ import annotations

from typing import Any

from commerce import clock
from commerce.audit.models import AuditEntry


async def record(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | str,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    connection=None,
) -> None:
    await AuditEntry.create(
        actor=actor[:64],
        action=action[:64],
        object_type=object_type[:32],
        object_id=str(object_id)[:64],
        summary=summary[:200],
        before=before,
        after=after,
        created_at=clock.now(),
        using_db=connection,
    )
