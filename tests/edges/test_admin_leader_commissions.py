"""Finance's page of leaders' commissions: rates per category and product are set and cleared
(audited, bad input refused on the page), the commissions listed with their leader and status
and filtered, totals per leader add up; other roles are refused."""

from __future__ import annotations

import re
from datetime import timedelta

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.community import commission_earning as earning
from commerce.community.commission_models import LeaderCommissionRate
from commerce.orders.models import Order
from commerce.staff.states import StaffRole
from tests.builders import staff_signed_in
from tests.community_builders import approved_leader, community_sale, paid_community_order, picked_up
from tests.factories import sku_row

PAGE = "/admin/finance/leader-commissions"
RATES = "/admin/finance/leader-commissions/rates"
TEA = sku_row("LT1", "LT1-1", title="龙井茶", category="食品 > 茶叶", price="10.00", stock=50)


async def test_finance_sets_and_clears_rates_per_category_and_product(client):
    assert not (await import_rows([TEA])).problems
    tea_category = (await Category.get(name="茶叶")).id
    tea_product = (await Product.get(title="龙井茶")).id
    csrf = await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    page = await (await client.get(PAGE)).text()
    assert "默认 10.00%" in page and "食品 &gt; 茶叶" in page
    # when finance sets 茶叶 at 12.5% and the tea itself at 8%
    for target, target_id, rate in (("category", tea_category, "12.5"), ("product", tea_product, "8")):
        saved = await client.post(
            RATES,
            data={"csrf_token": csrf, "target": target, "target_id": str(target_id), "rate": rate},
            allow_redirects=False,
        )
        assert saved.status == 302
    # then both are listed, and audited
    page = await (await client.get(PAGE)).text()
    assert re.search(rf'data-rate="category:{tea_category}">.*?12.50%', page, re.S)
    assert re.search(rf'data-rate="product:{tea_product}">.*?8.00%', page, re.S)
    assert (
        await AuditEntry.filter(action="leader_commission_rate.set", actor__startswith="staff:").count() == 2
    )
    # and bad input is refused on the page, nothing changed
    for data, status, text in (
        ({"target": "product", "target_id": str(tea_product), "rate": "abc"}, 400, "费率请填写百分数"),
        ({"target": "product", "target_id": str(tea_product), "rate": "101"}, 400, "0%–100%"),
        ({"target": "product", "target_id": "999999", "rate": "3"}, 404, "商品或类目不存在"),
        ({"target": "merchant", "target_id": "1", "rate": "3"}, 400, "请选择类目或填写商品编号"),
    ):
        refused = await client.post(RATES, data={"csrf_token": csrf, **data})
        assert refused.status == status and text in await refused.text()
    assert await LeaderCommissionRate.all().count() == 2
    # when the product's is cleared (blank)
    cleared = await client.post(
        RATES,
        data={"csrf_token": csrf, "target": "product", "target_id": str(tea_product), "rate": ""},
        allow_redirects=False,
    )
    assert cleared.status == 302
    assert not await LeaderCommissionRate.exists(product_id=tea_product)


async def test_finance_lists_commissions_by_status_and_leader_with_totals(client, simulator, settings):
    # given two leaders: 王's two orders (5 and 2 teas at 10%: 500, 200), the first earned;
    # 李's one order (3 teas: 300)
    assert not (await import_rows([TEA])).problems
    tea = (await Sku.get(sku_code="LT1-1")).id
    wang, li = await approved_leader(name="王团长"), await approved_leader(name="李团长")
    sale = await community_sale()
    first = await paid_community_order(client, simulator, "amy", wang, sale, [(tea, 5)])
    await paid_community_order(client, simulator, "ben", wang, sale, [(tea, 2)])
    await paid_community_order(client, simulator, "cat", li, sale, [(tea, 3)])
    await picked_up(first, wang.point_id)
    with clock.frozen(clock.now() + timedelta(days=settings.aftersales_window_days, minutes=1)):
        assert await earning.earn_due(window_days=settings.aftersales_window_days) == 1
    await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    # when finance opens the page
    page = await (await client.get(PAGE)).text()
    # then the totals per leader: 王 2 orders, 7.00 accrued, 2.00 pending, 5.00 earned; 李 3.00 pending
    wang_row = re.search(rf'data-leader="{wang.id}">(.*?)</tr>', page, re.S)
    li_row = re.search(rf'data-leader="{li.id}">(.*?)</tr>', page, re.S)
    assert wang_row and re.findall(r"<td>([^<]*)</td>", wang_row.group(1)) == [
        "2",
        "7.00",
        "0.00",
        "2.00",
        "5.00",
    ]
    assert li_row and re.findall(r"<td>([^<]*)</td>", li_row.group(1)) == [
        "1",
        "3.00",
        "0.00",
        "3.00",
        "0.00",
    ]
    assert page.count("data-commission=") == 3
    # and the filters narrow the list
    earned = await (await client.get(f"{PAGE}?status=earned")).text()
    first_no = (await Order.get(id=first)).order_no
    assert re.findall(r'data-commission="([^"]+)"', earned) == [first_no]
    of_li = await (await client.get(f"{PAGE}?leader={li.id}")).text()
    assert of_li.count("data-commission=") == 1 and "李团长" in of_li
    by_no = await (await client.get(f"{PAGE}?order_no={first_no}")).text()
    assert re.findall(r'data-commission="([^"]+)"', by_no) == [first_no]
    odd = await (await client.get(f"{PAGE}?status=<b>&leader=x&page=abc")).text()
    assert odd.count("data-commission=") == 3
    # and the books show the leaders' pending and withdrawable accounts, owed shown positive
    books = await (await client.get("/admin/finance/ledger")).text()
    assert "团长待结佣金" in books
    pending = re.search(rf'data-account="leader_pending:{wang.user_id}">.*?<td>([-\d.]+)</td>', books, re.S)
    assert pending is not None and pending.group(1) == "2.00"


async def test_other_roles_cannot_open_the_page_nor_set_a_rate(client):
    csrf = await staff_signed_in(client, "agent", StaffRole.AGENT)
    assert (await client.get(PAGE, allow_redirects=False)).status == 403
    posted = await client.post(
        RATES,
        data={"csrf_token": csrf, "target": "category", "target_id": "1", "rate": "5"},
        allow_redirects=False,
    )
    assert posted.status == 403
    assert await LeaderCommissionRate.all().count() == 0


async def test_finance_exports_the_commissions_as_listed(client, simulator):
    # given two leaders' orders (5 teas: 500 for 王; 3 teas: 300 for 李, named like a formula)
    assert not (await import_rows([TEA])).problems
    tea = (await Sku.get(sku_code="LT1-1")).id
    wang, li = await approved_leader(name="王团长"), await approved_leader(name="=李团长")
    sale = await community_sale()
    first = await paid_community_order(client, simulator, "dan", wang, sale, [(tea, 5)])
    await paid_community_order(client, simulator, "eve", li, sale, [(tea, 3)])
    await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    # when finance exports everything, then only 王's
    everything = await client.get(f"{PAGE}.csv")
    of_wang = await client.get(f"{PAGE}.csv?leader={wang.id}")
    # then a CSV Excel reads (BOM), one row per commission, amounts in yuan, formulas guarded
    assert everything.status == 200 and everything.headers["Content-Type"].startswith("text/csv")
    body = (await everything.read()).decode("utf-8")
    assert body.startswith("\ufeff订单号,团长编号,团长,计佣金额,计提佣金,冲回,已结算,状态,计提时间,结算时间")
    rows = body.strip().splitlines()[1:]
    assert len(rows) == 2
    assert ",'=李团长,30.00,3.00,0.00,0.00,待结算," in rows[0]
    first_no = (await Order.get(id=first)).order_no
    wang_rows = (await of_wang.read()).decode("utf-8").strip().splitlines()[1:]
    assert len(wang_rows) == 1 and wang_rows[0].startswith(
        f"{first_no},{wang.id},王团长,50.00,5.00,0.00,0.00,待结算,"
    )
