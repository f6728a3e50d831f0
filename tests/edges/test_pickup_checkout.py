"""Pickup at checkout through the mini-program API: the preview offers the points that serve
the cart, a pickup pays no shipping and needs a contact instead of an address, and the order
shows its point (and the code once staff made it ready there). Errors have stable codes."""

from __future__ import annotations

import uuid

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.fulfilment import services as fulfilment
from tests.builders import CABLE, shopper_with_address
from tests.edges.checkouts import OTHER_SKU, two_order_checkout
from tests.edges.paying import pay_order, settle_outbox, sim
from tests.factories import seed_small_catalog

CONTACT = {"name": "李四", "phone": "13900139000"}


async def _shop(client, simulator) -> tuple[dict, int, dict[str, int]]:
    """(a shopper, the cable's merchant, points: own / platform / closed / another's)."""
    await seed_small_catalog()
    await import_rows([CABLE])
    shopper = await shopper_with_address(client, simulator)
    cable = await Sku.get(sku_code="P9-1").prefetch_related("product")
    merchant = cable.product.merchant_id
    points = {
        "own": await fulfilment.create_pickup_point(
            name="本店门店", address="人民路 1 号", merchant_id=merchant
        ),
        "platform": await fulfilment.create_pickup_point(
            name="平台驿站", address="中心路 9 号", merchant_id=None, opening_hours="每天 9:00-21:00"
        ),
        "closed": await fulfilment.create_pickup_point(name="已关门", address="旧路 3 号", merchant_id=None),
        "other": await fulfilment.create_pickup_point(
            name="别家店", address="别处", merchant_id=merchant + 100
        ),
    }
    await fulfilment.set_pickup_point_active(
        point_id=points["closed"].id, staff_merchant_id=None, active=False, actor="t"
    )
    return shopper, merchant, {name: point.id for name, point in points.items()}


async def _cable(count: int = 1) -> list[dict]:
    return [{"sku_id": (await Sku.get(sku_code="P9-1")).id, "quantity": count}]


async def _preview(client, shopper: dict, body: dict):
    return await client.post("/api/v1/checkout/preview", json=body, headers=shopper["headers"])


async def _place(client, shopper: dict, body: dict):
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def test_the_preview_offers_the_points_serving_the_cart_and_a_pickup_pays_no_shipping(
    client, simulator
):
    # given a cable (29.90: below free shipping) and pickup points of all kinds
    shopper, _, points = await _shop(client, simulator)
    items = await _cable()
    # when the shopper previews delivery
    delivered = await _preview(client, shopper, {"items": items, "address_id": shopper["address_id"]})
    assert delivered.status == 200, await delivered.text()
    body = await delivered.json()
    # then the merchant's own and the platform's open points are offered, and shipping is charged
    assert body["fulfilment"] == {"kind": "express", "pickup_point": None}
    assert body["pickup_points"] == [
        {"id": points["own"], "name": "本店门店", "address": "人民路 1 号", "opening_hours": ""},
        {
            "id": points["platform"],
            "name": "平台驿站",
            "address": "中心路 9 号",
            "opening_hours": "每天 9:00-21:00",
        },
    ]
    assert body["shipping_fee"] > 0
    # when they preview pickup at the platform's point with a contact
    pickup = {"kind": "pickup", "pickup_point_id": points["platform"]}
    chosen = await _preview(client, shopper, {"items": items, "fulfilment": pickup, "contact": CONTACT})
    body = await chosen.json()
    # then no shipping, the point is echoed, and the contact stands in for the address
    assert body["shipping_fee"] == 0 and body["payable"] == body["items_total"] == 2990
    assert body["fulfilment"]["kind"] == "pickup" and body["fulfilment"]["pickup_point"]["name"] == "平台驿站"
    assert body["address"]["receiver_name"] == "李四" and body["address"]["province"] == ""
    assert body["can_submit"] is True


async def test_a_cart_of_two_merchants_is_offered_only_the_platforms_points(client, simulator):
    # given a cart of the platform shop's goods and merchant B's tea
    shopper, _, points = await _shop(client, simulator)
    await two_order_checkout(client, shopper)  # brings merchant B's tea into the catalog
    items = [*await _cable(), {"sku_id": (await Sku.get(sku_code=OTHER_SKU)).id, "quantity": 1}]
    preview = await (
        await _preview(client, shopper, {"items": items, "address_id": shopper["address_id"]})
    ).json()
    assert [p["id"] for p in preview["pickup_points"]] == [points["platform"]]
    # when the shopper chooses the first merchant's own point: refused, with a stable code
    pickup = {"kind": "pickup", "pickup_point_id": points["own"]}
    refused = await _place(client, shopper, {"items": items, "fulfilment": pickup, "contact": CONTACT})
    assert refused.status == 400
    error = (await refused.json())["error"]
    assert error["code"] == "pickup_point_not_serving" and "自提点" in error["message"]
    # when they choose the platform's: two orders, both awaiting there, no shipping
    pickup = {"kind": "pickup", "pickup_point_id": points["platform"]}
    placed = await _place(client, shopper, {"items": items, "fulfilment": pickup, "contact": CONTACT})
    assert placed.status == 201, await placed.text()
    orders = (await placed.json())["checkout"]["orders"]
    assert len(orders) == 2
    assert all(o["shipping_fee"] == 0 and o["fulfilment"]["status"] == "awaiting" for o in orders)


async def test_a_pickup_order_shows_its_point_then_its_code_once_ready_and_its_shopper_is_told(
    client, simulator
):
    # given a pickup order at the merchant's own point, collected by the address's receiver
    # (a shopper who follows the official account)
    shopper, merchant, points = await _shop(client, simulator)
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    pickup = {"kind": "pickup", "pickup_point_id": points["own"]}
    placed = await _place(
        client, shopper, {"items": await _cable(), "fulfilment": pickup, "address_id": shopper["address_id"]}
    )
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    # then it shows the point and no code yet
    assert order["shipping_fee"] == 0 and order["address"]["detail"] == ""
    assert order["fulfilment"] == {
        "kind": "pickup",
        "status": "awaiting",
        "carrier": "",
        "tracking_no": "",
        "pickup_point_id": points["own"],
        "pickup_point_name": "本店门店",
        "pickup_point_address": "人民路 1 号",
        "pickup_point_hours": "",
        "pickup_code": "",
    }
    # when it is paid and the merchant's staff make it ready at its point
    await pay_order(client, simulator, shopper["headers"], order["id"])
    ready = await fulfilment.mark_ready_for_pickup(
        order_id=order["id"], merchant_id=merchant, actor="staff:1"
    )
    # then the shopper sees the code to show there
    shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=shopper["headers"])).json()
    assert shown["status"] == "paid" and shown["fulfilment"]["status"] == "ready"
    assert shown["fulfilment"]["pickup_code"] == ready.pickup_code and ready.pickup_code.isdigit()
    # and the official account tells them where, without the code
    await settle_outbox()
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    [notice] = [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]
    assert order["order_no"] in notice and "本店门店" in notice and ready.pickup_code not in notice


async def test_a_pickup_choice_is_refused_with_stable_codes(client, simulator):
    shopper, _, points = await _shop(client, simulator)
    items = await _cable()

    async def code_of(body: dict, status: int) -> str:
        response = await _place(client, shopper, {"items": items, **body})
        assert response.status == status, await response.text()
        return (await response.json())["error"]["code"]

    pickup = {"kind": "pickup", "pickup_point_id": points["platform"]}
    assert await code_of({"fulfilment": pickup}, 400) == "pickup_contact_required"
    closed = {"kind": "pickup", "pickup_point_id": points["closed"]}
    assert await code_of({"fulfilment": closed, "contact": CONTACT}, 404) == "pickup_point_not_found"
    other = {"kind": "pickup", "pickup_point_id": points["other"]}
    assert await code_of({"fulfilment": other, "contact": CONTACT}, 400) == "pickup_point_not_serving"
    # malformed choices never reach the core
    assert await code_of({"fulfilment": {"kind": "pickup"}, "contact": CONTACT}, 400) == "invalid_request"
    assert (
        await code_of({"fulfilment": {"kind": "none"}, "address_id": shopper["address_id"]}, 400)
        == "invalid_request"
    )
    bad_phone = {"name": "李四", "phone": "12345"}
    assert await code_of({"fulfilment": pickup, "contact": bad_phone}, 400) == "invalid_request"
    # and delivery still needs an address
    assert await code_of({"fulfilment": {"kind": "express"}}, 400) == "address_required"


async def test_the_openapi_document_describes_the_choice(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert {"fulfilment", "contact", "address_id"} <= set(schemas["CheckoutIn"]["properties"])
    assert set(schemas["FulfilmentIn"]["properties"]) == {"kind", "pickup_point_id"}
    assert {"pickup_points", "fulfilment"} <= set(schemas["PreviewOut"]["properties"])
    assert "pickup_point_hours" in schemas["FulfilmentOut"]["properties"]
