"""Run each job once per period across every scheduler process.

Every `shop serve` (and `shop scheduler`) may run a scheduler; before a job runs, its process
claims the period in Redis with SET NX. The first claim wins; the others skip that period.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from commerce.core import Core
from scheduler import jobs

log = logging.getLogger(__name__)

Job = Callable[[Core], Awaitable[None]]


@dataclass(frozen=True)
class Schedule:
    name: str
    job: Job
    every_seconds: float


JOBS = [
    Schedule("cancel_unpaid_orders", jobs.cancel_unpaid_orders, every_seconds=60),
    Schedule("complete_shipped_orders", jobs.complete_shipped_orders, every_seconds=600),
    Schedule("reconcile_payments", jobs.reconcile_payments, every_seconds=60),
    Schedule("close_idle_conversations", jobs.close_idle_conversations, every_seconds=60),
    Schedule("approve_overdue_aftersales", jobs.approve_overdue_aftersales, every_seconds=60),
    Schedule("issue_statements", jobs.issue_statements, every_seconds=3600),
    Schedule("check_ledger_balances", jobs.check_ledger_balances, every_seconds=86_400),  # once a day
    Schedule("check_payouts", jobs.check_payouts, every_seconds=300),
    Schedule("reconcile_bills", jobs.reconcile_bills, every_seconds=900),
]


async def run_job_once(core: Core, schedule: Schedule, *, now: float | None = None) -> bool:
    """Run the job unless another process already ran it for the current period."""
    period = int((now if now is not None else time.time()) // schedule.every_seconds)
    claimed = await core.redis.set(
        f"scheduler:{schedule.name}:{period}", "1", nx=True, ex=max(int(schedule.every_seconds * 2), 2)
    )
    if not claimed:
        return False
    try:
        await schedule.job(core)
    except Exception:  # one failed run must not stop the scheduler; the next period retries
        log.exception("job %s failed", schedule.name)
    return True


def create_scheduler(core: Core, schedules: list[Schedule] | None = None) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for schedule in schedules if schedules is not None else JOBS:
        scheduler.add_job(
            run_job_once,
            "interval",
            seconds=schedule.every_seconds,
            args=[core, schedule],
            id=schedule.name,
            coalesce=True,
            max_instances=1,
        )
    return scheduler
