"""Statements in the admin: finance lists every merchant's (filtered by merchant and status),
approves and marks them paid with the bank reference and date; a merchant's owner reads its
own; each exports as Excel and CSV (Chinese readable, formulas guarded) and prints; what
people typed is shown escaped; a statement the merchant owes on says why it is not paid."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from commerce import clock
from commerce.ledger.models import JournalEntry
from commerce.merchants.models import Merchant
from commerce.settlement import services
from commerce.settlement.models import Statement
from commerce.staff.states import StaffRole
from tests.builders import add_staff, signed_in
from tests.statement_builders import a_day, post_refund

NAME = '=HYPERLINK("http://evil")<script>alert(1)</script>甲店'


async def _issued(client, simulator, settings):
    """The day's statements (see a_day), issued nine days later; 甲's merchant named badly."""
    day = await a_day(client, simulator, settings)
    await Merchant.filter(id=day.a).update(name=NAME)
    with clock.frozen(day.at + timedelta(days=9)):
        await services.issue_statements(period="daily", window_days=7)
    await add_staff("money-1", StaffRole.FINANCE)
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, day.a)
    mine = await Statement.get(merchant_id=day.a)
    theirs = await Statement.get(merchant_id=day.b)
    return day, mine.id, theirs.id


def _today() -> str:
    return clock.to_shanghai(clock.now()).date().isoformat()


async def test_finance_lists_filters_approves_and_pays_a_statement(client, simulator, settings):
    # given both merchants' statements, and finance signed in
    day, mine, theirs = await _issued(client, simulator, settings)
    csrf = await signed_in(client, "money-1")
    # when finance opens the list, all of it, then one merchant's, then the paid ones
    everything = await (await client.get("/admin/statements")).text()
    only_b = await (await client.get(f"/admin/statements?merchant={day.b}")).text()
    none_paid = await (await client.get("/admin/statements?status=paid")).text()
    # then it sees both, then only B's, then none; names escaped
    assert f"JS-{day.a}-" in everything and f"JS-{day.b}-" in everything
    assert "168.44" in everything and "166.14" in everything
    assert "&lt;script&gt;" in everything and "<script>alert" not in everything
    assert f"JS-{day.b}-" in only_b and f"JS-{day.a}-" not in only_b
    assert "JS-" not in none_paid.split("<tbody>")[1]
    # when it opens A's statement: its figures and its orders
    page = await (await client.get(f"/admin/statements/{mine}")).text()
    for figure in ("217.80", "39.90", "8.39", "1.07", "168.44", "120.83", "47.61", "审核通过"):
        assert figure in page, figure
    # and approves it, then marks it paid with the bank's reference and today's date
    approved = await client.post(
        f"/admin/statements/{mine}/approve", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert approved.status == 302
    form = {"csrf_token": csrf, "reference": "ICBC-20261207-01", "paid_on": _today()}
    paid = await client.post(f"/admin/statements/{mine}/paid", data=form, allow_redirects=False)
    # then the statement says paid, with reference and date; the books posted once
    assert paid.status == 302
    page = await (await client.get(f"/admin/statements/{mine}")).text()
    assert "已付款" in page and "ICBC-20261207-01" in page and _today() in page
    assert await JournalEntry.filter(key=f"statement:{mine}:paid").count() == 1
    # a second submission of the form (a double click) is refused and posts nothing
    again = await client.post(f"/admin/statements/{mine}/paid", data=form, allow_redirects=False)
    assert again.status == 409 and "状态已变化" in await again.text()
    assert await JournalEntry.filter(kind="settlement_paid").count() == 1
    assert theirs


async def test_a_bad_reference_or_a_future_date_is_refused_and_changes_nothing(client, simulator, settings):
    # given A's statement approved
    _, mine, _ = await _issued(client, simulator, settings)
    csrf = await signed_in(client, "money-1")
    await client.post(f"/admin/statements/{mine}/approve", data={"csrf_token": csrf})
    tomorrow = (clock.to_shanghai(clock.now()) + timedelta(days=1)).date().isoformat()
    for reference, paid_on, words in (
        ("", _today(), "流水号"),
        ("x" * 65, _today(), "流水号"),
        ("ICBC-1", tomorrow, "不能晚于今天"),
        ("ICBC-1", "2026-02-30", "付款日期"),
        ("<b>ICBC</b>", "", "付款日期"),
    ):
        form = {"csrf_token": csrf, "reference": reference, "paid_on": paid_on}
        # when finance posts it
        answer = await client.post(f"/admin/statements/{mine}/paid", data=form, allow_redirects=False)
        # then it is told why, the form keeps what was typed (escaped), and nothing is paid
        text = await answer.text()
        assert answer.status == 400 and words in text, (reference, paid_on)
        assert "<b>ICBC</b>" not in text
    assert (await Statement.get(id=mine)).status.value == "approved"
    assert not await JournalEntry.filter(kind="settlement_paid").exists()


async def test_a_merchant_owner_reads_its_own_statements_only_and_cannot_act(client, simulator, settings):
    # given A's owner signed in
    day, mine, theirs = await _issued(client, simulator, settings)
    csrf = await signed_in(client, "a-owner")
    # when it opens the list, even asking for B's
    listed = await (await client.get(f"/admin/statements?merchant={day.b}")).text()
    # then it sees its own statement only, without the merchant filter
    assert f"JS-{day.a}-" in listed and f"JS-{day.b}-" not in listed
    assert 'name="merchant"' not in listed
    # its own statement opens without the finance forms; B's is not found, in every form
    page = await (await client.get(f"/admin/statements/{mine}")).text()
    assert "168.44" in page and "审核通过" not in page and "标记已付款" not in page
    for suffix in ("", ".xlsx", ".csv", "/print"):
        answer = await client.get(f"/admin/statements/{theirs}{suffix}")
        assert answer.status == 404 and "页面不存在" in await answer.text(), suffix
    # and it may not approve its own
    refused = await client.post(f"/admin/statements/{mine}/approve", data={"csrf_token": csrf})
    assert refused.status == 403
    assert (await Statement.get(id=mine)).status.value == "issued"
    # the navigation shows it the statements
    assert 'href="/admin/statements"' in page


async def test_exports_carry_the_figures_readably_with_formulas_guarded(client, simulator, settings):
    # given A's statement (its merchant's name starts like a formula)
    day, mine, _ = await _issued(client, simulator, settings)
    await signed_in(client, "money-1")
    # when finance downloads it as CSV and as Excel
    as_csv = await client.get(f"/admin/statements/{mine}.csv")
    as_xlsx = await client.get(f"/admin/statements/{mine}.xlsx")
    # then the CSV is UTF-8 with a BOM, and both hold the same figures and orders
    raw = await as_csv.read()
    assert as_csv.status == 200 and raw.startswith(b"\xef\xbb\xbf")
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(await as_xlsx.read())).active
    cells = [[_shown(cell) for cell in row] for row in sheet.iter_rows()]
    for table in (rows, cells):
        head = {row[0]: row[1] for row in table if len(row) > 1 and row[0]}
        assert head["结算单号"] == f"JS-{day.a}-" + head["结算单号"].rsplit("-", 1)[1]
        assert (head["销售额"], head["退款"], head["平台佣金"], head["支付手续费"], head["应结金额"]) == (
            "217.80",
            "39.90",
            "8.39",
            "1.07",
            "168.44",
        )
        assert head["商家"] == "'" + NAME  # a spreadsheet shows it, never runs it
        orders = [row for row in table if row and row[0].startswith(("2", "'"))]
        assert sorted(row[-1] for row in orders if len(row) == 8) == ["120.83", "47.61"]


def _shown(cell) -> str:
    """A cell as Excel shows it: amounts with their two decimals."""
    if isinstance(cell.value, int | float):
        assert cell.number_format == "0.00"
        return f"{cell.value:.2f}"
    return "" if cell.value is None else str(cell.value)


async def test_the_printable_page_stands_alone(client, simulator, settings):
    _, mine, _ = await _issued(client, simulator, settings)
    await signed_in(client, "a-owner")
    page = await client.get(f"/admin/statements/{mine}/print")
    text = await page.text()
    assert page.status == 200
    assert "商家结算单" in text and "168.44" in text and "打印" in text
    assert "<nav>" not in text and "&lt;script&gt;" in text


async def test_a_statement_the_merchant_owes_on_says_it_carries(client, simulator, settings):
    # given B's settled order refunded afterwards: B's next statement owes -83.07
    day, _, _ = await _issued(client, simulator, settings)
    later = day.at + timedelta(days=9)
    await post_refund(day.beans, 8800, commission=440, fee=53, key="refund:late-beans", at=later)
    with clock.frozen(later + timedelta(days=1)):
        [owing] = await services.issue_statements(period="daily", window_days=7)
    csrf = await signed_in(client, "money-1")
    await client.post(f"/admin/statements/{owing}/approve", data={"csrf_token": csrf})
    # when finance opens it, and posts the paid form anyway
    page = await (await client.get(f"/admin/statements/{owing}")).text()
    form = {"csrf_token": csrf, "reference": "ICBC-9", "paid_on": _today()}
    answer = await client.post(f"/admin/statements/{owing}/paid", data=form, allow_redirects=False)
    # then the page offers no payment and says why; the post is refused in the same words
    assert "-83.07" in page and "标记已付款" not in page and "结转" in page
    assert answer.status == 409 and "不能标记已付款" in await answer.text()
    assert not await JournalEntry.filter(kind="settlement_paid").exists()
