"""Cart, addresses and checkout preview through the real app: each shopper sees only their own."""

import asyncio

import pytest

from commerce.catalog import services as catalog
from commerce.catalog.models import Sku
from commerce.catalog.states import ProductStatus
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await auth_headers(client, simulator, "alice")


async def _sku(code: str) -> int:
    return (await Sku.get(sku_code=code)).id


async def _add(client, headers, sku_id: int, quantity: int = 1):
    return await client.post(
        "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=headers
    )


async def test_a_shopper_fills_and_edits_the_cart(client, alice):
    iphone, buds = await _sku("P1-B128"), await _sku("P2-W")
    # adding the same SKU twice makes one line
    assert (await _add(client, alice, iphone)).status == 200
    response = await _add(client, alice, iphone, 2)
    cart = await response.json()
    assert [(line["sku_id"], line["quantity"]) for line in cart["lines"]] == [(iphone, 3)]
    assert cart["selected_total"] == 3 * 599900
    await _add(client, alice, buds, 2)
    cart = await (await client.get("/api/v1/cart", headers=alice)).json()
    assert [line["sku_id"] for line in cart["lines"]] == [buds, iphone]  # newest first
    assert (cart["selected_quantity"], cart["selected_total"]) == (5, 3 * 599900 + 2 * 79900)
    buds_line = cart["lines"][0]["id"]
    # deselect the earphones: they leave the total
    response = await client.patch(f"/api/v1/cart/items/{buds_line}", json={"selected": False}, headers=alice)
    cart = await response.json()
    assert (cart["selected_quantity"], cart["selected_total"]) == (3, 3 * 599900)
    # change a quantity, then remove the line
    response = await client.patch(f"/api/v1/cart/items/{buds_line}", json={"quantity": 4}, headers=alice)
    assert (await response.json())["lines"][0]["quantity"] == 4
    empty_patch = await client.patch(f"/api/v1/cart/items/{buds_line}", json={}, headers=alice)
    assert empty_patch.status == 400
    response = await client.delete(f"/api/v1/cart/items/{buds_line}", headers=alice)
    assert [line["sku_id"] for line in (await response.json())["lines"]] == [iphone]
    assert (await client.delete(f"/api/v1/cart/items/{buds_line}", headers=alice)).status == 404


async def test_lines_show_when_they_can_no_longer_be_bought(client, alice):
    iphone = await _sku("P1-B128")  # 5 in stock
    await _add(client, alice, iphone, 5)
    await Sku.filter(id=iphone).update(stock=3)
    line = (await (await client.get("/api/v1/cart", headers=alice)).json())["lines"][0]
    assert (line["state"], line["buyable"], line["stock"]) == ("exceeds_stock", False, 3)
    product = (await Sku.get(id=iphone)).product_id
    await catalog.change_product_status(product_id=product, new_status=ProductStatus.OFF_SHELF)
    cart = await (await client.get("/api/v1/cart", headers=alice)).json()
    assert cart["lines"][0]["state"] == "off_shelf" and cart["selected_total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku_id": 999999, "quantity": 1}, 404, "sku_not_found"),
        ({"sku_id": "P1", "quantity": 1}, 400, "invalid_request"),
        ({"sku_id": 1, "quantity": 0}, 400, "invalid_request"),
        ({"sku_id": 1, "quantity": -3}, 400, "invalid_request"),
        ({"sku_id": 1, "quantity": 1000}, 400, "invalid_request"),
        ({"sku_id": 1}, 400, "invalid_request"),
    ],
)
async def test_bad_cart_input_gets_a_clear_4xx(client, alice, body, status, code):
    response = await client.post("/api/v1/cart/items", json=body, headers=alice)
    assert (response.status, (await response.json())["error"]["code"]) == (status, code)


async def test_unbuyable_skus_cannot_be_added(client, alice):
    sold_out = await _sku("P3-5KG")
    response = await _add(client, alice, sold_out)
    assert (response.status, (await response.json())["error"]["code"]) == (409, "out_of_stock")
    response = await _add(client, alice, await _sku("P1-B128"), 6)  # only 5 left
    assert "最多可买 5 件" in (await response.json())["error"]["message"]
    draft = await _add(client, alice, await _sku("P4-1"))
    assert (await draft.json())["error"]["code"] == "not_on_sale"


async def test_concurrent_adds_of_one_sku_sum_up(client, alice):
    buds = await _sku("P2-W")  # 30 in stock
    responses = await asyncio.gather(*(_add(client, alice, buds, 2) for _ in range(8)))
    assert {r.status for r in responses} == {200}
    cart = await (await client.get("/api/v1/cart", headers=alice)).json()
    assert [(line["sku_id"], line["quantity"]) for line in cart["lines"]] == [(buds, 16)]


async def test_another_shoppers_cart_line_and_address_are_not_found(client, simulator, alice):
    await _add(client, alice, await _sku("P2-W"))
    line_id = (await (await client.get("/api/v1/cart", headers=alice)).json())["lines"][0]["id"]
    address_id = (await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json())["id"]
    bob = await auth_headers(client, simulator, "bob")
    assert (
        await client.patch(f"/api/v1/cart/items/{line_id}", json={"quantity": 2}, headers=bob)
    ).status == 404
    assert (await client.delete(f"/api/v1/cart/items/{line_id}", headers=bob)).status == 404
    assert (await client.put(f"/api/v1/addresses/{address_id}", json=ADDRESS, headers=bob)).status == 404
    assert (await client.delete(f"/api/v1/addresses/{address_id}", headers=bob)).status == 404
    preview = await client.post(
        "/api/v1/checkout/preview",
        json={"items": [{"sku_id": await _sku("P2-W"), "quantity": 1}], "address_id": address_id},
        headers=bob,
    )
    assert (preview.status, (await preview.json())["error"]["code"]) == (404, "address_not_found")
    assert (await (await client.get("/api/v1/cart", headers=bob)).json())["lines"] == []
    assert (await client.get("/api/v1/cart")).status == 401


async def test_one_address_is_always_the_default(client, alice):
    first = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json()
    assert first["is_default"] is True  # the first one
    second = await (
        await client.post(
            "/api/v1/addresses", json={**ADDRESS, "detail": "公司", "is_default": True}, headers=alice
        )
    ).json()
    listing = (await (await client.get("/api/v1/addresses", headers=alice)).json())["items"]
    assert [(a["id"], a["is_default"]) for a in listing] == [(second["id"], True), (first["id"], False)]
    # deleting the default hands it to the other
    assert (await client.delete(f"/api/v1/addresses/{second['id']}", headers=alice)).status == 204
    listing = (await (await client.get("/api/v1/addresses", headers=alice)).json())["items"]
    assert [(a["id"], a["is_default"]) for a in listing] == [(first["id"], True)]
    bad = await client.post("/api/v1/addresses", json={**ADDRESS, "phone": "12345678901"}, headers=alice)
    assert (bad.status, (await bad.json())["error"]["code"]) == (400, "invalid_phone")


async def test_checkout_preview_prices_items_and_flags_what_cannot_be_bought(client, alice):
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json()
    buds, oranges = await _sku("P2-W"), await _sku("P3-5KG")
    body = {
        "items": [{"sku_id": buds, "quantity": 1}, {"sku_id": oranges, "quantity": 1}],
        "address_id": address["id"],
    }
    preview = await (await client.post("/api/v1/checkout/preview", json=body, headers=alice)).json()
    assert [line["sku_id"] for line in preview["lines"]] == [buds]
    assert (preview["items_total"], preview["shipping_fee"], preview["payable"]) == (79900, 0, 79900)
    assert preview["problems"] == [{"sku_id": oranges, "state": "out_of_stock", "message": "商品已售罄"}]
    assert preview["can_submit"] is False and preview["address"]["id"] == address["id"]


async def test_checkout_preview_from_the_cart_uses_the_selected_lines(client, alice):
    await _add(client, alice, await _sku("P2-W"), 1)
    preview = await (
        await client.post("/api/v1/checkout/preview", json={"from_cart": True}, headers=alice)
    ).json()
    assert preview["items_total"] == 79900 and preview["can_submit"] is False  # no address yet
    empty = await client.post("/api/v1/checkout/preview", json={"items": []}, headers=alice)
    assert empty.status == 400
    both = await client.post(
        "/api/v1/checkout/preview",
        json={"from_cart": True, "items": [{"sku_id": 1, "quantity": 1}]},
        headers=alice,
    )
    assert (both.status, (await both.json())["error"]["code"]) == (400, "items_or_cart")
