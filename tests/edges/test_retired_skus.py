"""A SKU that leaves the catalog (re-imported without its row, or removed in the product form)
while orders hold it: it is retired, not deleted. Shoppers no longer see or buy it; its orders
still cancel, expire and refund, and their stock goes back to that SKU by its id."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from commerce.orders.models import Order
from commerce.orders.services import cancel_expired_orders
from commerce.payments.models import Refund
from commerce.staff.services import create_platform_admin
from tests.builders import PASSWORD, form_fields, shopper_with_address, sign_in
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, pay_order
from tests.edges.shoppers import order_sku
from tests.factories import SMALL_CATALOG, seed_small_catalog, sku_row

# The iPhone again, without its 128GB row (its 256GB row now has 3 in stock).
IPHONE_WITHOUT_128 = [{**row, "stock": "3"} for row in SMALL_CATALOG if row["sku_code"] == "P1-B256"]


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def _reimport_without_128() -> None:
    report = await import_rows(IPHONE_WITHOUT_128)
    assert not report.problems, report.problems


async def test_a_sku_reimported_away_from_an_unpaid_order_is_retired_and_the_order_cancels(client, alice):
    # given an unpaid order for 2 iPhones 128GB (5 in stock: 3 left)
    order = await order_sku(client, alice, "P1-B128", 2)
    sku_id = order["lines"][0]["sku_id"]
    # when the catalog is re-imported without that SKU's row
    await _reimport_without_128()
    # then the SKU is kept, retired: shoppers no longer see it, nor buy it, nor cart it
    retired = await Sku.get(id=sku_id)
    assert retired.retired_at is not None
    product = await Product.get(spu_code="P1")
    assert product.total_stock == 3  # only what is on sale
    detail = await (await client.get(f"/api/v1/products/{product.id}")).json()
    assert [s["sku_code"] for s in detail["skus"]] == ["P1-B256"]
    item = {"items": [{"sku_id": sku_id, "quantity": 1}], "address_id": alice["address_id"]}
    refused = await client.post(
        "/api/v1/orders", json=item, headers={**alice["headers"], "Idempotency-Key": uuid.uuid4().hex}
    )
    assert (refused.status, (await refused.json())["error"]["code"]) == (404, "sku_not_found")
    cart = await client.post(
        "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": 1}, headers=alice["headers"]
    )
    assert (cart.status, (await cart.json())["error"]["code"]) == (404, "sku_not_found")
    # when the shopper cancels the unpaid order
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    # then it is cancelled, still shows what was ordered, and the 2 go back to that SKU only
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "cancelled" and body["lines"][0]["specs"] == {"颜色": "黑色", "容量": "128GB"}
    assert (await Sku.get(id=sku_id)).stock == 5
    assert (await Product.get(spu_code="P1")).total_stock == 3


async def test_a_sku_nobody_ordered_is_deleted_and_a_retired_one_comes_back_when_reimported(client, alice):
    # given the 256GB iPhone was never ordered, the 128GB one was
    await order_sku(client, alice, "P1-B128", 1)
    never_ordered = (await Sku.get(sku_code="P1-B256")).id
    # when the catalog loses both rows (P1 now only sells a new 512GB SKU)
    row = {**IPHONE_WITHOUT_128[0], "sku_code": "P1-B512", "specs": "颜色:黑色;容量:512GB", "stock": "1"}
    assert not (await import_rows([row])).problems
    # then the one never ordered is gone, the ordered one retired
    assert not await Sku.exists(id=never_ordered)
    assert (await Sku.get(sku_code="P1-B128")).retired_at is not None
    # and when a later file has the 128GB row again, it is back on sale with the stock given
    back = {**SMALL_CATALOG[0], "stock": "7"}
    assert not (await import_rows([back, row])).problems
    revived = await Sku.get(sku_code="P1-B128")
    assert revived.retired_at is None and revived.stock == 7
    assert (await Product.get(spu_code="P1")).total_stock == 8


async def test_expired_orders_are_all_cancelled_past_one_holding_a_retired_sku(client, alice):
    # given two unpaid orders: the older holds an iPhone 128GB, which then leaves the catalog
    first = await order_sku(client, alice, "P1-B128", 1)
    second = await order_sku(client, alice, "P2-W", 2)
    await _reimport_without_128()
    # when both are past their deadline and the scheduler's job runs
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        cancelled = await cancel_expired_orders()
    # then both are cancelled, and each SKU has its stock back
    assert cancelled == 2
    assert {o.status for o in await Order.filter(id__in=[first["id"], second["id"]])} == {"cancelled"}
    assert (await Sku.get(sku_code="P1-B128")).stock == 5
    assert (await Sku.get(sku_code="P2-W")).stock == 30


async def test_a_paid_order_of_a_retired_sku_is_refunded_and_its_stock_returns(client, simulator, alice):
    # given a paid order for 2 iPhones 128GB, whose SKU then leaves the catalog
    order = await order_sku(client, alice, "P1-B128", 2)
    await pay_order(client, simulator, alice["headers"], order["id"])
    await _reimport_without_128()
    # when the shopper asks for a refund before shipment
    response = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert response.status == 201, await response.text()

    # then WeChat Pay returns the money, the order ends closed and the stock goes back
    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "closed"

    await eventually(refunded)
    assert (await Refund.get(order_id=order["id"])).status == "succeeded"
    assert (await Sku.get(sku_code="P1-B128")).stock == 5
    assert (await Product.get(spu_code="P1")).total_stock == 3  # the 256GB on sale, only


async def test_removing_a_sku_in_the_product_form_retires_it_and_the_order_still_cancels(client, alice):
    # given an unpaid order for an iPhone 128GB, and the platform admin editing the iPhone
    order = await order_sku(client, alice, "P1-B128", 1)
    await create_platform_admin(username="boss", password=PASSWORD)
    assert (await sign_in(client, "boss")).status == 302
    product_id = (await Product.get(spu_code="P1")).id
    action = f"/admin/products/{product_id}"
    page = await (await client.get(action)).text()
    # when they take 128GB off the capacity axis and save (its grid row goes)
    fields = [
        (name, value)
        for name, value in form_fields(page, action, axis_values_1="256GB")
        if not name.endswith("_0") or name.startswith("axis_")
    ]
    fields = [(_renumbered(name), value) for name, value in fields]
    saved = await client.post(action, data=[*fields, ("do", "save")], allow_redirects=False)
    assert saved.status == 302, await saved.text()
    # then the SKU is retired, not deleted, and the admin still shows it as no longer sold
    sku = await Sku.get(sku_code="P1-B128")
    assert sku.retired_at is not None
    assert [s.sku_code for s in await Sku.filter(product_id=product_id, retired_at=None)] == ["P1-B256"]
    page = await (await client.get(action)).text()
    assert "P1-B128" in page and "已停售" in page
    # and the shopper's cancellation works and gives its stock back
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert response.status == 200, await response.text()
    assert (await Sku.get(id=sku.id)).stock == 5


def _renumbered(name: str) -> str:
    """The grid's second row becomes its first once the first is gone."""
    if name.endswith("_1") and not name.startswith("axis_"):
        return name[:-2] + "_0"
    return name


async def test_a_retired_skus_cart_lines_leave_the_cart(client, alice):
    # given the 128GB iPhone in the shopper's cart, next to earbuds
    for code in ("P1-B128", "P2-W"):
        sku = await Sku.get(sku_code=code)
        added = await client.post(
            "/api/v1/cart/items", json={"sku_id": sku.id, "quantity": 1}, headers=alice["headers"]
        )
        assert added.status in (200, 201), await added.text()
    await order_sku(client, alice, "P1-B128", 1)  # somebody's order holds it
    # when the iPhone 128GB leaves the catalog
    await _reimport_without_128()
    # then the cart shows only the earbuds, and checking out the cart buys them
    cart = await (await client.get("/api/v1/cart", headers=alice["headers"])).json()
    assert [line["title"] for line in cart["lines"]] == ["华为 FreeBuds 蓝牙耳机"]
    body = {"from_cart": True, "address_id": alice["address_id"]}
    placed = await client.post(
        "/api/v1/orders", json=body, headers={**alice["headers"], "Idempotency-Key": uuid.uuid4().hex}
    )
    assert placed.status == 201, await placed.text()


@needs_real_database
async def test_cancellations_racing_a_retirement_keep_every_count_true(client, simulator):
    # given twenty unpaid orders of ten shoppers for a SKU with 50 in stock (30 left)
    rows = [
        sku_row(
            "R1",
            code,
            title="保温杯",
            category="家居 > 杯具",
            price="59.00",
            stock=stock,
            specs=f"颜色:{colour}",
        )
        for code, stock, colour in (("R1-X", 50, "黑色"), ("R1-Y", 5, "白色"))
    ]
    assert not (await import_rows(rows)).problems
    shoppers = [await shopper_with_address(client, simulator, f"shopper{n}") for n in range(10)]
    orders = [(s, await order_sku(client, s, "R1-X")) for s in shoppers for _ in range(2)]
    # when every shopper cancels while the catalog is re-imported without that SKU
    cancels = [client.post(f"/api/v1/orders/{o['id']}/cancel", headers=s["headers"]) for s, o in orders]
    reimport = import_rows([rows[1]])
    *answers, report = await asyncio.gather(*cancels, reimport)
    # then every order is cancelled, the SKU is retired with all its units, and the product's
    # total counts only what is on sale
    assert [a.status for a in answers] == [200] * 20 and not report.problems
    retired = await Sku.get(sku_code="R1-X")
    assert (retired.retired_at is not None, retired.stock) == (True, 50)
    assert (await Product.get(spu_code="R1")).total_stock == (await Sku.get(sku_code="R1-Y")).stock == 5
