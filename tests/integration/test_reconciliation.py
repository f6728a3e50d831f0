"""Reconciliation with WeChat Pay's bills, against the simulator: orders paid and refunded
through it as a shopper does, then the day's bills downloaded, hash checked and compared.
A clean day finds nothing; each difference the simulator is told to put in a bill (a line
dropped, altered, added) is found once however often the day runs; a tampered file is refused;
the day's fees post to the ledger once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from commerce import clock
from commerce.errors import CommerceError
from commerce.jobs.models import JobFailure
from commerce.ledger.models import JournalEntry, Posting
from commerce.payments.models import Payment, Refund
from commerce.reconciliation import queries, services
from commerce.reconciliation.errors import ReconciliationError
from commerce.reconciliation.models import ReconciliationDifference, ReconciliationRun
from commerce.reconciliation.services import reconcile_day, reconcile_due
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from shop.app import CORE
from shop.cli import main
from tests.builders import Shopper, ask_refund, paid_order, refused
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, pay_params, sim
from wechat_simulator.pay_bill_files import fee_of


def today() -> date:
    return clock.to_shanghai(clock.now()).date()


async def close_day(simulator, day: date | None = None) -> None:
    status, body = await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": str(day or today())})
    assert status == 200, body


async def tell_bill(simulator, action: str, **body) -> None:
    status, answer = await sim(simulator, "POST", f"/pay/bills/{action}", {"bill_date": str(today()), **body})
    assert status == 200, answer


async def out_trade_no(order: dict) -> str:
    payment = await Payment.filter(checkout__orders__id=order["id"], status="paid").get()
    return payment.out_trade_no


async def refunded_order(client, simulator, user: str) -> tuple[dict, Refund]:
    """A paid order whose whole refund succeeded (asked before shipping: refunded at once)."""
    order = await paid_order(client, simulator, user=user)
    await ask_refund(client, order)

    async def succeeded() -> bool:
        return await Refund.filter(order_id=order["id"], status="succeeded").exists()

    await eventually(succeeded)
    return order, await Refund.get(order_id=order["id"])


async def differences() -> set[tuple[str, str, str]]:
    rows = await ReconciliationDifference.all()
    return {(r.kind.value, r.subject.value, r.reference) for r in rows}


@pytest.fixture
def pay(client):
    return client.app[CORE].pay


async def test_a_clean_day_finds_nothing_and_posts_its_fees_once(client, simulator, pay):
    # given two orders paid today, one of them refunded
    kept = await paid_order(client, simulator, user="alice")
    _, refund = await refunded_order(client, simulator, "bob")
    await close_day(simulator)

    # when the day is reconciled
    result = await reconcile_day(pay=pay, bill_date=today())

    # then nothing differs, and the day's fees (0.6 % each, the refund's returned) are posted
    assert (result.found, result.added) == (0, 0)
    run = await ReconciliationRun.get(bill_date=today())
    assert (run.status.value, run.trade_rows, run.found) == ("done", 3, 0)
    payments = await Payment.filter(status="paid").values_list("amount", flat=True)
    fees = sum(fee_of(amount) for amount in payments) - fee_of(refund.amount)
    assert fees > 0 and run.fees == fees == result.fees
    entry = await JournalEntry.get(key=f"wechat_fees:{today().isoformat()}")
    postings = await Posting.filter(entry_id=entry.id).prefetch_related("account")
    booked = sorted((p.account.code, p.amount) for p in postings)
    assert booked == [("clearing", -fees), ("payment_fees", fees)]
    assert kept["id"]

    # and when it is run again, nothing is posted or found twice
    again = await reconcile_day(pay=pay, bill_date=today(), again=True)
    assert (again.found, again.added, again.redone) == (0, 0, True)
    assert await JournalEntry.filter(kind="wechat_fees").count() == 1


async def test_a_day_done_is_not_redone_unless_asked(client, simulator, pay):
    await paid_order(client, simulator)
    await close_day(simulator)
    await reconcile_day(pay=pay, bill_date=today())
    calls_before = (await sim(simulator, "GET", "/wx/state"))[1]["calls"]

    result = await reconcile_day(pay=pay, bill_date=today())

    assert not result.redone
    calls_after = (await sim(simulator, "GET", "/wx/state"))[1]["calls"]
    assert calls_after.get("pay_tradebill") == calls_before.get("pay_tradebill")


async def test_each_difference_of_payments_is_found_once(client, simulator, pay):
    # given four paid orders, and a bill that drops one, alters the amount of another and the
    # state of a third, and holds a transaction we never made
    orders = [await paid_order(client, simulator, user=f"u{i}") for i in range(4)]
    dropped, altered, revoked, _clean = [await out_trade_no(o) for o in orders]
    await tell_bill(simulator, "drop", reference=dropped)
    await tell_bill(simulator, "alter", reference=altered, amount=1)
    await tell_bill(simulator, "alter", reference=revoked, state="REVOKED")
    stranger = "STRANGER" + uuid.uuid4().hex[:12]
    await tell_bill(simulator, "add", out_trade_no=stranger, amount=4321)
    await close_day(simulator)

    # when the day is reconciled
    result = await reconcile_day(pay=pay, bill_date=today())

    # then each is found, with both sides' amounts and states where there are two sides
    assert await differences() == {
        ("missing_at_wechat", "payment", dropped),
        ("amount", "payment", altered),
        ("state", "payment", revoked),
        ("missing_here", "payment", stranger),
    }
    assert (result.found, result.added) == (4, 4)
    amount = await ReconciliationDifference.get(reference=altered)
    paid_amount = (await Payment.get(out_trade_no=altered)).amount
    assert (amount.ours_amount, amount.theirs_amount) == (paid_amount, 1)
    state = await ReconciliationDifference.get(reference=revoked)
    assert (state.ours_state, state.theirs_state) == ("paid", "REVOKED")
    missing = await ReconciliationDifference.get(reference=stranger)
    assert (missing.ours_amount, missing.theirs_amount) == (None, 4321)

    # and when the day runs again, none is added twice
    again = await reconcile_day(pay=pay, bill_date=today(), again=True)
    assert (again.found, again.added) == (4, 0)
    assert await ReconciliationDifference.all().count() == 4


async def test_a_transaction_we_think_unpaid_is_a_state_difference(client, simulator, pay):
    # given an order whose payment we hold as pending (the shopper opened the sheet, no money),
    # while WeChat Pay's bill says it was paid
    order = await paid_order(client, simulator, user="alice")
    shopper = await Shopper.start(client, simulator, "bob")
    unpaid = await shopper.order(["P2-W"], paid=False)
    await pay_params(client, shopper.headers, unpaid["id"])
    pending = await Payment.filter(checkout__orders__id=unpaid["id"]).get()
    await tell_bill(simulator, "add", out_trade_no=pending.out_trade_no, amount=pending.amount)
    await close_day(simulator)

    await reconcile_day(pay=pay, bill_date=today())

    assert await differences() == {("state", "payment", pending.out_trade_no)}
    found = await ReconciliationDifference.get(reference=pending.out_trade_no)
    assert (found.ours_state, found.theirs_state) == ("pending", "SUCCESS")
    assert order["id"]


async def test_each_difference_of_refunds_is_found(client, simulator, pay):
    # given three refunds that succeeded today: one dropped from the bills, one with another
    # amount, one the bill says ended abnormally
    refunds = [(await refunded_order(client, simulator, f"r{i}"))[1] for i in range(3)]
    dropped, altered, abnormal = (r.out_refund_no for r in refunds)
    await tell_bill(simulator, "drop", reference=dropped)
    await tell_bill(simulator, "alter", reference=altered, amount=7)
    await tell_bill(simulator, "alter", reference=abnormal, state="ABNORMAL", bill="trade")
    await close_day(simulator)

    # when the day is reconciled
    await reconcile_day(pay=pay, bill_date=today())

    # then each is found (the fund-flow bill still shows the abnormal one's money moving: the
    # trade bill's finding, which knows states, is the one kept)
    assert await differences() == {
        ("missing_at_wechat", "refund", dropped),
        ("amount", "refund", altered),
        ("state", "refund", abnormal),
    }
    state = await ReconciliationDifference.get(reference=abnormal)
    assert (state.ours_state, state.theirs_state, state.source.value) == ("succeeded", "ABNORMAL", "trade")


async def test_a_refund_wechat_made_that_we_think_failed_is_a_state_difference(client, simulator, pay):
    # given a refund that ended abnormally (failed here), which the bill says succeeded
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "ABNORMAL"})
    order = await paid_order(client, simulator, user="carol")
    await ask_refund(client, order)

    async def failed() -> bool:
        return await Refund.filter(order_id=order["id"], status="failed").exists()

    await eventually(failed)
    refund = await Refund.get(order_id=order["id"])
    await tell_bill(simulator, "alter", reference=refund.out_refund_no, state="SUCCESS")
    await close_day(simulator)

    await reconcile_day(pay=pay, bill_date=today())

    found = await ReconciliationDifference.get(reference=refund.out_refund_no)
    assert (found.kind.value, found.ours_state, found.theirs_state) == ("state", "failed", "SUCCESS")
    assert "避免重复退款" in (await queries.difference(found.id)).what_to_do


async def test_a_tampered_bill_is_refused_and_nothing_is_read(client, simulator, pay):
    # given a paid order, and a download that is not the file WeChat Pay hashed
    await paid_order(client, simulator)
    await close_day(simulator)
    await sim(simulator, "POST", "/pay/bills/tamper", {"times": 1})

    # when the day is reconciled, the file is refused
    with pytest.raises(CommerceError) as caught:
        await reconcile_day(pay=pay, bill_date=today())
    assert refused(caught, ReconciliationError.BILL_TAMPERED)

    # then the run failed and says why; nothing was compared or posted
    run = await ReconciliationRun.get(bill_date=today())
    assert run.status.value == "failed" and "SHA1" in run.error
    assert not await ReconciliationDifference.exists()
    assert not await JournalEntry.filter(kind="wechat_fees").exists()

    # and the next try (an honest file) reconciles the day
    result = await reconcile_day(pay=pay, bill_date=today())
    assert result.redone and (await ReconciliationRun.get(bill_date=today())).status.value == "done"


async def test_a_bill_not_made_yet_fails_the_run_until_it_is(client, simulator, pay):
    await paid_order(client, simulator)

    with pytest.raises(CommerceError) as caught:
        await reconcile_day(pay=pay, bill_date=today())

    assert refused(caught, ReconciliationError.BILL_NOT_READY)
    assert (await ReconciliationRun.get(bill_date=today())).status.value == "failed"


async def test_the_daily_job_runs_yesterday_after_the_hour_and_retries_a_failed_download(
    client, simulator, pay
):
    yesterday = today() - timedelta(days=1)
    await close_day(simulator, yesterday)
    morning = datetime.combine(today(), datetime.min.time(), clock.SHANGHAI)

    # before the hour: not yesterday (the days before it, never reconciled, are caught up:
    # no movement, empty bills)
    with clock.frozen(morning + timedelta(hours=9, minutes=59)):
        assert await reconcile_due(pay=pay, ready_hour=10) == 7
    assert not await ReconciliationRun.exists(bill_date=yesterday)
    assert await ReconciliationRun.filter(status="done").count() == 7

    # after it, a download that fails (WeChat Pay's system error) is recorded for the admin
    await sim(simulator, "POST", "/wx/faults", {"api": "pay_tradebill", "errcode": -1})
    with clock.frozen(morning + timedelta(hours=10, minutes=5)):
        assert await reconcile_due(pay=pay, ready_hour=10) == 0
    failure = await JobFailure.get(job="reconcile_bills", item_kind="bill_date")
    assert failure.item_id == int(yesterday.strftime("%Y%m%d")) and failure.resolved_at is None

    # and the next run after its backoff reconciles the day (a day without movement: empty
    # bills) and resolves the failure; a later run does not redo it
    with clock.frozen(morning + timedelta(hours=10, minutes=30)):
        assert await reconcile_due(pay=pay, ready_hour=10) == 1
        assert await reconcile_due(pay=pay, ready_hour=10) == 0
    run = await ReconciliationRun.get(bill_date=yesterday)
    assert (run.status.value, run.trade_rows, run.found) == ("done", 0, 0)
    assert (await JobFailure.get(id=failure.id)).resolved_at is not None


async def test_a_finance_person_resolves_a_difference_with_a_note(client, simulator, pay):
    # given a difference found
    order = await paid_order(client, simulator)
    await tell_bill(simulator, "drop", reference=await out_trade_no(order))
    await close_day(simulator)
    await reconcile_day(pay=pay, bill_date=today())
    found = await ReconciliationDifference.get()
    finance = Staff(id=7, username="fin", role=StaffRole.FINANCE, merchant_id=None)

    # when a finance person resolves it
    await services.resolve(difference_id=found.id, staff=finance, note="商户平台已查到该交易，次日账单补记")

    # then who, when and why are kept, the day has no open difference, and it cannot be
    # resolved twice
    row = await ReconciliationDifference.get(id=found.id)
    assert (row.status.value, row.resolved_by, row.resolution) == (
        "resolved",
        "staff:7",
        "商户平台已查到该交易，次日账单补记",
    )
    assert row.resolved_at is not None
    assert (await queries.run_of(today())).open == 0
    with pytest.raises(CommerceError) as caught:
        await services.resolve(difference_id=found.id, staff=finance, note="再次")
    assert refused(caught, ReconciliationError.ALREADY_RESOLVED)


@needs_real_database
async def test_runs_of_one_day_racing_record_each_difference_once(client, simulator, pay):
    # given a day whose trade bill left a payment out (its fund-flow bill has it, and its fee)
    order = await paid_order(client, simulator)
    await tell_bill(simulator, "drop", reference=await out_trade_no(order), bill="trade")
    await close_day(simulator)

    async def run(again: bool) -> str:
        try:
            result = await reconcile_day(pay=pay, bill_date=today(), again=again)
        except CommerceError as exc:
            return exc.code
        return "ran" if result.redone else "done before"

    # when five runs start at once (a first run, then runs again of the day done)
    first = await asyncio.gather(*(run(False) for _ in range(5)))
    again = await asyncio.gather(*(run(True) for _ in range(5)))

    # then one ran each time (the others were told it is running, or found it done), the
    # difference is recorded once and the fees posted once
    assert first.count("ran") >= 1 and set(first) <= {"ran", "reconciliation_running", "done before"}
    assert again.count("ran") >= 1 and set(again) <= {"ran", "reconciliation_running"}
    assert await ReconciliationDifference.all().count() == 1
    assert await JournalEntry.filter(kind="wechat_fees").count() == 1
    run_row = await ReconciliationRun.get(bill_date=today())
    assert run_row.status.value == "done"


def test_the_command_refuses_a_date_that_is_no_date(capsys):
    assert main(["reconcile", "--date", "2026-13-01"]) == 1
    assert "请填写账单日期" in capsys.readouterr().err


async def test_what_we_noted_just_after_midnight_may_be_in_the_previous_days_bill(client, simulator, pay):
    # given two payments WeChat Pay made today, which we noted (say) after midnight: one within
    # a few minutes, one long after
    tomorrow = today() + timedelta(days=1)
    soon, late = [await paid_order(client, simulator, user=u) for u in ("alice", "bob")]
    midnight = datetime.combine(tomorrow, datetime.min.time(), clock.SHANGHAI).astimezone(UTC)
    await Payment.filter(out_trade_no=await out_trade_no(soon)).update(
        paid_at=midnight + timedelta(minutes=3)
    )
    await Payment.filter(out_trade_no=await out_trade_no(late)).update(paid_at=midnight + timedelta(hours=2))
    await close_day(simulator)
    await close_day(simulator, tomorrow)

    # when tomorrow is reconciled (its bills hold neither)
    await reconcile_day(pay=pay, bill_date=tomorrow)

    # then the one noted within minutes is found in today's bill; the other is a difference
    assert await differences() == {("missing_at_wechat", "payment", await out_trade_no(late))}


async def test_a_run_that_breaks_midway_is_failed_not_left_running(client, simulator, pay, monkeypatch):
    # given a day whose bills are fine, and our side failing while it is compared
    await paid_order(client, simulator)
    await close_day(simulator)

    async def broken(start, end):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("commerce.payments.queries.payments_paid_between", broken)

    with pytest.raises(RuntimeError):
        await reconcile_day(pay=pay, bill_date=today())

    # then the run is failed with the reason, so the next run takes it again at once
    run = await ReconciliationRun.get(bill_date=today())
    assert run.status.value == "failed" and "the database went away" in run.error
    monkeypatch.undo()
    assert (await reconcile_day(pay=pay, bill_date=today())).redone
