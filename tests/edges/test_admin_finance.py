"""Finance's pages: the hub links every finance page; the books list accounts by kind with what
is owed shown positive and the last balance check; an account's postings page newest first;
commission rates per category are set and cleared; an adjustment is posted with its reason
(escaped), and bad input is refused on the page without posting anything."""

from __future__ import annotations

import re

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category
from commerce.ledger import checks
from commerce.ledger.models import CommissionRate, JournalEntry, LedgerAccount
from commerce.ledger.services import CLEARING, PLATFORM_ADJUSTMENTS, Line, merchant_payable, record
from commerce.ledger.states import EntryKind
from commerce.merchants.services import ensure_merchant
from commerce.staff.states import StaffRole
from tests.builders import staff_signed_in
from tests.factories import sku_row


async def _paid_in(merchant: int, n: int) -> None:
    """n payments of 1.00 + n yuan, all owed to the merchant."""
    for i in range(n):
        await record(
            key=f"payment:{i + 1}",
            kind=EntryKind.PAYMENT,
            lines=[Line(CLEARING, 100 + i), Line(merchant_payable(merchant), -(100 + i))],
            memo=f"支付 {i + 1}",
        )


async def test_the_hub_links_every_finance_page_and_the_navigation_opens_it(client):
    await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    page = await (await client.get("/admin/finance")).text()
    for href in (
        "/admin/finance/ledger",
        "/admin/finance/commission",
        "/admin/statements",
        "/admin/finance/reconciliation",
        "/admin/finance/payouts",
    ):
        assert f'href="{href}"' in page
    assert "此功能即将上线" not in page


async def test_the_books_show_balances_owed_as_positive_and_an_account_s_postings_newest_first(client):
    # given 60 payments owed to a merchant, and a balance check run
    merchant = await ensure_merchant(code="m-books", name="账本店")
    await _paid_in(merchant, 60)
    await checks.check_balances()
    await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    # when finance opens the books
    page = await (await client.get("/admin/finance/ledger")).text()
    # then the merchant is owed the total (a credit, shown positive), the clearing holds it
    total = sum(100 + i for i in range(60))
    owed = re.search(rf'data-account="merchant_payable:{merchant}">.*?<td>([-\d.]+)</td>', page, re.S)
    assert owed is not None and owed.group(1) == f"{total / 100:.2f}"
    assert "全部相符" in page and "60 笔分录" in page
    # and the merchant's account lists its postings 50 a page, newest first
    account = await LedgerAccount.get(code=f"merchant_payable:{merchant}")
    first = await (await client.get(f"/admin/finance/ledger/accounts/{account.id}")).text()
    keys = re.findall(r"<code>(payment:\d+)</code>", first)
    assert len(keys) == 50 and keys[0] == "payment:60" and keys[-1] == "payment:11"
    second = await (await client.get(f"/admin/finance/ledger/accounts/{account.id}?page=2")).text()
    assert re.findall(r"<code>(payment:\d+)</code>", second)[-1] == "payment:1"


async def test_finance_sets_and_clears_a_category_s_commission_rate(client):
    assert not (
        await import_rows([sku_row("C1", "C1-1", title="茶", category="食品 > 茶叶", price="1.00")])
    ).problems
    tea = await Category.get(name="茶叶")
    csrf = await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    page = await (await client.get("/admin/finance/commission")).text()
    assert "食品 &gt; 茶叶" in page and "5.00%" in page
    saved = await client.post(
        "/admin/finance/commission",
        data={"csrf_token": csrf, "category_id": str(tea.id), "rate": "4.5"},
        allow_redirects=False,
    )
    assert saved.status == 302
    assert await CommissionRate.filter(category_id=tea.id).values_list("rate_bps", flat=True) == [450]
    page = await (await client.get("/admin/finance/commission")).text()
    assert "4.50%" in page
    odd = await client.post(
        "/admin/finance/commission", data={"csrf_token": csrf, "category_id": str(tea.id), "rate": "abc"}
    )
    assert odd.status == 400 and "费率请填写百分数" in await odd.text()
    over = await client.post(
        "/admin/finance/commission", data={"csrf_token": csrf, "category_id": str(tea.id), "rate": "101"}
    )
    assert over.status == 400
    cleared = await client.post(
        "/admin/finance/commission",
        data={"csrf_token": csrf, "category_id": str(tea.id), "rate": ""},
        allow_redirects=False,
    )
    assert cleared.status == 302 and not await CommissionRate.exists(category_id=tea.id)
    nowhere = await client.post(
        "/admin/finance/commission", data={"csrf_token": csrf, "category_id": "999999", "rate": "3"}
    )
    assert nowhere.status == 404 and "类目不存在" in await nowhere.text()


async def test_an_adjustment_is_posted_with_its_reason_and_bad_input_posts_nothing(client):
    merchant = await ensure_merchant(code="m-adj", name="调账店")
    csrf = await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    form = {"csrf_token": csrf, "payable": "merchant", "owner_id": str(merchant), "reason": "<b>补贴</b>"}
    posted = await client.post("/admin/finance/adjustments", data={**form, "amount": "12.30"})
    page = await posted.text()
    assert posted.status == 200 and "已记账：adjustment:" in page
    entry = await JournalEntry.get(kind="adjustment")
    assert "<b>" in entry.memo
    account = await LedgerAccount.get(code=f"merchant_payable:{merchant}")
    assert account.balance == -1230
    postings = await (await client.get(f"/admin/finance/ledger/accounts/{account.id}")).text()
    assert "&lt;b&gt;补贴&lt;/b&gt;" in postings and "<b>补贴</b>" not in postings
    for amount, status in (("0", 400), ("1.234", 400), ("abc", 400)):
        refused = await client.post("/admin/finance/adjustments", data={**form, "amount": amount})
        assert refused.status == status
    blank = await client.post("/admin/finance/adjustments", data={**form, "amount": "1", "reason": " "})
    assert blank.status == 400 and "原因" in await blank.text()
    nobody = await client.post(
        "/admin/finance/adjustments", data={**form, "amount": "1", "payable": "payee", "owner_id": "999999"}
    )
    assert nobody.status == 404 and "账户不存在" in await nobody.text()
    assert await JournalEntry.filter(kind="adjustment").count() == 1
    assert (await LedgerAccount.get(code=PLATFORM_ADJUSTMENTS.code)).balance == 1230
