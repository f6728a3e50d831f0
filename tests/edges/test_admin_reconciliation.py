"""The finance page of reconciliation, through the admin app: the days reconciled with their
counts, a day's differences with what to do, a difference resolved with a note (who and when
kept, the audit log told), a day run again from the page, and refusals said on the page."""

from __future__ import annotations

from datetime import timedelta

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.payments.models import Payment
from commerce.reconciliation.models import ReconciliationDifference, ReconciliationRun
from commerce.reconciliation.services import reconcile_day
from commerce.staff.models import StaffAccount
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.builders import form_fields, paid_order, staff_signed_in
from tests.edges.paying import sim

PAGE = "/admin/finance/reconciliation"


def _today():
    return clock.to_shanghai(clock.now()).date()


async def _a_day_with_a_difference(client, simulator) -> tuple[str, str]:
    """Today run from the page (as for a past day) with a bill that left one payment out:
    (the day, the payment's out_trade_no)."""
    order = await paid_order(client, simulator)
    paid = await Payment.filter(checkout__orders__id=order["id"], status="paid").get()
    day = _today().isoformat()
    await sim(simulator, "POST", "/pay/bills/drop", {"bill_date": day, "reference": paid.out_trade_no})
    await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": day})
    await reconcile_day(pay=client.app[CORE].pay, bill_date=_today())
    return day, paid.out_trade_no


async def test_finance_sees_the_days_and_a_days_differences_with_what_to_do(client, simulator):
    day, reference = await _a_day_with_a_difference(client, simulator)
    await staff_signed_in(client, "fin", StaffRole.FINANCE)

    runs = await (await client.get(PAGE)).text()
    assert f'data-day="{day}"' in runs and "已完成" in runs

    response = await client.get(f"{PAGE}/{day}")
    page = await response.text()
    assert response.status == 200
    assert f'data-reference="{reference}"' in page and 'data-kind="missing_at_wechat"' in page
    assert "微信支付缺失" in page and "在商户平台按商户订单号查询" in page


async def _on_its_page(client, simulator) -> tuple[str, ReconciliationDifference, str, str]:
    """A finance person on the page of a day with a difference: (the day, the difference, its
    resolve form's action, the page)."""
    day, reference = await _a_day_with_a_difference(client, simulator)
    await staff_signed_in(client, "fin", StaffRole.FINANCE)
    found = await ReconciliationDifference.get(reference=reference)
    page = await (await client.get(f"{PAGE}/{day}")).text()
    return day, found, f"{PAGE}/differences/{found.id}/resolve", page


async def test_finance_resolves_a_difference_with_a_note(client, simulator):
    # given a day with a difference, and a finance person on its page
    day, found, action, page = await _on_its_page(client, simulator)

    # when they resolve it with a note that holds markup
    note = "<b>已核实</b>：次日补单"
    response = await client.post(action, data=form_fields(page, action, note=note), allow_redirects=False)

    # then it is resolved by them, now, with the note (shown escaped), and the audit log says so
    assert response.status == 302, await response.text()
    row = await ReconciliationDifference.get(id=found.id)
    staff = await StaffAccount.get(username="fin")
    assert (row.status.value, row.resolution, row.resolved_by) == ("resolved", note, f"staff:{staff.id}")
    page = await (await client.get(f"{PAGE}/{day}")).text()
    assert "&lt;b&gt;已核实&lt;/b&gt;" in page and "<b>已核实</b>" not in page
    assert "（fin，" in page  # who resolved it, by name
    assert await AuditEntry.filter(action="reconciliation.resolve", object_id=str(found.id)).exists()

    # and it cannot be resolved twice
    csrf = dict(form_fields(page, f"{PAGE}/run"))["csrf_token"]
    again = await client.post(action, data={"csrf_token": csrf, "note": "再次"})
    assert again.status == 409 and "该差异已处理" in await again.text()
    assert (await ReconciliationDifference.get(id=found.id)).resolution == note


async def test_an_empty_note_is_refused_on_the_page(client, simulator):
    _, found, action, page = await _on_its_page(client, simulator)

    response = await client.post(action, data=form_fields(page, action, note="   "))

    assert response.status == 400
    assert "请填写处理说明" in await response.text()
    assert (await ReconciliationDifference.get(id=found.id)).status.value == "open"


async def test_finance_runs_a_day_from_the_page_and_a_future_day_is_refused(client, simulator):
    # given yesterday's bills exist (no movement that day)
    csrf = await staff_signed_in(client, "fin", StaffRole.FINANCE)
    yesterday = (_today() - timedelta(days=1)).isoformat()
    await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": yesterday})

    # when finance runs it, they land on its page, reconciled
    ran = await client.post(f"{PAGE}/run", data={"csrf_token": csrf, "day": yesterday}, allow_redirects=False)
    assert ran.status == 302 and ran.headers["Location"] == f"{PAGE}/{yesterday}"
    assert (await ReconciliationRun.get(bill_date=yesterday)).status.value == "done"
    assert await AuditEntry.filter(action="reconciliation.run", object_id=yesterday).exists()

    # and today (no bills yet) or nonsense is refused on the page
    for day in (_today().isoformat(), "明天", "2026-02-30"):
        refused = await client.post(f"{PAGE}/run", data={"csrf_token": csrf, "day": day})
        assert refused.status == 400 and "请填写账单日期" in await refused.text()
    assert await ReconciliationRun.all().count() == 1


async def test_a_bill_not_ready_is_said_on_the_page(client, simulator):
    csrf = await staff_signed_in(client, "fin", StaffRole.FINANCE)
    long_ago = (_today() - timedelta(days=40)).isoformat()
    await sim(
        simulator,
        "POST",
        "/wx/faults",
        {"api": "pay_tradebill", "http_status": 400, "code": "STATEMENT_CREATING"},
    )

    refused = await client.post(f"{PAGE}/run", data={"csrf_token": csrf, "day": long_ago})

    assert refused.status == 409 and "尚未生成该日账单" in await refused.text()
    run = await ReconciliationRun.get(bill_date=long_ago)
    assert run.status.value == "failed"
    runs = await (await client.get(PAGE)).text()
    assert "BillNotReady" in runs
