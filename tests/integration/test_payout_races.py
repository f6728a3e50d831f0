"""Payouts raced on MariaDB, many payees at once: two approvals of one payout submit one
transfer; two withdrawals of one balance take it once; two withdrawals of one day's cap take
it once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import ClientSession

from commerce.errors import CommerceError
from commerce.ledger import services as ledger
from commerce.ledger.models import LedgerAccount
from commerce.ledger.states import EntryKind
from commerce.outbox import OutboxEvent
from commerce.payouts import services
from commerce.payouts.models import Payout
from commerce.payouts.services import PayoutRules
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.services import Shopper
from tests.concurrency import needs_real_database

PAYEES = 6
RULES = PayoutRules(auto_approve_max_fen=10_000, daily_cap_fen=500_000)
FINANCE = [Staff(id=n, username=f"money-{n}", role=StaffRole.FINANCE, merchant_id=None) for n in (1, 2)]


async def _payees(owed: int) -> list[Shopper]:
    shoppers = [Shopper(user_id=1000 + n, openid=f"o-payee-{n:04d}-{'x' * 18}") for n in range(PAYEES)]
    for shopper in shoppers:
        await ledger.record(
            key=f"adjustment:{uuid.uuid4()}",
            kind=EntryKind.ADJUSTMENT,
            lines=[
                ledger.Line(ledger.PLATFORM_ADJUSTMENTS, owed),
                ledger.Line(ledger.payee_payable(shopper.user_id), -owed),
            ],
        )
    return shoppers


async def _withdraw(core, shopper: Shopper, amount: int, real_name: str | None = None):
    try:
        return await services.request_withdrawal(
            shopper=shopper,
            amount=amount,
            idempotency_key=uuid.uuid4().hex,
            rules=RULES,
            pay=core.pay,
            real_name=real_name,
        )
    except CommerceError as error:
        return error.code


async def _owed(user_id: int) -> int:
    account = await LedgerAccount.get(code=ledger.payee_payable(user_id).code)
    return -account.balance


async def _transfer_calls(core) -> int:
    base = core.settings.wechat_pay_api_base or core.settings.wechat_api_base
    async with ClientSession() as http, http.get(f"{base}/wx/state") as response:
        return (await response.json())["calls"].get("transfer_bills", 0)


@needs_real_database
async def test_two_approvals_of_one_payout_submit_one_transfer(core):
    # given each payee asked to withdraw ¥500 (a person approves)
    shoppers = await _payees(owed=100_000)
    payouts = [await _withdraw(core, shopper, 50_000) for shopper in shoppers]
    assert {p.status.value for p in payouts} == {"requested"}

    # when two finance people approve each at the same moment
    async def approve(payout_id: int, staff: Staff) -> str:
        try:
            return (await services.approve(payout_id=payout_id, staff=staff)).status.value
        except CommerceError as error:
            return error.code

    results = await asyncio.gather(*(approve(p.id, staff) for p in payouts for staff in FINANCE))

    # then one approval each went through, the other was told it was handled
    for n in range(PAYEES):
        assert sorted(results[2 * n : 2 * n + 2]) == ["payout_already_handled", "waiting_confirmation"]
    # and one transfer each was asked of WeChat Pay
    assert await OutboxEvent.filter(topic="payout.approved").count() == PAYEES
    assert await _transfer_calls(core) == PAYEES
    assert {row.approved_by for row in await Payout.all()} <= {"staff:1", "staff:2"}


@needs_real_database
async def test_two_withdrawals_of_one_balance_take_it_once(core):
    # given each payee is owed ¥50
    shoppers = await _payees(owed=5000)

    # when each asks twice for ¥40 at the same moment
    results = await asyncio.gather(*(_withdraw(core, s, 4000) for s in shoppers for _ in range(2)))

    # then one of each pair got it, the other was told the balance is short
    for n, shopper in enumerate(shoppers):
        pair = results[2 * n : 2 * n + 2]
        assert sorted(r if isinstance(r, str) else "ok" for r in pair) == ["ok", "payout_not_enough_balance"]
        assert await Payout.filter(payee_user_id=shopper.user_id).count() == 1
        assert await _owed(shopper.user_id) == 1000
    assert -(await LedgerAccount.get(code=ledger.PAYOUTS_IN_TRANSIT.code)).balance == 4000 * PAYEES


@needs_real_database
async def test_two_withdrawals_of_one_days_cap_take_it_once(core):
    # given each payee is owed ¥7,000 and may withdraw ¥5,000 a day
    shoppers = await _payees(owed=700_000)

    # when each asks twice for ¥3,000 at the same moment
    results = await asyncio.gather(*(_withdraw(core, s, 300_000, "张三") for s in shoppers for _ in range(2)))

    # then one of each pair went through; the other met the day's cap
    for n, shopper in enumerate(shoppers):
        pair = results[2 * n : 2 * n + 2]
        assert sorted(r if isinstance(r, str) else "ok" for r in pair) == ["ok", "payout_above_daily_cap"]
        assert await _owed(shopper.user_id) == 400_000


@pytest.mark.parametrize("amount", [4000])
async def test_withdrawing_more_than_is_owed_is_refused_and_holds_nothing(core, amount):
    shoppers = await _payees(owed=amount - 1)
    assert await _withdraw(core, shoppers[0], amount) == "payout_not_enough_balance"
    assert await Payout.all().count() == 0
    assert await _owed(shoppers[0].user_id) == amount - 1
