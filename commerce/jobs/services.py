"""Scheduled jobs handle their items one by one: an item that fails is recorded with its error
(the platform admin sees it), put off with backoff and tried again by a later run, and never
stops the others; a later success resolves its record."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.jobs.models import JobFailure
from commerce.metrics import JOB_ITEM_FAILURES

log = logging.getLogger(__name__)

Item = TypeVar("Item")
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)


async def put_off(*, job: str, item_kind: str) -> list[int]:
    """Ids of the items this job is to leave alone for now: they failed and their backoff has
    not passed (so that failing items never take every place of a run's batch)."""
    return list(
        await JobFailure.filter(
            job=job, item_kind=item_kind, resolved_at=None, retry_at__gt=clock.now()
        ).values_list("item_id", flat=True)
    )


async def each_item(
    *,
    job: str,
    item_kind: str,
    items: Iterable[Item],
    item_id: Callable[[Item], int],
    handle: Callable[[Item], Awaitable[object]],
) -> int:
    """Handle every item on its own; how many `handle` said it did something for (returned
    true). A failure is recorded and logged, then the next item goes; a success resolves an
    earlier failure."""
    failing = set(
        await JobFailure.filter(job=job, item_kind=item_kind, resolved_at=None).values_list(
            "item_id", flat=True
        )
    )
    done = 0
    for item in items:
        key = item_id(item)
        try:
            did = await handle(item)
        except Exception as exc:  # any error of one item: recorded, the others still run
            log.exception("job %s: %s %s failed", job, item_kind, key)
            await record_failure(job=job, item_kind=item_kind, item_id=key, error=exc)
            continue
        done += 1 if did else 0
        if key in failing:
            await JobFailure.filter(job=job, item_kind=item_kind, item_id=key, resolved_at=None).update(
                resolved_at=clock.now()
            )
    return done


async def record_failure(*, job: str, item_kind: str, item_id: int, error: BaseException) -> None:
    """One more failed attempt at this item: the error kept, the next try put off (doubling
    from a minute up to an hour)."""
    JOB_ITEM_FAILURES.labels(job, item_kind).inc()
    now = clock.now()
    text = f"{type(error).__name__}: {error}"[:500]
    row = await JobFailure.get_or_none(job=job, item_kind=item_kind, item_id=item_id)
    if row is None:
        try:
            await JobFailure.create(
                job=job,
                item_kind=item_kind,
                item_id=item_id,
                error=text,
                attempts=1,
                first_seen_at=now,
                last_seen_at=now,
                retry_at=now + FIRST_RETRY,
            )
            return
        except IntegrityError:  # another process recorded it first: count ours on its row
            row = await JobFailure.get(job=job, item_kind=item_kind, item_id=item_id)
    # (one scheduler runs a job at a time: no other writer of this row meanwhile)
    again = row.resolved_at is None  # failing since last time, or failing anew
    attempts = row.attempts + 1 if again else 1
    await JobFailure.filter(id=row.id).update(
        error=text,
        attempts=attempts,
        first_seen_at=row.first_seen_at if again else now,
        last_seen_at=now,
        retry_at=now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY),
        resolved_at=None,
    )
