"""What the scheduled jobs could not do, as the platform admin reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce.jobs.models import JobFailure


@dataclass(frozen=True)
class FailureView:
    job: str
    item_kind: str
    item_id: int
    error: str
    attempts: int
    first_seen_at: datetime
    last_seen_at: datetime
    retry_at: datetime
    resolved_at: datetime | None


async def job_failures(*, open_only: bool = True, limit: int = 100) -> list[FailureView]:
    """Failing items, the most recent first (with open_only False, resolved ones too)."""
    query = JobFailure.filter(resolved_at=None) if open_only else JobFailure.all()
    return [
        FailureView(
            r.job,
            r.item_kind,
            r.item_id,
            r.error,
            r.attempts,
            r.first_seen_at,
            r.last_seen_at,
            r.retry_at,
            r.resolved_at,
        )
        for r in await query.order_by("-last_seen_at", "-id").limit(limit)
    ]


async def open_failure_count() -> int:
    return await JobFailure.filter(resolved_at=None).count()
