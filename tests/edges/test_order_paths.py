"""Orders when it is not simple: the same order sent several times at once, a checkout from a cart
with nothing (or too much) to buy, the shopper's list by status, staff pages of orders that do
not exist, and two scheduler runs at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.jobs.models import JobFailure
from commerce.orders.backoffice import BULK_SHIP_MAX_ROWS, ship_rows
from commerce.orders.models import Order, OrderEvent
from commerce.orders.services import cancel_expired_orders, complete_shipped_orders, ship_order
from commerce.staff.services import create_platform_admin
from tests.builders import PASSWORD, csrf_of, shopper_with_address, sign_in
from tests.edges.paying import pay_order, settle_outbox
from tests.factories import seed_small_catalog, sku_row


@pytest.fixture
async def alice(client, simulator) -> dict:
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def _to_cart(client, shopper: dict, sku_code: str, quantity: int = 1) -> None:
    sku = await Sku.get(sku_code=sku_code)
    added = await client.post(
        "/api/v1/cart/items", json={"sku_id": sku.id, "quantity": quantity}, headers=shopper["headers"]
    )
    assert added.status in (200, 201), await added.text()


async def _order(client, shopper: dict, *, key: str | None = None, **body):
    return await client.post(
        "/api/v1/orders",
        json={"address_id": shopper["address_id"], **body},
        headers={**shopper["headers"], "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def _placed(client, shopper: dict, sku_code: str = "P2-W") -> dict:
    sku = await Sku.get(sku_code=sku_code)
    response = await _order(client, shopper, items=[{"sku_id": sku.id, "quantity": 1}])
    assert response.status == 201, await response.text()
    return await response.json()


async def test_the_same_order_sent_several_times_at_once_is_one_order(client, alice):
    # given two units of earbuds in the cart
    await _to_cart(client, alice, "P2-W", 2)
    stock = (await Sku.get(sku_code="P2-W")).stock
    key = uuid.uuid4().hex
    # when the mini-program sends the order three times at once (a flaky network)
    answers = await asyncio.gather(*(_order(client, alice, key=key, from_cart=True) for _ in range(3)))
    # then each is answered with the same order, made once
    bodies = [await a.json() for a in answers]
    assert [a.status for a in answers] == [201, 201, 201], bodies
    assert len({b["id"] for b in bodies}) == 1
    assert await Order.all().count() == 1
    assert await OrderEvent.filter(type="created").count() == 1
    assert (await Sku.get(sku_code="P2-W")).stock == stock - 2
    cart = await (await client.get("/api/v1/cart", headers=alice["headers"])).json()
    assert cart["lines"] == []


async def test_a_checkout_from_a_cart_with_nothing_or_too_much_to_buy_is_refused(client, alice):
    # an empty cart
    empty = await _order(client, alice, from_cart=True)
    assert (empty.status, (await empty.json())["error"]["code"]) == (409, "nothing_to_checkout")
    # a cart whose only line's SKU left the catalog (its product re-imported without it) while
    # an order holds it
    rows = [
        sku_row(
            "Q1",
            f"Q1-{colour}",
            title="保温杯",
            category="家居 > 杯子 > 保温杯",
            price="59.00",
            specs=f"颜色:{colour}",
        )
        for colour in ("红", "蓝")
    ]
    assert not (await import_rows(rows)).problems
    await _placed(client, alice, "Q1-蓝")  # an order holds it: it is retired, not deleted
    await _to_cart(client, alice, "Q1-蓝")
    assert not (await import_rows(rows[:1])).problems
    assert (await Sku.get(sku_code="Q1-蓝")).retired_at is not None
    gone = await client.post("/api/v1/checkout/preview", json={"from_cart": True}, headers=alice["headers"])
    assert (gone.status, (await gone.json())["error"]["code"]) == (409, "nothing_to_checkout")
    # a cart of 51 different things: more than one order holds
    many = [
        sku_row(f"M{i}", f"M{i}-1", title=f"小商品{i}", category="家居 > 杂货 > 小物", price="1.00")
        for i in range(51)
    ]
    assert not (await import_rows(many)).problems
    for i in range(51):
        await _to_cart(client, alice, f"M{i}-1")
    too_many = await _order(client, alice, from_cart=True)
    assert (too_many.status, (await too_many.json())["error"]["code"]) == (400, "too_many_lines")
    assert await Order.all().count() == 1  # the Q1 order alone


async def test_the_shopper_lists_their_orders_by_status(client, simulator, alice):
    paid = await _placed(client, alice)
    await pay_order(client, simulator, alice["headers"], paid["id"])
    unpaid = await _placed(client, alice)
    listed = await (await client.get("/api/v1/orders", headers=alice["headers"])).json()
    assert [o["id"] for o in listed["items"]] == [unpaid["id"], paid["id"]] and listed["total"] == 2
    only_paid = await client.get("/api/v1/orders", params={"status": "paid"}, headers=alice["headers"])
    body = await only_paid.json()
    assert ([o["id"] for o in body["items"]], body["total"]) == ([paid["id"]], 1)


async def test_staff_pages_and_actions_on_an_order_that_does_not_exist_are_404(client, alice):
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    csrf = csrf_of(await (await client.get("/admin/")).text())
    assert (await client.get("/admin/orders/999999")).status == 404
    note = await client.post("/admin/orders/999999/notes", data={"csrf_token": csrf, "text": "来电"})
    assert note.status == 404
    ship = {"csrf_token": csrf, "carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    assert (await client.post("/admin/orders/999999/ship", data=ship)).status == 404
    assert await OrderEvent.all().count() == 0


async def test_two_scheduler_runs_at_once_cancel_and_complete_each_order_once(client, simulator, alice):
    # given three unpaid orders past their deadline and two shipped orders past the completion days
    unpaid = [await _placed(client, alice) for _ in range(3)]
    shipped = []
    for _ in range(2):
        order = await _placed(client, alice)
        await pay_order(client, simulator, alice["headers"], order["id"])
        await ship_order(
            order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0"
        )
        shipped.append(order)
    await settle_outbox()
    stock = (await Sku.get(sku_code="P2-W")).stock
    # when two scheduler processes run each job at the same moment
    with clock.frozen(clock.now() + timedelta(days=30)):
        cancelled = await asyncio.gather(cancel_expired_orders(), cancel_expired_orders())
        completed = await asyncio.gather(
            complete_shipped_orders(after_days=10), complete_shipped_orders(after_days=10)
        )
    # then each order moved once, the stock came back once, and the run that found an order
    # moved by the other is no failure for the platform admin to look at
    assert sum(cancelled) == 3 and sum(completed) == 2
    assert await JobFailure.all().count() == 0
    for order in unpaid:
        assert (await Order.get(id=order["id"])).status == "cancelled"
        assert await OrderEvent.filter(order_id=order["id"], to_status="cancelled").count() == 1
    for order in shipped:
        assert (await Order.get(id=order["id"])).status == "completed"
        assert await OrderEvent.filter(order_id=order["id"], to_status="completed").count() == 1
    assert (await Sku.get(sku_code="P2-W")).stock == stock + 3


async def test_a_bulk_shipment_longer_than_allowed_ships_nothing(client, simulator, alice):
    order = await _placed(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    rows = [(i + 2, order["order_no"], "顺丰速运", f"SF{i:010d}") for i in range(BULK_SHIP_MAX_ROWS + 1)]
    with pytest.raises(CommerceError) as refused:
        await ship_rows(rows=rows, merchant_id=None, actor="staff:1")
    assert refused.value.code == "invalid_shipment" and str(BULK_SHIP_MAX_ROWS) in refused.value.message
    assert (await Order.get(id=order["id"])).status == "paid"


async def test_ordering_faster_than_the_rate_limit_is_told_per_minute(client, alice):
    # given ten orders placed within a minute (five unpaid, five refused by the unpaid limit)
    codes = []
    for _ in range(10):
        sku = await Sku.get(sku_code="P2-W")
        codes.append((await _order(client, alice, items=[{"sku_id": sku.id, "quantity": 1}])).status)
    assert codes == [201] * 5 + [409] * 5
    # when the shopper tries an eleventh
    sku = await Sku.get(sku_code="P2-W")
    late = await _order(client, alice, items=[{"sku_id": sku.id, "quantity": 1}])
    # then they are told to wait, in words of the configured minute
    error = (await late.json())["error"]
    assert (late.status, error["code"]) == (429, "order_rate_limited")
    assert "每分钟最多下 10 单" in error["message"]
    assert await Order.all().count() == 5
