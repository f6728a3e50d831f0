"""Events reach each subscriber of the service's table once: a failing subscriber is retried
alone, so WeChat never hears twice what another subscriber of the same event already told it;
rows written before events were typed still reach WeChat after the upgrade."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tortoise.transactions import in_transaction

from commerce import clock, outbox
from commerce.catalog.models import Sku
from commerce.orders.events import OrderStatusChanged
from commerce.orders.services import ship_in, ship_order
from commerce.orders.states import OrderStatus
from commerce.outbox import OutboxDelivery, OutboxEvent, Subscriber, Subscriptions
from shop.app import CORE
from shop.subscriptions import subscribers
from tests.edges.paying import eventually, pay_order, sim
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog

UPLOAD = "upload_shipping_info"


async def _paid_order(client, simulator) -> dict:
    """A shopper's order, paid through the simulated WeChat Pay (its status change to paid
    delivered to everyone who listens)."""
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    sku = await Sku.get(sku_code="P2-W")
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address["id"]}
    created = await client.post(
        "/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert created.status == 201, await created.text()
    order = await created.json()
    await pay_order(client, simulator, headers, order["id"])
    await eventually(lambda: _all_delivered())
    return order


async def _all_delivered() -> bool:
    return not await OutboxEvent.filter(delivered_at=None).exists()


async def _uploads(simulator) -> int:
    """How many shipping uploads reached WeChat (refused or not)."""
    _, state = await sim(simulator, "GET", "/wx/state")
    return state["calls"].get(UPLOAD, 0)


async def _deliveries(event_id: int) -> dict[str, tuple[int, bool]]:
    rows = await OutboxDelivery.filter(event_id=event_id).values_list(
        "subscriber", "attempts", "delivered_at"
    )
    return {name: (attempts, delivered is not None) for name, attempts, delivered in rows}


async def test_a_failing_subscriber_is_retried_alone_and_wechat_hears_of_the_shipment_once(client, simulator):
    # given a paid order, and beside the service's subscribers one more listener of shipments
    # that fails at first (think: a notification service that is down)
    order = await _paid_order(client, simulator)
    heard: list[OrderStatusChanged] = []

    async def notify(event: OrderStatusChanged) -> None:
        heard.append(event)
        if len(heard) == 1:
            raise ConnectionError("notification service down")

    listener = Subscriber(
        "test.notify", OrderStatusChanged, notify, when=lambda e: e.to_status is OrderStatus.SHIPPED
    )
    outbox.install(Subscriptions([*subscribers(client.server.app[CORE]), listener]))
    uploads_before = await _uploads(simulator)
    # when the merchant ships it (the clock stands still: no relay pass ends the backoff early)
    with clock.frozen(clock.now()) as frozen:
        await ship_order(
            order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0"
        )
        # then WeChat has the shipping upload, and the failing listener waits for its backoff
        shipped = await OutboxEvent.filter(topic="order.status_changed").order_by("-id").first()
        assert shipped is not None and shipped.payload["to"] == "shipped"
        assert await _uploads(simulator) == uploads_before + 1
        assert await _deliveries(shipped.id) == {
            "shipping.upload_shipping_info": (1, True),
            "test.notify": (1, False),
        }
        assert "notification service down" in (await OutboxEvent.get(id=shipped.id)).last_error
        # when the relay passes after the backoff
        frozen.advance(timedelta(seconds=5))
        await eventually(_all_delivered)
    # then WeChat was not asked again, and the listener had it on its second attempt
    assert await _uploads(simulator) == uploads_before + 1
    assert len(heard) == 2 and heard[-1].order_id == order["id"]
    assert await _deliveries(shipped.id) == {
        "shipping.upload_shipping_info": (1, True),
        "test.notify": (2, True),
    }


async def test_a_shipment_announced_before_the_upgrade_still_reaches_wechat(client, simulator):
    # given a shipped order whose announcement the previous version wrote and had not delivered
    # (its row as it wrote it: plain topic and payload, tried before, no delivery rows)
    order = await _paid_order(client, simulator)
    uploads_before = await _uploads(simulator)
    async with in_transaction() as conn:
        typed = await ship_in(
            conn, order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0"
        )
        await OutboxEvent.filter(id=typed.id).using_db(conn).delete()
        old = await OutboxEvent.create(
            topic="order.status_changed",
            payload={"order_id": order["id"], "from": "paid", "to": "shipped"},
            created_at=clock.now(),
            available_at=clock.now(),
            attempts=3,
            last_error="ClientConnectorError()",
            using_db=conn,
        )
    # when the relay passes
    await eventually(_all_delivered)
    # then WeChat has the shipping upload, once
    assert await _uploads(simulator) == uploads_before + 1
    assert await _deliveries(old.id) == {"shipping.upload_shipping_info": (1, True)}
    _, pay = await sim(simulator, "GET", "/wx/state")
    assert pay["shipping_uploads"] == 1
