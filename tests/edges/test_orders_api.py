"""Placing and cancelling orders through the real app: idempotent, stock-true, owner-only."""

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from commerce import clock
from commerce.catalog.models import Product, Sku
from commerce.errors import CommerceError
from commerce.orders.models import Order, OrderEvent
from commerce.orders.services import cancel_expired_orders, complete_shipped_orders, ship_order
from tests.builders import shopper_with_address
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


def _key() -> str:
    return uuid.uuid4().hex


async def _order(client, shopper, items, key=None, **extra):
    headers = {**shopper["headers"], "Idempotency-Key": key or _key()}
    body = {
        "items": [{"sku_id": s, "quantity": q} for s, q in items],
        "address_id": shopper["address_id"],
        **extra,
    }
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def _sku(code: str) -> Sku:
    return await Sku.get(sku_code=code)


async def test_an_order_reserves_stock_and_the_same_key_returns_the_same_order(client, alice):
    buds = await _sku("P2-W")  # 30 in stock, 799.00
    key = _key()
    # when the shopper orders, and the app retries with the same key
    first = await _order(client, alice, [(buds.id, 2)], key)
    again = await _order(client, alice, [(buds.id, 2)], key)
    # then one order, stock taken once
    assert first.status == 201
    order = await first.json()
    assert (await again.json())["id"] == order["id"]
    assert order["status"] == "pending_payment"
    assert (order["items_total"], order["shipping_fee"], order["payable"]) == (159800, 0, 159800)
    assert order["lines"][0]["title"] == "华为 FreeBuds 蓝牙耳机" and order["lines"][0]["quantity"] == 2
    assert order["address"]["receiver_name"] == "张三" and order["created_at"].endswith("+08:00")
    assert len(order["order_no"]) <= 32 and order["order_no"].isdigit()
    assert (await Sku.get(id=buds.id)).stock == 28
    assert (await Product.get(id=buds.product_id)).total_stock == 28
    assert await Order.all().count() == 1
    user_id = (await Order.get(id=order["id"])).user_id
    events = await OrderEvent.filter(order_id=order["id"]).values_list("type", "to_status", "actor")
    assert events == [("created", "pending_payment", f"shopper:{user_id}")]


async def test_ordering_from_the_cart_empties_the_ordered_lines(client, alice):
    buds = await _sku("P2-W")
    await client.post("/api/v1/cart/items", json={"sku_id": buds.id, "quantity": 1}, headers=alice["headers"])
    headers = {**alice["headers"], "Idempotency-Key": _key()}
    response = await client.post(
        "/api/v1/orders", json={"from_cart": True, "address_id": alice["address_id"]}, headers=headers
    )
    assert response.status == 201
    cart = await (await client.get("/api/v1/cart", headers=alice["headers"])).json()
    assert cart["lines"] == []


async def test_orders_are_refused_clearly(client, alice):
    buds = await _sku("P2-W")
    no_key = await client.post(
        "/api/v1/orders", json={"items": [{"sku_id": buds.id, "quantity": 1}]}, headers=alice["headers"]
    )
    assert (no_key.status, (await no_key.json())["error"]["code"]) == (400, "invalid_idempotency_key")
    no_address = await _order(client, {**alice, "address_id": None}, [(buds.id, 1)])
    assert (no_address.status, (await no_address.json())["error"]["code"]) == (400, "address_required")
    too_many = await _order(client, alice, [(buds.id, 31)])
    body = await too_many.json()
    assert (too_many.status, body["error"]["code"]) == (409, "out_of_stock")
    assert body["error"]["details"][0]["code"] == "exceeds_stock"
    assert (await Sku.get(id=buds.id)).stock == 30
    draft = await _order(client, alice, [((await _sku("P4-1")).id, 1)])
    assert (draft.status, (await draft.json())["error"]["code"]) == (409, "items_unavailable")


async def test_cancelling_releases_the_stock_once(client, alice):
    buds = await _sku("P2-W")
    order = await (await _order(client, alice, [(buds.id, 3)])).json()
    cancelled = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert (await cancelled.json())["status"] == "cancelled"
    assert (await Sku.get(id=buds.id)).stock == 30
    again = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert (again.status, (await again.json())["error"]["code"]) == (409, "invalid_order_status")
    assert (await Sku.get(id=buds.id)).stock == 30
    history = (
        await OrderEvent.filter(order_id=order["id"]).order_by("id").values_list("from_status", "to_status")
    )
    assert history == [("", "pending_payment"), ("pending_payment", "cancelled")]


async def test_unpaid_orders_are_cancelled_after_the_deadline(client, alice):
    buds = await _sku("P2-W")
    order = await (await _order(client, alice, [(buds.id, 1)])).json()
    assert await cancel_expired_orders() == 0
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        assert await cancel_expired_orders() == 1
    assert (await Order.get(id=order["id"])).status == "cancelled"
    assert (await Sku.get(id=buds.id)).stock == 30


async def test_another_shoppers_order_is_not_found(client, simulator, alice):
    order = await (await _order(client, alice, [((await _sku("P2-W")).id, 1)])).json()
    bob = await auth_headers(client, simulator, "bob")
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=bob)).status == 404
    assert (await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=bob)).status == 404
    assert (await (await client.get("/api/v1/orders", headers=bob)).json())["total"] == 0
    mine = await (await client.get("/api/v1/orders?status=pending_payment", headers=alice["headers"])).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    none = await (await client.get("/api/v1/orders?status=paid", headers=alice["headers"])).json()
    assert none["items"] == []
    bad = await client.get("/api/v1/orders?status=lost", headers=alice["headers"])
    assert bad.status == 400


async def test_racing_shoppers_never_oversell(client, simulator):
    # given a SKU with 50 left and 300 shoppers who each want one
    await seed_small_catalog()
    buds = await _sku("P2-W")
    await Sku.filter(id=buds.id).update(stock=50)
    shoppers = []
    for n in range(300):
        headers = await auth_headers(client, simulator, f"racer{n}")
        address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
        shoppers.append({"headers": headers, "address_id": address["id"]})
    # when they all order at once
    responses = await asyncio.gather(*(_order(client, s, [(buds.id, 1)]) for s in shoppers))
    # then exactly 50 orders, stock 0, and everyone else told clearly
    statuses = [r.status for r in responses]
    assert statuses.count(201) == 50
    refused = [await r.json() for r in responses if r.status != 201]
    assert {(body["error"]["code"]) for body in refused} == {"out_of_stock"}
    assert len(refused) == 250
    assert (await Sku.get(id=buds.id)).stock == 0
    assert await Order.all().count() == 50


async def test_the_in_process_scheduler_cancels_orders_past_their_deadline(
    aiohttp_client, simulator, wired_settings, empty_database, empty_redis
):
    from scheduler import runner
    from shop.app import create_app

    # given a shop whose unpaid orders expire at once and whose job runs every 0.2 s
    settings = wired_settings.model_copy(update={"order_payment_minutes": 0})
    fast = [replace(schedule, every_seconds=0.2) for schedule in runner.JOBS]
    original, runner.JOBS[:] = list(runner.JOBS), fast
    try:
        client = await aiohttp_client(create_app(settings, mount_simulator=False))
        await seed_small_catalog()
        headers = await auth_headers(client, simulator, "alice")
        address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
        buds = await _sku("P2-W")
        shopper = {"headers": headers, "address_id": address["id"]}
        order = await (await _order(client, shopper, [(buds.id, 1)])).json()
        # when the scheduler comes round, then the order is cancelled and the stock is back
        for _ in range(50):
            if (await Order.get(id=order["id"])).status == "cancelled":
                break
            await asyncio.sleep(0.1)
        assert (await Order.get(id=order["id"])).status == "cancelled"
        assert (await Sku.get(id=buds.id)).stock == 30
    finally:
        runner.JOBS[:] = original


async def _paid_order(client, shopper) -> dict:
    """An order as it will be once WeChat Pay confirms it (payments arrive with their own work)."""
    order = await (await _order(client, shopper, [((await _sku("P2-W")).id, 1)])).json()
    await Order.filter(id=order["id"]).update(status="paid")
    return order


async def test_shipping_then_confirming_receipt_completes_the_order(client, alice):
    order = await _paid_order(client, alice)
    # when the merchant ships it
    await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:1")
    shipped = await (await client.get(f"/api/v1/orders/{order['id']}", headers=alice["headers"])).json()
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == (
        "shipped",
        "顺丰速运",
        "SF1234567890",
    )
    assert shipped["shipped_at"].endswith("+08:00") and shipped["completed_at"] is None
    # then the shopper confirms receipt
    response = await client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=alice["headers"])
    done = await response.json()
    assert done["status"] == "completed" and done["completed_at"]
    again = await client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=alice["headers"])
    assert (again.status, (await again.json())["error"]["code"]) == (409, "invalid_order_status")
    history = await OrderEvent.filter(order_id=order["id"]).order_by("id").values_list("to_status", "actor")
    assert [status for status, _ in history] == ["pending_payment", "shipped", "completed"]
    assert history[1][1] == "staff:1"


async def test_orders_ship_only_when_paid_and_with_a_real_tracking_number(client, alice):
    unpaid = await (await _order(client, alice, [((await _sku("P2-W")).id, 1)])).json()
    with pytest.raises(CommerceError) as caught:
        await ship_order(
            order_id=unpaid["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:1"
        )
    assert caught.value.code == "invalid_order_status"
    paid = await _paid_order(client, alice)
    for carrier, tracking in (("", "SF1234567890"), ("顺丰速运", "12"), ("顺丰速运", "<script>")):
        with pytest.raises(CommerceError) as caught:
            await ship_order(order_id=paid["id"], carrier=carrier, tracking_no=tracking, actor="staff:1")
        assert caught.value.code == "invalid_shipment"
    assert (await Order.get(id=paid["id"])).status == "paid"


async def test_shipped_orders_complete_by_themselves_after_the_configured_days(client, alice):
    order = await _paid_order(client, alice)
    await ship_order(order_id=order["id"], carrier="中通快递", tracking_no="ZT0000000001", actor="staff:1")
    assert await complete_shipped_orders(after_days=10) == 0
    with clock.frozen(clock.now() + timedelta(days=10, minutes=1)):
        assert await complete_shipped_orders(after_days=10) == 1
    assert (await Order.get(id=order["id"])).status == "completed"


async def test_another_shopper_cannot_confirm_receipt(client, simulator, alice):
    order = await _paid_order(client, alice)
    await ship_order(order_id=order["id"], carrier="中通快递", tracking_no="ZT0000000002", actor="staff:1")
    bob = await auth_headers(client, simulator, "bob")
    assert (await client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=bob)).status == 404
    assert (await Order.get(id=order["id"])).status == "shipped"
