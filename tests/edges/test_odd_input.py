"""Odd input at every door is a clear refusal with a stable code, never a 500: a JSON body nested
beyond reason, addresses of blanks or control characters, WeChat Pay callbacks with an absurd
timestamp or a resource of the wrong shape, and signed official-account pushes that make no
sense (which WeChat would otherwise retry)."""

from __future__ import annotations

import time
import uuid

import pytest

from commerce.catalog.models import Sku
from commerce.orders.models import Order, OrderEvent
from commerce.outbox import OutboxEvent
from commerce.payments.models import Payment, Refund
from commerce.support.models import Conversation, ConversationMessage
from commerce.users.models import Address, Follower
from shop.app import CORE
from tests.builders import genuine_paid_transaction
from tests.edges import mp_pushes as mp
from tests.edges import wechatpay_forgery as forge
from tests.edges.paying import pay_params
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await auth_headers(client, simulator, "alice")


# --- the mini-program API ---------------------------------------------------------------------


async def test_json_nested_beyond_reason_is_a_400(client, alice):
    # given a body of 100,000 nested arrays
    body = b"[" * 100_000 + b"]" * 100_000
    # when it is posted to an endpoint that reads JSON
    response = await client.post("/api/v1/addresses", data=body, headers=alice)
    # then it is refused as malformed JSON, and nothing is stored
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_json"
    assert await Address.all().count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("receiver_name", "   ", "address_incomplete"),
        ("detail", " \u3000 ", "address_incomplete"),  # an ideographic space, as a phone types it
        ("province", "\t", "address_incomplete"),
        ("detail", "科技园\x001 号", "address_invalid_characters"),
        ("city", "\x00", "address_invalid_characters"),
        ("receiver_name", "张\x1b三", "address_invalid_characters"),
    ],
)
async def test_address_fields_of_blanks_or_control_characters_are_refused(client, alice, field, value, code):
    # when a shopper saves an address with such a field, as a new one or over an existing one
    created = await client.post("/api/v1/addresses", json={**ADDRESS, field: value}, headers=alice)
    kept = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json()
    updated = await client.put(
        f"/api/v1/addresses/{kept['id']}", json={**ADDRESS, field: value}, headers=alice
    )
    # then both are refused with the code, and only the good address is stored, unchanged
    for response in (created, updated):
        assert response.status == 400
        assert (await response.json())["error"]["code"] == code
    assert await Address.all().values_list(field, flat=True) == [ADDRESS[field]]


async def test_address_fields_are_stored_stripped(client, alice):
    padded = {name: f"  {value}\u3000" for name, value in ADDRESS.items() if name != "phone"}
    response = await client.post("/api/v1/addresses", json={**ADDRESS, **padded}, headers=alice)
    assert response.status == 201, await response.text()
    stored = await Address.get()
    assert {name: getattr(stored, name) for name in ADDRESS} == ADDRESS


# --- WeChat Pay's callbacks -------------------------------------------------------------------


async def _pending_payment(client, alice) -> tuple[dict, Payment]:
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=alice)).json()
    sku = await Sku.get(sku_code="P2-W")
    response = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address["id"]},
        headers={**alice, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status == 201, await response.text()
    order = await response.json()
    await pay_params(client, alice, order["id"])
    return order, await Payment.get(checkout__orders__id=order["id"])


async def _payments_state() -> dict:
    return {
        "orders": await Order.all().order_by("id").values("id", "status"),
        "payments": await Payment.all().order_by("id").values("id", "status", "transaction_id"),
        "refunds": await Refund.all().count(),
        "events": await OrderEvent.all().count(),
        "outbox": await OutboxEvent.all().count(),
    }


@pytest.mark.parametrize("path", ["/pay/wechat/notify", "/pay/wechat/refund-notify"])
async def test_a_timestamp_of_400_digits_is_refused_as_unsigned(client, data_dir, path):
    keys = forge.platform(data_dir)
    body = b'{"id": "x"}'
    for stamp in ("9" * 400, "1" + "0" * 399, "-" + "9" * 400):
        headers = {**forge.sign(keys, body), "Wechatpay-Timestamp": stamp}
        response = await client.post(path, data=body, headers=headers)
        assert response.status == 401, stamp
        assert (await response.json())["code"] == "FAIL"


async def test_a_signed_payment_resource_of_the_wrong_shape_changes_nothing(client, alice, data_dir):
    # given an order waiting for its payment
    order, payment = await _pending_payment(client, alice)
    genuine = await genuine_paid_transaction(client.app[CORE].settings, order, "4200000000202611290000000009")
    before = await _payments_state()
    shapes = {
        "amount a list": {**genuine, "amount": [genuine["amount"]]},
        "amount a number": {**genuine, "amount": order["payable"]},
        "total a string": {**genuine, "amount": {**genuine["amount"], "total": str(order["payable"])}},
        "payer a string": {**genuine, "payer": payment.payer_openid},
        "payer a list": {**genuine, "payer": [payment.payer_openid]},
        "transaction id an object": {**genuine, "transaction_id": {"id": "4200000000202611290000000009"}},
    }
    for case, resource in shapes.items():
        # when WeChat Pay's key signs it
        headers, body = forge.notification(forge.platform(data_dir), resource)
        response = await client.post("/pay/wechat/notify", data=body, headers=headers)
        # then it is a clear refusal and nothing changed
        assert response.status == 400, case
        assert (await response.json())["code"] == "FAIL", case
    assert await _payments_state() == before


# --- official-account pushes ------------------------------------------------------------------

OPENID = "oFollower000000000000000001"


@pytest.mark.parametrize(
    "xml",
    [
        mp.text_xml(OPENID, "人工", create_time=10**19),
        mp.text_xml(OPENID, "人工").replace("</xml>", "<Content>订单</Content></xml>"),
        mp.text_xml("o" * 5000, "人工"),
        mp.event_xml(OPENID, "subscribe", create_time=10**19),
        mp.event_xml("o" * 5000, "subscribe"),
        mp.event_xml(OPENID, "unsubscribe").replace("</xml>", "<Event>subscribe</Event></xml>"),
    ],
    ids=[
        "20-digit CreateTime",
        "two Contents",
        "5000-character FromUserName",
        "event with a 20-digit CreateTime",
        "follow by a 5000-character FromUserName",
        "two Events",
    ],
)
async def test_a_signed_push_that_makes_no_sense_is_acknowledged_and_ignored(client, simulator, xml):
    # given a push signed and encrypted as WeChat does, whose content cannot be a follower's
    settings = client.app[CORE].settings
    query, body = mp.push_of(settings, xml)
    # when it arrives, and WeChat tries it again
    answers = [await client.post("/wechat/mp", params=query, data=body.encode()) for _ in range(2)]
    # then it is acknowledged ("success": WeChat neither retries nor tells the follower the
    # account failed), and nothing is done
    for response in answers:
        assert (response.status, await response.text()) == (200, "success")
    assert await Conversation.all().count() == 0
    assert await ConversationMessage.all().count() == 0
    assert await Follower.all().count() == 0


async def test_a_sane_push_with_a_current_create_time_is_still_answered(client, simulator):
    settings = client.app[CORE].settings
    xml = mp.text_xml(OPENID, "人工", create_time=int(time.time()))
    status, reply, _ = await mp.push(client, settings, xml)
    assert status == 200 and "人工客服" in reply["Content"]
