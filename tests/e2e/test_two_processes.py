"""Two real `shop serve` processes on one MariaDB and one Redis, as behind a load balancer:
shoppers race for the last units of a SKU through both, and WeChat Pay's duplicate
notifications for the same orders reach both at once. Nothing held in one process's memory
can make this pass: only the database and Redis are shared."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import aiohttp
from tortoise import Tortoise

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from commerce.config import load_settings
from commerce.db import tortoise_config
from commerce.orders.models import Order, OrderEvent
from commerce.outbox import OutboxEvent
from commerce.payments.models import Payment, Refund
from shop.app import with_simulated_merchant
from tests.builders import genuine_pay_notification
from tests.concurrency import needs_real_database
from tests.e2e.serving import free_port, serving, shop_env
from tests.edges.shoppers import ADDRESS
from tests.factories import sku_row

pytestmark = needs_real_database

STOCK = 8
SHOPPERS = 30
COPIES = 3  # of each notification, to each process


async def test_two_processes_sell_the_last_units_once_and_take_each_payment_once(tmp_path, shop_services):
    # given a schema, one SKU with its last 8 units, and two processes sharing data folder,
    # database and Redis (B's WeChat is A's simulator, as both would share WeChat)
    data_dir = tmp_path / "var"
    port_a, port_b = free_port(), free_port()
    env = {**shop_env(data_dir, shop_services), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port_a}"}
    await Tortoise.init(config=tortoise_config(env["DATABASE_URL"]))
    try:
        await Tortoise.generate_schemas()
        row = sku_row(
            "LAST", "LAST-1", title="限量耳机", category="数码 > 耳机 > 蓝牙耳机", price="99.00", stock=STOCK
        )
        assert not (await import_rows([row])).problems
        sku = await Sku.get(sku_code="LAST-1")
        with serving(env, port_a) as a, serving(env, port_b) as b:
            async with aiohttp.ClientSession() as http:
                shoppers = await asyncio.gather(
                    *(_shopper(http, a, [a, b][n % 2], n) for n in range(SHOPPERS))
                )
                # when 30 shoppers order one unit each at the same moment, half through each process
                answers = await asyncio.gather(*(_order(http, s, sku.id) for s in shoppers))
                # then exactly the 8 units were sold, the rest told it is gone
                statuses = Counter(status for status, _ in answers)
                assert statuses == {201: STOCK, 409: SHOPPERS - STOCK}, statuses
                assert {body["error"]["code"] for status, body in answers if status == 409} == {
                    "out_of_stock"
                }
                sold = [
                    (s, body) for s, (status, body) in zip(shoppers, answers, strict=True) if status == 201
                ]
                assert (await Sku.get(id=sku.id)).stock == 0
                assert (await Product.get(id=sku.product_id)).total_stock == 0
                assert await Order.all().count() == STOCK

                # when WeChat Pay notifies each payment several times, to both processes at once
                notices = [
                    await _paid_notice(http, data_dir, s, order, n) for n, (s, order) in enumerate(sold)
                ]
                deliveries = [
                    http.post(f"{base}/pay/wechat/notify", data=body, headers=headers)
                    for headers, body in notices
                    for base in (a, b)
                    for _ in range(COPIES)
                ]
                acknowledged = await asyncio.gather(*(_status(d) for d in deliveries))
        # then every copy was acknowledged, and each order was paid exactly once
        assert Counter(acknowledged) == {204: len(deliveries)} or set(acknowledged) <= {200, 204}
        for _, order in sold:
            payments = await Payment.filter(checkout__orders__id=order["id"]).values_list(
                "status", "transaction_id"
            )
            assert len(payments) == 1 and payments[0][0] == "paid"
            paid_events = await OrderEvent.filter(order_id=order["id"], to_status="paid").count()
            assert paid_events == 1
            assert (await Order.get(id=order["id"])).status == "paid"
        assert await Refund.all().count() == 0  # nothing taken twice, so nothing to give back
        announced = [
            e.payload["order_id"]
            for e in await OutboxEvent.filter(topic="order.status_changed")
            if e.payload.get("to") == "paid"
        ]
        assert sorted(announced) == sorted(order["id"] for _, order in sold)
    finally:
        await Tortoise.close_connections()


async def _shopper(http: aiohttp.ClientSession, simulator_base: str, base: str, n: int) -> dict:
    """A shopper of the process at `base`, logged in through WeChat (A's simulator), with an address."""
    async with http.post(f"{simulator_base}/_sim/wx/login-code", json={"user": f"racer{n}"}) as response:
        code = (await response.json())["code"]
    async with http.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
        assert response.status == 200, await response.text()
        headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    async with http.post(f"{base}/api/v1/addresses", json=ADDRESS, headers=headers) as response:
        assert response.status == 201, await response.text()
        return {"base": base, "headers": headers, "address_id": (await response.json())["id"]}


async def _order(http: aiohttp.ClientSession, shopper: dict, sku_id: int) -> tuple[int, dict]:
    body = {"items": [{"sku_id": sku_id, "quantity": 1}], "address_id": shopper["address_id"]}
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    async with http.post(f"{shopper['base']}/api/v1/orders", json=body, headers=headers) as response:
        return response.status, await response.json()


async def _paid_notice(http, data_dir, shopper: dict, order: dict, n: int) -> tuple[dict, bytes]:
    """The shopper asks to pay; WeChat Pay's (the simulator's key) notification that they did."""
    async with http.post(
        f"{shopper['base']}/api/v1/orders/{order['id']}/pay", headers=shopper["headers"]
    ) as r:
        assert r.status == 200, await r.text()
    settings = with_simulated_merchant(load_settings(shop_data_dir=data_dir, wechat_mode="simulator"))
    return await genuine_pay_notification(data_dir, settings, order, f"4200000000202612060000{n:06d}")


async def _status(request) -> int:
    async with request as response:
        await response.read()
        return response.status
