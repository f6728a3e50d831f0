"""A cart of two merchants' products through the real app: the preview shows a group per
merchant, and placing it makes one order each under one checkout, paid together."""

import uuid

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import sku_row


async def test_a_two_merchant_checkout_previews_and_places_one_order_per_merchant(client, simulator):
    # given tea from merchant A and coffee from merchant B, and a shopper with an address
    a, b = await ensure_merchant(code="A", name="甲店"), await ensure_merchant(code="B", name="乙店")
    await import_rows(
        [sku_row("TEA", "TEA-1", title="甲店茶叶", category="食品 > 茶", price="19.90")], merchant_id=a
    )
    await import_rows(
        [sku_row("COF", "COF-1", title="乙店咖啡", category="食品 > 咖啡", price="99.00")], merchant_id=b
    )
    tea, coffee = (await Sku.get(sku_code="TEA-1")).id, (await Sku.get(sku_code="COF-1")).id
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    body = {
        "items": [{"sku_id": tea, "quantity": 1}, {"sku_id": coffee, "quantity": 1}],
        "address_id": address["id"],
    }
    # when she previews it
    preview = await (await client.post("/api/v1/checkout/preview", json=body, headers=headers)).json()
    # then it shows a group per merchant, each with its shipping (B's ships free from 99.00)
    groups = [
        (g["merchant_id"], [line["sku_id"] for line in g["lines"]], g["shipping_fee"])
        for g in preview["groups"]
    ]
    assert groups == [(a, [tea], 1000), (b, [coffee], 0)]
    assert preview["payable"] == 1990 + 1000 + 9900 and preview["can_submit"]
    # when she places it
    key = uuid.uuid4().hex
    placed = await client.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": key})
    # then one checkout holds an order per merchant, the top-level fields are the first order's
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    checkout = order["checkout"]
    assert checkout["payable"] == preview["payable"]
    assert [o["payable"] for o in checkout["orders"]] == [2990, 9900]
    assert order["id"] == checkout["orders"][0]["id"] and order["payable"] == 2990
    assert checkout["orders"][0]["order_no"] == checkout["checkout_no"]
    # and the shopper's list shows both orders; the same key answers the same checkout
    listed = await (await client.get("/api/v1/orders", headers=headers)).json()
    assert sorted(o["id"] for o in listed["items"]) == sorted(o["id"] for o in checkout["orders"])
    again = await client.post("/api/v1/orders", json=body, headers={**headers, "Idempotency-Key": key})
    assert (await again.json())["checkout"]["id"] == checkout["id"]
