"""The shopper's after-sales API through the real app: what an order allows, asking for part of
it, reading, withdrawing, sending goods back, photos; another shopper's request is not found;
the whole-order shortcut; the bot's 售后 answer and the official account's notices."""

from __future__ import annotations

import struct
import zlib

import pytest
from aiohttp import FormData

from commerce.catalog.models import Sku
from commerce.orders.services import ship_order
from commerce.staff.services import create_platform_admin
from shop.app import CORE
from tests.builders import PASSWORD, shopper_with_address, signed_in
from tests.edges.aftersale_steps import ask, options_of, press, shopper_sees, told
from tests.edges.paying import eventually, pay_order, settle_outbox, sim
from tests.edges.shoppers import order_sku
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator) -> dict:
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def _paid(client, simulator, shopper: dict, quantity: int = 1) -> dict:
    order = await order_sku(client, shopper, quantity=quantity)
    await pay_order(client, simulator, shopper["headers"], order["id"])
    return {**order, "headers": shopper["headers"]}


async def _shipped(client, simulator, shopper: dict, quantity: int = 1) -> dict:
    order = await _paid(client, simulator, shopper, quantity)
    await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0")
    await settle_outbox()
    return order


def _error(body: dict) -> str:
    return body["error"]["code"]


def _file(data: bytes) -> FormData:
    form = FormData()
    form.add_field("file", data, filename="photo.png", content_type="image/png")
    return form


def _png(size: int = 8) -> bytes:
    """A real PNG image (a grey square)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_a_paid_order_offers_each_line_and_a_partial_refund_before_shipment_goes_back_at_once(
    client, simulator, alice
):
    buds = await Sku.get(sku_code="P2-W")
    order = await _paid(client, simulator, alice, quantity=2)
    # given the order's options: two units of its line, the money paid for them, the kinds
    options = await options_of(client, order)
    [line] = options["lines"]
    assert (line["quantity"], line["refundable_quantity"]) == (2, 2)
    assert line["refundable_amount"] == order["lines"][0]["payable"]
    assert "refund_only" in options["kinds"] and options["reasons"]["refund_only"]
    # when the shopper asks for one unit back before anything shipped
    asked = await ask(client, order, quantity=1)
    # then no review is needed: the refund of one unit's share is on its way
    assert asked["status"] == "refunding" and asked["kind"] == "refund_only"
    assert asked["amount"] == order["lines"][0]["payable"] // 2 and asked["lines"][0]["quantity"] == 1
    assert asked["aftersale_no"] and asked["created_at"].endswith("+08:00")
    assert "user_id" not in asked and "merchant_id" not in asked

    async def refunded() -> bool:
        return (await shopper_sees(client, order, asked["id"]))["status"] == "refunded"

    await eventually(refunded)
    seen = await shopper_sees(client, order, asked["id"])
    assert seen["refund_status"] == "succeeded" and seen["timeline"]
    assert {entry["actor"] for entry in seen["timeline"]} <= {"shopper", "merchant", "system"}
    # and the unit never shipped is back on sale; one unit is left to ask for
    assert (await Sku.get(id=buds.id)).stock == buds.stock - 1
    left = await options_of(client, order)
    assert left["lines"][0]["refundable_quantity"] == 1
    detail = await (await client.get(f"/api/v1/orders/{order['id']}", headers=order["headers"])).json()
    assert [a["id"] for a in detail["aftersales"]] == [asked["id"]] and detail["can_request_aftersale"]


async def test_what_an_order_does_not_allow_is_refused_with_a_stable_code(client, simulator, alice):
    unpaid = {**await order_sku(client, alice), "headers": alice["headers"]}
    order = await _paid(client, simulator, alice)
    line_id = (await options_of(client, order))["lines"][0]["order_line_id"]
    url, headers = "/api/v1/aftersales", alice["headers"]

    async def refused(body: dict) -> tuple[int, str]:
        response = await client.post(
            url, json={"order_id": order["id"], "reason": "不想要了", **body}, headers=headers
        )
        return response.status, _error(await response.json())

    line = {"order_line_id": line_id, "quantity": 1}
    # malformed: an unknown kind, no lines, a missing reason
    assert await refused({"kind": "exchange", "lines": [line]}) == (400, "invalid_request")
    assert await refused({"kind": "refund_only", "lines": []}) == (400, "invalid_request")
    # more than the line has, or more money than it was paid
    assert await refused({"kind": "refund_only", "lines": [{**line, "quantity": 2}]}) == (
        409,
        "aftersale_exceeds_line",
    )
    too_much = {**line, "amount": order["payable"] + 1}
    assert (await refused({"kind": "refund_only", "lines": [too_much]}))[1] == "aftersale_exceeds_line"
    # a return of goods that never left
    assert await refused({"kind": "return_refund", "lines": [line]}) == (409, "return_before_shipment")
    # an unpaid order allows nothing
    response = await client.post(
        url,
        json={"order_id": unpaid["id"], "kind": "refund_only", "lines": [line], "reason": "不想要了"},
        headers=headers,
    )
    assert response.status in (404, 409)
    # and nothing was asked
    listed = await (await client.get(url, headers=headers)).json()
    assert listed["items"] == []


async def test_another_shoppers_request_and_order_are_not_found(client, simulator, alice):
    order = await _shipped(client, simulator, alice)
    asked = await ask(client, order)
    bob = await shopper_with_address(client, simulator, "bob")
    # bob sees, withdraws and ships back nothing of alice's
    for method, path, body in (
        ("GET", f"/api/v1/aftersales/{asked['id']}", None),
        ("POST", f"/api/v1/aftersales/{asked['id']}/cancel", None),
        ("POST", f"/api/v1/aftersales/{asked['id']}/return", {"carrier": "SF", "tracking_no": "SF99887766"}),
    ):
        response = await client.request(method, path, json=body, headers=bob["headers"])
        assert (response.status, _error(await response.json())) == (404, "aftersale_not_found"), path
    options = await client.get(f"/api/v1/orders/{order['id']}/aftersales/options", headers=bob["headers"])
    assert options.status == 404
    stranger = await client.post(
        "/api/v1/aftersales",
        json={
            "order_id": order["id"],
            "kind": "refund_only",
            "lines": [{"order_line_id": asked["lines"][0]["order_line_id"], "quantity": 1}],
            "reason": "不想要了",
        },
        headers=bob["headers"],
    )
    assert stranger.status == 404
    assert (await (await client.get("/api/v1/aftersales", headers=bob["headers"])).json())["items"] == []
    # a made-up id is the same 404; no token is a 401
    odd = await client.get("/api/v1/aftersales/12x", headers=bob["headers"])
    assert (odd.status, _error(await odd.json())) == (404, "aftersale_not_found")
    assert (await client.get("/api/v1/aftersales")).status == 401
    # alice's request is untouched
    assert (await shopper_sees(client, order, asked["id"]))["status"] == "requested"


async def test_a_shopper_withdraws_a_request_and_lists_hers_by_status(client, simulator, alice):
    first = await _shipped(client, simulator, alice)
    second = await _shipped(client, simulator, alice)
    kept = await ask(client, first)
    withdrawn = await ask(client, second, reason=None)
    # when she withdraws one
    response = await client.post(f"/api/v1/aftersales/{withdrawn['id']}/cancel", headers=alice["headers"])
    assert response.status == 200 and (await response.json())["status"] == "cancelled"
    again = await client.post(f"/api/v1/aftersales/{withdrawn['id']}/cancel", headers=alice["headers"])
    assert (again.status, _error(await again.json())) == (409, "aftersale_already_handled")
    # then her list shows both, newest first, and filters by status; pages hold page_size
    listed = await (await client.get("/api/v1/aftersales", headers=alice["headers"])).json()
    assert [a["id"] for a in listed["items"]] == [withdrawn["id"], kept["id"]]
    assert (listed["page"], listed["page_size"], listed["has_more"]) == (1, 20, False)
    assert listed["items"][0]["timeline"] == []
    first = await client.get("/api/v1/aftersales", params={"page_size": 1}, headers=alice["headers"])
    assert [(a["id"]) for a in (await first.json())["items"]] == [withdrawn["id"]] and (await first.json())[
        "has_more"
    ]
    waiting = await client.get("/api/v1/aftersales", params={"status": "requested"}, headers=alice["headers"])
    assert [a["id"] for a in (await waiting.json())["items"]] == [kept["id"]]
    paged = await client.get(
        "/api/v1/aftersales", params={"page_size": 1, "page": 2}, headers=alice["headers"]
    )
    assert [a["id"] for a in (await paged.json())["items"]] == [kept["id"]] and not (await paged.json())[
        "has_more"
    ]
    bad = await client.get("/api/v1/aftersales", params={"status": "lost"}, headers=alice["headers"])
    assert (bad.status, _error(await bad.json())) == (400, "invalid_request")
    # and the order it was on may be asked about again
    assert (await options_of(client, second))["lines"][0]["refundable_quantity"] == 1


async def test_a_return_is_approved_shipped_back_received_and_refunded(client, simulator, alice):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    buds = await Sku.get(sku_code="P2-W")
    order = await _shipped(client, simulator, alice)
    asked = await ask(client, order, kind="return_refund", description="左耳没声音")
    assert asked["status"] == "requested" and asked["description"] == "左耳没声音"
    # a tracking number before the merchant agreed is refused
    early = await client.post(
        f"/api/v1/aftersales/{asked['id']}/return",
        json={"carrier": "SF", "tracking_no": "SF1122334455"},
        headers=alice["headers"],
    )
    assert early.status == 409
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    assert (await press(client, asked["id"], "approve")).status == 302
    await settle_outbox()
    seen = await shopper_sees(client, order, asked["id"])
    assert seen["status"] == "awaiting_return" and seen["return_address"]
    # the shopper is told where to send it
    await told(simulator, "alice", asked["aftersale_no"], "寄回")
    # an unknown carrier or a tracking number that is no number is refused clearly
    url = f"/api/v1/aftersales/{asked['id']}/return"
    for body in (
        {"carrier": "飞鸽快递", "tracking_no": "FG12345678"},
        {"carrier": "SF", "tracking_no": "顺丰 单号"},
    ):
        response = await client.post(url, json=body, headers=alice["headers"])
        assert (response.status, _error(await response.json())) == (400, "invalid_return_tracking"), body
    # when she ships it back with a known carrier (by WeChat's code)
    sent = await client.post(
        url, json={"carrier": "SF", "tracking_no": "SF1122334455"}, headers=alice["headers"]
    )
    body = await sent.json()
    assert sent.status == 200 and body["status"] == "returning"
    assert (body["return_carrier"], body["return_tracking_no"]) == ("顺丰速运", "SF1122334455")
    # and the merchant confirms receipt and puts it back on sale
    assert (await press(client, asked["id"], "receive", restock="yes")).status == 302

    async def refunded() -> bool:
        return (await shopper_sees(client, order, asked["id"]))["status"] == "refunded"

    await eventually(refunded)
    assert (await Sku.get(id=buds.id)).stock == buds.stock
    await told(simulator, "alice", asked["aftersale_no"], "已退款")


async def test_photos_upload_as_images_only_and_go_with_a_request(client, simulator, alice):
    url = "/api/v1/aftersales/photos"
    uploaded = await client.post(url, data=_file(_png()), headers=alice["headers"])
    assert uploaded.status == 201, await uploaded.text()
    photo = (await uploaded.json())["url"]
    assert "/aftersales/" in photo
    # not an image, nothing, JSON, or too large: refused clearly
    fake = await client.post(url, data=_file(b"<script>alert(1)</script>"), headers=alice["headers"])
    assert (fake.status, _error(await fake.json())) == (400, "unsupported_image_type")
    empty = await client.post(url, data={"other": "x"}, headers=alice["headers"])
    assert empty.status == 400
    as_json = await client.post(url, json={"file": "x"}, headers=alice["headers"])
    assert as_json.status == 400
    no_boundary = {**alice["headers"], "Content-Type": "multipart/form-data"}
    broken = await client.post(url, data=b"--x\r\n", headers=no_boundary)
    assert (broken.status, _error(await broken.json())) == (400, "empty_image")
    boundary = {**alice["headers"], "Content-Type": "multipart/form-data; boundary=b0"}
    garbled = await client.post(url, data=b"--b0\r\n-879--b0--\r\n", headers=boundary)  # no part headers
    assert (garbled.status, _error(await garbled.json())) == (400, "empty_image")
    limit = client.app[CORE].settings.media_max_bytes
    huge = await client.post(url, data=_file(_png() + b"\0" * limit), headers=alice["headers"])
    assert huge.status in (400, 413)
    assert (await client.post(url, data=_file(_png()))).status == 401
    # the photo goes with a request, and the shopper reads it back
    order = await _shipped(client, simulator, alice)
    asked = await ask(client, order, photos=[photo])
    assert asked["photos"] == [photo]


async def test_the_whole_order_shortcut_asks_for_everything_left(client, simulator, alice):
    order = await _shipped(client, simulator, alice)
    url = f"/api/v1/orders/{order['id']}/refunds"
    for bad in ({}, {"reason": ""}, {"reason": "x" * 81}):
        assert (await client.post(url, json=bad, headers=alice["headers"])).status == 400
    response = await client.post(url, json={"reason": "收到的耳机有杂音"}, headers=alice["headers"])
    assert response.status == 201, await response.text()
    body = await response.json()
    [asked] = body["aftersales"]
    assert (asked["kind"], asked["status"], asked["amount"]) == ("refund_only", "requested", order["payable"])
    assert asked["reason"] == "收到的耳机有杂音" and body["can_request_aftersale"] is False
    again = await client.post(url, json={"reason": "再问一次"}, headers=alice["headers"])
    assert (again.status, _error(await again.json())) == (409, "order_not_refundable")  # as it always said


async def test_the_bot_tells_a_follower_their_open_requests_and_how_to_ask(client, simulator, alice):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})

    async def says(text: str) -> str:
        _, answer = await sim(
            simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": text}
        )
        return answer["reply"]["Content"]

    # nothing asked yet: how to ask
    nothing = await says("售后")
    assert "没有进行中的售后" in nothing and "pages/aftersale/index" in nothing
    order = await _shipped(client, simulator, alice)
    asked = await ask(client, order)
    # then "售后" (or "退款") lists it: number, status, amount, a link to it
    for word in ("售后", "退款", "退货"):
        reply = await says(word)
        assert asked["aftersale_no"] in reply and "待" in reply and "¥799.00" in reply, reply
        assert f"pages/aftersale/detail?id={asked['id']}" in reply
    # a question about returning is still the FAQ's
    assert asked["aftersale_no"] not in await says("怎么退货")


async def test_a_refusal_reaches_the_shopper_with_its_reason(client, simulator, alice):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    order = await _shipped(client, simulator, alice)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    assert (await press(client, asked["id"], "refuse", reason="商品已拆封使用，不支持退款")).status == 302
    await settle_outbox()
    seen = await shopper_sees(client, order, asked["id"])
    assert (seen["status"], seen["refusal"]) == ("refused", "商品已拆封使用，不支持退款")
    await told(simulator, "alice", asked["aftersale_no"], "商品已拆封使用")


async def test_the_openapi_document_describes_the_after_sales_api(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    for path, method in (
        ("/api/v1/orders/{id}/aftersales/options", "get"),
        ("/api/v1/aftersales", "post"),
        ("/api/v1/aftersales", "get"),
        ("/api/v1/aftersales/{id}", "get"),
        ("/api/v1/aftersales/{id}/cancel", "post"),
        ("/api/v1/aftersales/{id}/return", "post"),
        ("/api/v1/aftersales/photos", "post"),
    ):
        assert method in paths[path], path
    assert {"AfterSaleIn", "AfterSaleOut", "AfterSaleOptionsOut"} <= set(document["components"]["schemas"])
    upload = paths["/api/v1/aftersales/photos"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"] == {"type": "string", "format": "binary"}
