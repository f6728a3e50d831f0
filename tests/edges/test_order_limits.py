"""Order limits through the real app: one shopper cannot hoard stock with unpaid orders or
place orders without pause, and an order's money stays within what WeChat Pay takes and what
the columns hold."""

import asyncio
import uuid

import pytest
from tortoise.transactions import in_transaction

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.orders.models import Order, OrderEvent, OrderLine
from commerce.outbox import OutboxEvent
from commerce.payments.models import Payment, Refund
from commerce.users.services import lock_shopper
from shop.app import create_app
from tests.builders import shopper_with_address
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, pay_order
from tests.factories import seed_small_catalog, sku_row

# Four of the demo catalog's dearest SKUs: at full stock they add up to ¥26,462,123.10, more
# than an INT column holds (¥21,474,836.47) and more than WeChat Pay takes in one payment.
DEAR = [
    ("DEAR-1", "16471.90", 415),
    ("DEAR-2", "23444.90", 291),
    ("DEAR-3", "18301.90", 351),
    ("DEAR-4", "17623.90", 362),
]
DEAR_TOTAL = 2_646_212_310  # fen


async def _order(client, shopper, items, key=None):
    headers = {**shopper["headers"], "Idempotency-Key": key or uuid.uuid4().hex}
    body = {"items": [{"sku_id": s, "quantity": q} for s, q in items], "address_id": shopper["address_id"]}
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def _error(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def _sku(code: str) -> Sku:
    return await Sku.get(sku_code=code)


async def _client_with(aiohttp_client, wired_settings, app_port, **updates):
    app = create_app(wired_settings.model_copy(update=updates), mount_simulator=False)
    return await aiohttp_client(app, server_kwargs={"port": app_port})


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def test_a_shopper_holds_at_most_five_unpaid_orders(client, alice):
    buds = await _sku("P2-W")  # 30 in stock
    # given five unpaid orders
    placed = [await _order(client, alice, [(buds.id, 1)]) for _ in range(5)]
    assert [r.status for r in placed] == [201] * 5
    # when the shopper places a sixth
    sixth = await _order(client, alice, [(buds.id, 1)])
    # then it is refused clearly and nothing more is reserved
    assert await _error(sixth) == (409, "too_many_unpaid_orders")
    assert "5" in (await sixth.json())["error"]["message"]
    assert (await _sku("P2-W")).stock == 25
    assert await Order.all().count() == 5
    # but the app's retry of an order already placed still answers that order
    first = await placed[0].json()
    key = (await Order.get(id=first["id"])).idempotency_key
    again = await _order(client, alice, [(buds.id, 1)], key=key)
    assert (again.status, (await again.json())["id"]) == (201, first["id"])
    # and once one is cancelled, there is room for another
    await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=alice["headers"])
    assert (await _order(client, alice, [(buds.id, 1)])).status == 201


async def test_a_shopper_reserves_at_most_ten_units_of_a_sku_unpaid(client, alice):
    buds, phone = await _sku("P2-W"), await _sku("P1-B128")
    # given ten units of the earbuds in unpaid orders
    assert (await _order(client, alice, [(buds.id, 6)])).status == 201
    assert (await _order(client, alice, [(buds.id, 4)])).status == 201
    # when the shopper asks for one more, alone or with another SKU
    more = await _order(client, alice, [(buds.id, 1)])
    mixed = await _order(client, alice, [(phone.id, 1), (buds.id, 1)])
    # then both are refused, naming the SKU, and nothing more is reserved
    assert await _error(more) == (409, "unpaid_quantity_limit")
    body = await mixed.json()
    assert (mixed.status, body["error"]["code"]) == (409, "unpaid_quantity_limit")
    assert body["error"]["details"] == [{"sku_id": buds.id, "limit": 10, "unpaid": 10, "wanted": 1}]
    assert ((await _sku("P2-W")).stock, (await _sku("P1-B128")).stock) == (20, 5)
    # another SKU is its own count
    assert (await _order(client, alice, [(phone.id, 1)])).status == 201
    # and a paid order no longer counts as reserved-but-unpaid
    first = await Order.filter(status="pending_payment").order_by("id").first()
    await Order.filter(id=first.id).update(status="paid")
    assert (await _order(client, alice, [(buds.id, 6)])).status == 201


async def test_one_order_above_the_unit_limit_is_refused(client, alice):
    buds = await _sku("P2-W")
    response = await _order(client, alice, [(buds.id, 11)])
    assert await _error(response) == (409, "unpaid_quantity_limit")
    assert (await _sku("P2-W")).stock == 30
    assert await Order.all().count() == 0


async def test_order_creation_is_rate_limited_per_shopper(
    aiohttp_client, simulator, wired_settings, app_port, empty_database, empty_redis
):
    # given a shop taking 3 orders per shopper in a 1-second window
    client = await _client_with(
        aiohttp_client, wired_settings, app_port, order_rate_limit=3, order_rate_window_seconds=1
    )
    await seed_small_catalog()
    alice, bob = (
        await shopper_with_address(client, simulator, "alice"),
        await shopper_with_address(client, simulator, "bob"),
    )
    buds = await _sku("P2-W")
    placed = [await _order(client, alice, [(buds.id, 1)]) for _ in range(3)]
    assert [r.status for r in placed] == [201] * 3
    # when alice places a fourth within the window
    fourth = await _order(client, alice, [(buds.id, 1)])
    # then it is refused with 429, nothing is reserved, and bob is not affected
    assert await _error(fourth) == (429, "order_rate_limited")
    assert (await _sku("P2-W")).stock == 27
    assert (await _order(client, bob, [(buds.id, 1)])).status == 201
    # the app's retry of a placed order is no new order: it is answered, not refused
    key = (await Order.get(id=(await placed[0].json())["id"])).idempotency_key
    assert (await _order(client, alice, [(buds.id, 1)], key=key)).status == 201
    # and after the window, alice may order again
    await asyncio.sleep(1.1)
    assert (await _order(client, alice, [(buds.id, 1)])).status == 201


async def test_a_key_sent_again_after_its_window_returns_its_order(
    aiohttp_client, simulator, wired_settings, app_port, empty_database, empty_redis
):
    # given a shop taking 2 orders per shopper in a 1-second window, and alice's order
    client = await _client_with(
        aiohttp_client, wired_settings, app_port, order_rate_limit=2, order_rate_window_seconds=1
    )
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator, "alice")
    buds = await _sku("P2-W")
    key = uuid.uuid4().hex
    first = await _order(client, alice, [(buds.id, 1)], key=key)
    assert first.status == 201
    # when the app sends that order again once its window is over (the rate count forgot it)
    await asyncio.sleep(1.1)
    again = await _order(client, alice, [(buds.id, 1)], key=key)
    # then the answer is that order, and nothing more is reserved
    assert again.status == 201 and (await again.json())["id"] == (await first.json())["id"]
    assert (await _sku("P2-W")).stock == 29
    # and in a later window, with alice at the limit, the same key is answered, not refused
    await asyncio.sleep(1.1)
    assert [(await _order(client, alice, [(buds.id, 1)])).status for _ in range(2)] == [201, 201]
    late = await _order(client, alice, [(buds.id, 1)], key=key)
    assert late.status == 201 and (await late.json())["id"] == (await first.json())["id"]
    assert await _error(await _order(client, alice, [(buds.id, 1)])) == (429, "order_rate_limited")
    assert await Order.all().count() == 3 and (await _sku("P2-W")).stock == 27


async def _seed_dear() -> list[int]:
    rows = [
        sku_row(code, code, title=f"高端相机 {code}", category="数码 > 相机 > 单反", price=price, stock=stock)
        for code, price, stock in DEAR
    ]
    report = await import_rows(rows)
    assert not report.problems, report.problems
    return [(await _sku(code)).id for code, _, _ in DEAR]


async def test_a_payable_above_the_maximum_is_refused_before_anything_is_reserved(client, simulator):
    # given four dear SKUs, and a shopper who puts their whole stock in one checkout
    skus = await _seed_dear()
    alice = await shopper_with_address(client, simulator, "alice")
    items = [(sku_id, stock) for sku_id, (_, _, stock) in zip(skus, DEAR, strict=True)]
    outbox_before = await OutboxEvent.all().count()
    # when the shopper previews it, then the preview says it cannot be submitted, and why
    body = {"items": [{"sku_id": s, "quantity": q} for s, q in items], "address_id": alice["address_id"]}
    preview = await (
        await client.post("/api/v1/checkout/preview", json=body, headers=alice["headers"])
    ).json()
    assert preview["payable"] == DEAR_TOTAL and preview["can_submit"] is False
    assert preview["order_problem"]["code"] == "payable_too_large"
    assert "10000000.00" in preview["order_problem"]["message"]
    # when the shopper submits it anyway
    response = await _order(client, alice, items)
    # then a clear refusal (no 500), and nothing reserved or recorded anywhere
    assert await _error(response) == (400, "payable_too_large")
    assert [(await _sku(code)).stock for code, _, _ in DEAR] == [stock for _, _, stock in DEAR]
    assert await Order.all().count() == 0
    assert await OrderLine.all().count() == 0
    assert await OrderEvent.all().count() == 0
    assert await OutboxEvent.all().count() == outbox_before


async def test_orders_beyond_what_an_int_holds_are_stored_exactly(
    aiohttp_client, simulator, wired_settings, app_port, empty_database, empty_redis
):
    # given a shop that takes any payable and any quantity (the columns must hold it)
    client = await _client_with(
        aiohttp_client,
        wired_settings,
        app_port,
        order_max_payable_fen=10**12,
        order_max_unpaid_quantity_per_sku=1000,
    )
    skus = await _seed_dear()
    alice = await shopper_with_address(client, simulator, "alice")
    items = [(sku_id, stock) for sku_id, (_, _, stock) in zip(skus, DEAR, strict=True)]
    # when the shopper orders the whole stock of all four, pays, and asks for the money back
    response = await _order(client, alice, items)
    assert response.status == 201, await response.text()
    order = await response.json()
    await pay_order(client, simulator, alice["headers"], order["id"])
    refund = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert refund.status == 201, await refund.text()

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "closed"

    await eventually(refunded)
    # then the order, its lines, its payment and its refund keep every fen
    assert (order["items_total"], order["payable"]) == (DEAR_TOTAL, DEAR_TOTAL)
    stored = await Order.get(id=order["id"])
    assert (stored.items_total, stored.payable) == (DEAR_TOTAL, DEAR_TOTAL)
    line_totals = await OrderLine.filter(order_id=order["id"]).values_list("line_total", flat=True)
    assert sum(line_totals) == DEAR_TOTAL
    assert await Payment.filter(checkout__orders__id=order["id"]).values_list("amount", flat=True) == [
        DEAR_TOTAL
    ]
    assert await Refund.filter(order_id=order["id"]).values_list("amount", flat=True) == [DEAR_TOTAL]


@needs_real_database
async def test_one_shopper_racing_themself_stays_within_the_caps(
    aiohttp_client, simulator, wired_settings, app_port, empty_database, empty_redis
):
    # given a shopper not slowed by the rate limit
    client = await _client_with(aiohttp_client, wired_settings, app_port, order_rate_limit=1000)
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator, "alice")
    buds = await _sku("P2-W")  # 30 in stock
    # when 20 orders of one unit arrive at once
    responses = await asyncio.gather(*(_order(client, alice, [(buds.id, 1)]) for _ in range(20)))
    # then exactly five are placed, and the others are refused by the cap
    statuses = sorted([r.status for r in responses])
    assert statuses == [201] * 5 + [409] * 15
    assert {(await r.json())["error"]["code"] for r in responses if r.status == 409} == {
        "too_many_unpaid_orders"
    }
    assert await Order.filter(status="pending_payment").count() == 5
    assert (await _sku("P2-W")).stock == 25
    # when they are cancelled and 12 orders of 3 units race for the per-SKU cap of 10
    for order_id in await Order.all().values_list("id", flat=True):
        await client.post(f"/api/v1/orders/{order_id}/cancel", headers=alice["headers"])
    responses = await asyncio.gather(*(_order(client, alice, [(buds.id, 3)]) for _ in range(12)))
    # then exactly three are placed (9 units)
    assert sorted([r.status for r in responses]) == [201] * 3 + [409] * 9
    assert (await _sku("P2-W")).stock == 21


@needs_real_database
async def test_the_same_key_racing_at_the_cap_returns_the_one_order(client, alice):
    buds = await _sku("P2-W")
    for _ in range(4):
        assert (await _order(client, alice, [(buds.id, 1)])).status == 201
    # when the app sends its fifth order ten times at once with one key
    key = uuid.uuid4().hex
    responses = await asyncio.gather(*(_order(client, alice, [(buds.id, 1)], key=key) for _ in range(10)))
    # then every answer is that one order, not a refusal by the cap
    assert [r.status for r in responses] == [201] * 10
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert await Order.all().count() == 5
    assert (await _sku("P2-W")).stock == 25


@needs_real_database
async def test_shoppers_do_not_wait_for_each_other(client, simulator, alice):
    buds = await _sku("P2-W")
    bob = await shopper_with_address(client, simulator, "bob")
    # given alice's row is held by a transaction of hers still running
    async with in_transaction() as conn:
        await lock_shopper(conn, user_id=alice["user_id"])
        alices = asyncio.create_task(_order(client, alice, [(buds.id, 1)]))
        # when bob orders meanwhile, then he is served at once while alice's order waits
        bobs = await asyncio.wait_for(_order(client, bob, [(buds.id, 1)]), timeout=5)
        assert bobs.status == 201
        await asyncio.sleep(0.2)
        assert not alices.done()
    # and alice's order goes through once her row is free
    assert (await alices).status == 201
