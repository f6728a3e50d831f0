"""Scheduled jobs run once per period however many scheduler processes there are."""

import asyncio

from commerce.cache import create_redis
from commerce.core import Core
from scheduler import JOBS, run_job_once
from scheduler.runner import Schedule
from shop.subscriptions import subscribers


async def test_two_schedulers_run_a_period_once(core, wired_settings):
    runs: list[str] = []

    async def count(_core: Core) -> None:
        runs.append("ran")

    schedule = Schedule("test_count", count, every_seconds=60)
    # a second process: its own Redis connection (the same server in CI), the same database
    other = Core(wired_settings, subscribers)
    other.redis = create_redis(wired_settings) if wired_settings.redis_url else core.redis
    # when both fire for the same minute, twice each
    results = await asyncio.gather(
        *(run_job_once(c, schedule, now=1_000_000.0) for c in (core, other, core, other))
    )
    # then one of them ran it
    assert runs == ["ran"] and sorted(results) == [False, False, False, True]
    # and the next minute runs again
    assert await run_job_once(other, schedule, now=1_000_060.0)
    assert runs == ["ran", "ran"]
    if other.redis is not core.redis:
        await other.redis.aclose()


async def test_a_failing_job_does_not_stop_the_scheduler(core):
    async def broken(_core: Core) -> None:
        raise RuntimeError("boom")

    assert await run_job_once(core, Schedule("test_broken", broken, every_seconds=60), now=0.0)


def test_the_issue_jobs_are_scheduled():
    assert [(s.name, s.every_seconds) for s in JOBS] == [
        ("cancel_unpaid_orders", 60),
        ("complete_shipped_orders", 600),
        ("reconcile_payments", 60),
        ("close_idle_conversations", 60),
        ("approve_overdue_aftersales", 60),
        ("issue_statements", 3600),
        ("check_ledger_balances", 86_400),
        ("check_payouts", 300),
        ("reconcile_bills", 900),
        ("expire_groups", 30),  # 拼团: groups past their deadline end (refunds through after-sales)
        ("lapse_group_holds", 30),  # unpaid seat holds go back to their groups
        ("cut_off_community_sales", 60),
        ("flag_unclaimed_community_orders", 3600),
        ("settle_leader_commissions", 3600),
        ("flush_referral_touches", 2),  # buffered KOL touches written in batches
        ("settle_kol_commissions", 3600),  # KOLs' commissions: caught up, then earned
        ("check_kol_signals", 3600),  # KOLs' fraud signals: flag and hold
    ]
