"""The nightly balance check: every account's running balance against the sum of its postings.

An account that differs is a job failure (shown on /admin/jobs until a later check finds it
right again); every run is kept as a BalanceCheck row with what differed.
"""

from __future__ import annotations

import time

from commerce import clock
from commerce.db import insert, model_row
from commerce.jobs import services as jobs
from commerce.ledger import queries
from commerce.ledger.models import BalanceCheck
from commerce.ledger.queries import BalanceCheckView

JOB = "ledger_balance_check"


class BalanceMismatch(Exception):
    """An account's running balance is not the sum of its postings."""


async def check_balances() -> BalanceCheckView:
    """Recompute every account, report the differing ones, keep the run."""
    started = time.monotonic()
    result = await queries.recompute()
    differing = {d["account_id"]: d for d in result.differences}

    async def compare(account_id: int) -> bool:
        d = differing.get(account_id)
        if d is not None:
            raise BalanceMismatch(
                f"账户 {d['account']} 余额 {d['balance']} 与分录合计 {d['recomputed']} 不符"
            )
        return False

    await jobs.each_item(
        job=JOB, item_kind="ledger_account", items=result.account_ids, item_id=int, handle=compare
    )
    now = clock.now()
    row = {
        "checked_at": now,
        "accounts": result.accounts,
        "entries": result.entries,
        "differences": result.differences,
        "duration_ms": int((time.monotonic() - started) * 1000),
    }
    check_id = await insert("ledger_balance_check", model_row(BalanceCheck, row))
    return BalanceCheckView(
        check_id, now, result.accounts, result.entries, result.differences, row["duration_ms"]
    )
