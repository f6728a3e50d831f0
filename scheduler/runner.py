"""Run each job once per period across every scheduler process.

Every `shop serve` (and `shop scheduler`) may run a scheduler; before a job runs, its process
claims the period in Redis with SET NX. The first claim wins; the others skip that period.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from commerce.core import Core
from commerce.metrics import JOB_FAILURES, JOB_RUNS
from scheduler import jobs

log = logging.getLogger(__name__)

RUNS_KEY = "scheduler:runs"

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
    Schedule("expire_groups", jobs.expire_groups, every_seconds=30),
    Schedule("lapse_group_holds", jobs.lapse_group_holds, every_seconds=30),
    Schedule("cut_off_community_sales", jobs.cut_off_community_sales, every_seconds=60),
    Schedule("flag_unclaimed_community_orders", jobs.flag_unclaimed_community_orders, every_seconds=3600),
    Schedule("settle_leader_commissions", jobs.settle_leader_commissions, every_seconds=3600),
    Schedule("flush_referral_touches", jobs.flush_referral_touches, every_seconds=2),
    Schedule("settle_kol_commissions", jobs.settle_kol_commissions, every_seconds=3600),
    Schedule("check_kol_signals", jobs.check_kol_signals, every_seconds=3600),
]


_running: set[asyncio.Task] = set()  # this process's jobs under way, for the drain


async def finish_running_jobs(*, within_seconds: float) -> None:
    """Let the jobs under way finish (the scheduler stopped, the process draining), for at
    most `within_seconds`; what is still running then is cancelled with the process."""
    running = [task for task in _running if not task.done()]
    if running:
        await asyncio.wait(running, timeout=within_seconds)


async def run_job_once(core: Core, schedule: Schedule, *, now: float | None = None) -> bool:
    """Run the job unless another process already ran it for the current period."""
    task = asyncio.current_task()
    if task is not None:
        _running.add(task)
        task.add_done_callback(_running.discard)
    period = int((now if now is not None else time.time()) // schedule.every_seconds)
    claimed = await core.redis.set(
        f"scheduler:{schedule.name}:{period}",
        f"{socket.gethostname()}:{os.getpid()}",  # who ran it, for an operator looking
        nx=True,
        ex=max(int(schedule.every_seconds * 2), 2),
    )
    if not claimed:
        return False
    JOB_RUNS.labels(schedule.name).inc()
    # Runs per job across every process (what shows the claim works: a short job's count
    # grows once per period however many workers and machines run schedulers).
    await core.redis.hincrby(RUNS_KEY, schedule.name, 1)
    try:
        await schedule.job(core)
    except Exception:  # one failed run must not stop the scheduler; the next period retries
        JOB_FAILURES.labels(schedule.name).inc()
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


@asynccontextmanager
async def running_scheduler(core: Core) -> AsyncIterator[AsyncIOScheduler]:
    """The jobs run on their timers inside the block. Leaving it (the process draining) starts
    no new run and lets the runs under way finish, within the shutdown grace, rather than be
    cancelled with the event loop."""
    scheduler = create_scheduler(core)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
        await finish_running_jobs(within_seconds=core.settings.shutdown_grace_seconds)
