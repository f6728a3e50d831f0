"""Community sales and batches in the admin web: the platform publishes a sale (cut-off shown in
Shanghai time) and exports a batch's picking list, dispatches and lands it; a merchant's owner
sees only their merchant's sales and batches and publishes only their own SKUs; other roles
may not open the pages."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.community import batches, sales
from commerce.community.models import Batch, CommunitySale
from commerce.merchants.services import ensure_merchant
from commerce.staff.states import StaffRole
from tests.builders import csrf_of, shopper_with_address, staff_signed_in
from tests.edges.community import approved_leader, paid_in_sale, pay_now, place_in_sale, seed_groceries
from tests.edges.paying import settle_outbox
from tests.factories import sku_row

TEA = sku_row("B-TEA", "B-TEA-1", title="乙店茶叶", category="食品 > 茶叶 > 绿茶", price="19.90")


async def _sale_with_a_batch(client, simulator, data_dir, csrf: str) -> dict:
    """Eggs and milk published by the platform's form for tomorrow; alice's paid order at
    leader1's point; cut off (the clock moved past tomorrow's 23:00)."""
    skus = await seed_groceries()
    tomorrow = sales.shanghai_today() + timedelta(days=1)
    form = {
        "csrf_token": csrf,
        "title": "明日鲜蛋团",
        "sale_date": tomorrow.isoformat(),
        "cutoff_hour": "23",
        "items": f"{skus['C1-EGG']}, 29.90\n{skus['C2-MILK']}，9.9",
    }
    created = await client.post("/admin/community-sales", data=form, allow_redirects=False)
    assert created.status == 302, await created.text()
    sale = await CommunitySale.get(title="明日鲜蛋团")
    leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
    alice = await shopper_with_address(client, simulator, "alice")
    order = await paid_in_sale(
        client, data_dir, alice, sale_id=sale.id, point_id=leader["point_id"], items={skus["C1-EGG"]: 2}
    )
    bob = await shopper_with_address(client, simulator, "bob")  # orders in time, pays too late
    with clock.frozen(sale.cutoff_at - timedelta(minutes=1)):
        placed = await place_in_sale(
            client, bob, sale_id=sale.id, point_id=leader["point_id"], items={skus["C2-MILK"]: 1}
        )
        late = await placed.json()
    with clock.frozen(sale.cutoff_at + timedelta(seconds=30)):
        await pay_now(client, data_dir, bob, late["id"])
    with clock.frozen(sale.cutoff_at + timedelta(minutes=1)):
        assert await batches.cut_off_due_sales() == 1
    batch = await Batch.get(sale_id=sale.id)
    return {"sale": sale, "order": order, "late": late, "batch": batch, "skus": skus}


async def test_the_platform_publishes_a_sale_and_exports_a_batchs_picking_list(client, simulator, data_dir):
    csrf = await staff_signed_in(client, "boss")
    w = await _sale_with_a_batch(client, simulator, data_dir, csrf)
    # the sale is listed with its cut-off in Shanghai time and its prices
    page = await (await client.get("/admin/community-sales")).text()
    assert "明日鲜蛋团" in page and f"{w['sale'].sale_date} 23:00" in page and "¥29.90 / ¥39.90" in page
    # the batch is listed, its picking list shows alice's order, masked
    listed = await (await client.get(f"/admin/batches?sale={w['sale'].id}")).text()
    assert f"/admin/batches/{w['batch'].id}" in listed and "幸福里驿站" in listed
    # bob's order, paid after the cut-off, is in no batch: staff are shown it to refund
    assert "截单后才支付的订单" in listed and w["late"]["order_no"] in listed
    picking = await (await client.get(f"/admin/batches/{w['batch'].id}")).text()
    assert w["order"]["order_no"] in picking and "王*" in picking and "13700137000" not in picking
    # the Excel export holds the order's two eggs, and the CSV too
    xlsx = await client.get(f"/admin/batches/{w['batch'].id}/picking.xlsx")
    assert xlsx.status == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await xlsx.read()))
    assert list(book["SKU汇总"].iter_rows(values_only=True))[1:] == [
        (w["skus"]["C1-EGG"], "土鸡蛋 30枚", None, 2)
    ]
    text = (await (await client.get(f"/admin/batches/{w['batch'].id}/picking.csv")).read()).decode(
        "utf-8-sig"
    )
    assert w["order"]["order_no"] in text
    # dispatched, then arrived: the picking list now shows alice's pickup code
    csrf = csrf_of(picking)
    for action in ("dispatch", "arrive"):
        moved = await client.post(
            f"/admin/batches/{w['batch'].id}/{action}", data={"csrf_token": csrf}, allow_redirects=False
        )
        assert moved.status == 302, await moved.text()
    again = await client.post(
        f"/admin/batches/{w['batch'].id}/dispatch", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert again.status == 409 and "批次当前状态不允许此操作" in await again.text()
    await settle_outbox()  # the relay makes the batch's orders ready
    shown = await (
        await client.get(f"/api/v1/orders/{w['order']['id']}", headers=(await _alice(client, simulator)))
    ).json()
    code = shown["fulfilment"]["pickup_code"]
    assert code and code in await (await client.get(f"/admin/batches/{w['batch'].id}")).text()


async def _alice(client, simulator) -> dict:
    return (await shopper_with_address(client, simulator, "alice"))["headers"]


async def test_a_merchants_owner_sees_only_their_own_sales_and_batches(client, simulator, data_dir):
    csrf = await staff_signed_in(client, "boss")
    w = await _sale_with_a_batch(client, simulator, data_dir, csrf)
    merchant_b = await ensure_merchant(code="shop-b", name="乙店")
    assert not (await import_rows([TEA], merchant_id=merchant_b)).problems
    tea = (await Sku.get(sku_code="B-TEA-1")).id
    csrf = await staff_signed_in(client, "owner-b", StaffRole.MERCHANT_OWNER, merchant_b)
    # the platform's sale and batch are not theirs: not listed, not found
    assert "明日鲜蛋团" not in await (await client.get("/admin/community-sales")).text()
    assert f"/admin/batches/{w['batch'].id}" not in await (await client.get("/admin/batches")).text()
    assert (await client.get(f"/admin/batches/{w['batch'].id}")).status == 404
    assert (await client.get(f"/admin/batches/{w['batch'].id}/picking.xlsx")).status == 404
    sale_form = {"csrf_token": csrf, "title": "乙店茶叶团", "sale_date": w["sale"].sale_date.isoformat()}
    # they may not publish the platform's eggs
    refused = await client.post(
        "/admin/community-sales", data={**sale_form, "items": f"{w['skus']['C1-EGG']}, 20"}
    )
    assert refused.status == 400 and "不属于本商家" in await refused.text()
    # nor their tea above its price
    refused = await client.post("/admin/community-sales", data={**sale_form, "items": f"{tea}, 25"})
    assert refused.status == 400 and "不高于原价" in await refused.text()
    # their tea at 15.00 is published, with the default cut-off, and they may cancel it
    made = await client.post(
        "/admin/community-sales", data={**sale_form, "items": f"{tea}, 15"}, allow_redirects=False
    )
    assert made.status == 302, await made.text()
    own = await CommunitySale.get(title="乙店茶叶团")
    assert own.merchant_id == merchant_b and clock.to_shanghai(own.cutoff_at).hour == 23
    cancelled = await client.post(
        f"/admin/community-sales/{own.id}/cancel", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert cancelled.status == 302
    assert (await CommunitySale.get(id=own.id)).status == "cancelled"
    # the platform's sale cannot be cancelled by them
    theirs = await client.post(
        f"/admin/community-sales/{w['sale'].id}/cancel", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert theirs.status == 404


async def test_roles_without_community_sales_may_not_open_them(client, simulator):
    merchant_b = await ensure_merchant(code="shop-b", name="乙店")
    await staff_signed_in(client, "clerk", StaffRole.MERCHANT_STAFF, merchant_b)
    for path in ("/admin/community-sales", "/admin/batches"):
        assert (await client.get(path)).status == 403
    await staff_signed_in(client, "agent", StaffRole.AGENT)
    assert (await client.get("/admin/batches")).status == 403
