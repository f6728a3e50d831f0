"""Paying and refunding through the real app and the simulated WeChat Pay: a transaction pays an
order once, however WeChat Pay repeats itself; nothing but WeChat Pay's signature is believed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from commerce import clock
from commerce.catalog.models import Sku
from commerce.orders.models import Order, OrderEvent
from commerce.orders.services import ship_order
from commerce.outbox import OutboxEvent
from commerce.payments.models import Payment, Refund
from commerce.payments.reconcile import reconcile_payments
from shop.app import CORE
from tests.builders import genuine_paid_transaction, genuine_pay_notification, shopper_with_address
from tests.edges import wechatpay_forgery as forge
from tests.edges.paying import (
    confirm_payment,
    eventually,
    pay_order,
    pay_params,
    prepay_id_of,
    settle_outbox,
    sim,
)
from tests.edges.shoppers import ADDRESS, auth_headers, order_sku
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def _get(client, shopper, order_id) -> dict:
    return await (await client.get(f"/api/v1/orders/{order_id}", headers=shopper["headers"])).json()


async def _paid_events(order_id: int) -> int:
    return await OrderEvent.filter(order_id=order_id, to_status="paid", type="status_changed").count()


def _callback(client):
    return "/pay/wechat/notify"


async def test_paying_marks_the_order_paid_once_and_a_redelivery_changes_nothing(
    client, simulator, alice, data_dir
):
    order = await order_sku(client, alice)
    # when the shopper asks to pay, twice (the app retried)
    params = await pay_params(client, alice["headers"], order["id"])
    again = await pay_params(client, alice["headers"], order["id"])
    # then the same prepay, with a signature the mini-program's WeChat accepts
    assert prepay_id_of(again) == prepay_id_of(params)
    assert params["signType"] == "RSA" and params["appId"] == client.app[CORE].settings.miniapp_appid
    merchant_public = load_pem_public_key((data_dir / "simulator/pay/merchant_public_key.pem").read_bytes())
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert _verifies(message, params["paySign"], merchant_public)
    # when the shopper pays in the WeChat sheet
    paid = await confirm_payment(simulator, prepay_id_of(params))
    # then WeChat Pay's notification was accepted and the order is paid
    assert paid["notified"] == [204]
    body = await _get(client, alice, order["id"])
    assert body["status"] == "paid" and body["paid_at"].endswith("+08:00")
    payment = await Payment.get(checkout__orders__id=order["id"])
    assert (payment.status, payment.transaction_id, payment.out_trade_no) == (
        "paid",
        paid["transaction_id"],
        order["order_no"],
    )
    # when WeChat Pay delivers the same notification again, twice
    before = await _payment_world(simulator, order["id"])
    for _ in range(2):
        status, redelivered = await sim(
            simulator, "POST", "/pay/redeliver", {"out_trade_no": order["order_no"]}
        )
        # then it is acknowledged and nothing changes anywhere: no refund, no money returned, no
        # new event or outbox row, nothing more sent to WeChat
        assert status == 200 and redelivered["notified"] == [204]
    after = await _payment_world(simulator, order["id"])
    assert after == before
    assert after["refunds"] == [] and await _paid_events(order["id"]) == 1
    assert not [e for e in after["events"] if e[0] == "payment_returned"]
    # and paying again is refused clearly
    response = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=alice["headers"])
    assert (response.status, (await response.json())["error"]["code"]) == (409, "order_already_paid")


async def _payment_world(simulator, order_id: int) -> dict:
    """Everywhere a payment notification could leave a mark."""
    await settle_outbox()
    _, wx = await sim(simulator, "GET", "/wx/state")
    _, pay = await sim(simulator, "GET", "/pay/state")
    events = OrderEvent.filter(order_id=order_id).order_by("id")
    return {
        "payments": await Payment.filter(checkout__orders__id=order_id).order_by("id").values(),
        "refunds": await Refund.filter(order_id=order_id).order_by("id").values(),
        "order": await Order.filter(id=order_id).values(),
        "events": await events.values_list("type", "from_status", "to_status", "params"),
        "outbox": await OutboxEvent.all().order_by("id").values_list("id", "topic", "payload"),
        "stock": await Sku.all().order_by("id").values_list("id", "stock"),
        "calls": wx["calls"],
        "custom_messages": wx["mp"]["custom_messages"],
        "wechat_refunds": pay["refunds"],
    }


def _verifies(message: str, signature: str, public_key) -> bool:
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    try:
        public_key.verify(base64.b64decode(signature), message.encode(), PKCS1v15(), SHA256())
    except InvalidSignature:
        return False
    return True


async def test_concurrent_duplicate_notifications_pay_the_order_once(client, simulator, alice):
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    # when WeChat Pay notifies from five servers at the same moment
    paid = await confirm_payment(simulator, prepay_id_of(params), copies=5)
    # then every copy is acknowledged, and the order was paid once
    assert paid["notified"] == [204] * 5
    assert await _paid_events(order["id"]) == 1
    assert await Payment.filter(checkout__orders__id=order["id"], status="paid").count() == 1
    assert await Refund.all().count() == 0


async def test_concurrent_pay_requests_share_one_prepay(client, simulator, alice):
    order = await order_sku(client, alice)
    answers = await asyncio.gather(*(pay_params(client, alice["headers"], order["id"]) for _ in range(5)))
    assert len({prepay_id_of(a) for a in answers}) == 1
    assert await Payment.filter(checkout__orders__id=order["id"]).count() == 1


async def test_forged_tampered_stale_and_mismatched_notifications_change_nothing(
    client, simulator, alice, data_dir
):
    order = await order_sku(client, alice)
    await pay_params(client, alice["headers"], order["id"])
    keys = forge.platform(data_dir)
    payment = await Payment.get(checkout__orders__id=order["id"])
    genuine = await genuine_paid_transaction(client.app[CORE].settings, order, "4200000000202611290000000001")
    url = _callback(client)
    headers, body = forge.notification(keys, genuine)
    tampered = body.replace(b'"summary": "', b'"summary": "x')
    refusals = {
        "forged": forge.notification(keys, genuine, signing_key=forge.forger_key()),
        "tampered": (headers, tampered),
        "stale": forge.notification(keys, genuine, timestamp=int(clock.now().timestamp()) - 301),
        "future": forge.notification(keys, genuine, timestamp=int(clock.now().timestamp()) + 301),
        "unknown key": forge.notification(keys, genuine, serial="PUB_KEY_ID_0000000000000000000000"),
        "wrong apiv3 key": forge.notification(keys, genuine, apiv3_key="x" * 32),
        "unsigned": ({"Content-Type": "application/json"}, body),
    }
    for case, (h, b) in refusals.items():
        response = await client.post(url, data=b, headers=h)
        assert response.status == 401, case
        assert (await response.json())["code"] == "FAIL", case
    mismatches = {
        "amount": {**genuine, "amount": {**genuine["amount"], "total": order["payable"] - 1}},
        "merchant": {**genuine, "mchid": "1900000999"},
        "app": {**genuine, "appid": "wx0000000000000000"},
        "order": {**genuine, "out_trade_no": "NOSUCHORDER0001"},
    }
    for case, transaction in mismatches.items():
        h, b = forge.notification(keys, transaction)
        response = await client.post(url, data=b, headers=h)
        assert response.status == 400, case
    assert (await Order.get(id=order["id"])).status == "pending_payment"
    assert (await Payment.get(id=payment.id)).status == "pending"
    # and the genuine notification still pays it
    response = await client.post(url, data=body, headers=headers)
    assert response.status == 204
    assert (await Order.get(id=order["id"])).status == "paid"


async def test_a_retry_after_the_prepay_expired_makes_a_new_attempt(client, simulator, alice):
    order = await order_sku(client, alice)
    first = await pay_params(client, alice["headers"], order["id"])
    # given the prepay has expired
    await Payment.filter(checkout__orders__id=order["id"]).update(
        prepay_expires_at=clock.now() - timedelta(seconds=1)
    )
    # when the shopper pays again
    second = await pay_params(client, alice["headers"], order["id"])
    # then the old attempt is closed at WeChat Pay and a new one (new out_trade_no) is made
    assert prepay_id_of(second) != prepay_id_of(first)
    attempts = (
        await Payment.filter(checkout__orders__id=order["id"])
        .order_by("id")
        .values_list("out_trade_no", "status")
    )
    assert attempts == [(order["order_no"], "closed"), (f"{order['order_no']}_2", "pending")]
    status, _ = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id_of(first)})
    assert status == 400
    await confirm_payment(simulator, prepay_id_of(second))
    assert (await _get(client, alice, order["id"]))["status"] == "paid"


async def test_cancelling_closes_the_prepay(client, simulator, alice):
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert (await response.json())["status"] == "cancelled"
    # then WeChat Pay will not take money for it any more
    assert (await Payment.get(checkout__orders__id=order["id"])).status == "closed"
    status, _ = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id_of(params)})
    assert status == 400
    response = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=alice["headers"])
    assert (response.status, (await response.json())["error"]["code"]) == (409, "order_not_payable")


async def test_money_paid_after_cancellation_goes_back_by_itself(client, simulator, alice):
    buds = await Sku.get(sku_code="P2-W")
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    # given WeChat Pay cannot close the prepay right now, and the order is cancelled
    await sim(simulator, "POST", "/wx/faults", {"api": "pay_close", "http_status": 500, "times": 20})
    await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert (await Sku.get(id=buds.id)).stock == buds.stock
    # when the shopper pays in the still-open WeChat sheet
    paid = await confirm_payment(simulator, prepay_id_of(params))
    assert paid["notified"] == [204]
    # then the order stays cancelled, its stock is not taken again, and the money goes back
    body = await _get(client, alice, order["id"])
    assert body["status"] == "cancelled"
    assert (await Sku.get(id=buds.id)).stock == buds.stock
    assert [(r["automatic"], r["amount"]) for r in body["refunds"]] == [(True, order["payable"])]

    async def refunded() -> bool:
        return (await Refund.get(order_id=order["id"])).status == "succeeded"

    await eventually(refunded)
    assert (await _get(client, alice, order["id"]))["refunds"][0]["status"] == "succeeded"
    events = await OrderEvent.filter(order_id=order["id"]).values_list("type", flat=True)
    assert "payment_returned" in events
    # and the shopper is told by the official account she follows
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    notices = [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]
    assert len(notices) == 1 and order["order_no"] in notices[0] and "原路退回" in notices[0]


async def test_a_refund_before_shipment_returns_the_money_and_the_stock(client, simulator, alice):
    buds = await Sku.get(sku_code="P2-W")
    order = await order_sku(client, alice, quantity=2)
    await pay_order(client, simulator, alice["headers"], order["id"])
    assert (await Sku.get(id=buds.id)).stock == buds.stock - 2
    url = f"/api/v1/orders/{order['id']}/refunds"
    # bad reasons are refused clearly
    for bad in ({}, {"reason": ""}, {"reason": "x" * 81}, {"reason": 5}):
        assert (await client.post(url, json=bad, headers=alice["headers"])).status == 400
    # another shopper cannot ask for it
    bob = await auth_headers(client, simulator, "bob")
    assert (await client.post(url, json={"reason": "不想要了"}, headers=bob)).status == 404
    # when the shopper asks for the whole order back (the shortcut: everything left)
    response = await client.post(url, json={"reason": "不想要了"}, headers=alice["headers"])
    assert response.status == 201
    body = await response.json()
    [asked] = body["aftersales"]
    # then nothing shipped, so no review: the money, shipping included, is on its way
    assert (asked["status"], asked["reason"], asked["amount"]) == ("refunding", "不想要了", order["payable"])
    assert body["can_request_aftersale"] is False
    again = await client.post(url, json={"reason": "不想要了"}, headers=alice["headers"])
    assert (again.status, (await again.json())["error"]["code"]) == (409, "order_not_refundable")

    # and WeChat Pay refunds it, the order closes, its stock is back on sale
    async def refunded() -> bool:
        seen = await client.get(f"/api/v1/aftersales/{asked['id']}", headers=alice["headers"])
        return (await seen.json())["status"] == "refunded"

    await eventually(refunded)
    body = await _get(client, alice, order["id"])
    assert body["status"] == "closed" and body["aftersales"][0]["refund_status"] == "succeeded"
    assert (await Sku.get(id=buds.id)).stock == buds.stock
    assert await Refund.all().count() == 1


async def test_a_refund_after_shipment_waits_for_review_and_a_completed_order_is_not_refunded(
    client, simulator, alice
):
    buds = await Sku.get(sku_code="P2-W")
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    await ship_order(order_id=order["id"], carrier="SF", tracking_no="SF1234567890", actor="staff:1")
    url = f"/api/v1/orders/{order['id']}/refunds"
    # a reason is required after shipment too
    assert (await client.post(url, json={"reason": " "}, headers=alice["headers"])).status == 400
    # when the shopper asks for a refund of the shipped order
    response = await client.post(url, json={"reason": "收到的耳机有杂音"}, headers=alice["headers"])
    # then it waits for staff: nothing is sent to WeChat Pay, the stock stays as it is
    assert response.status == 201
    body = await response.json()
    assert body["status"] == "shipped"
    assert [(a["status"], a["reason"], a["refusal"]) for a in body["aftersales"]] == [
        ("requested", "收到的耳机有杂音", "")
    ]
    await settle_outbox()
    _, state = await sim(simulator, "GET", "/pay/state")
    assert state["refunds"] == {} or state["refunds"] == []
    assert (await Sku.get(id=buds.id)).stock == buds.stock - 1
    again = await client.post(url, json={"reason": "再问一次"}, headers=alice["headers"])
    assert (again.status, (await again.json())["error"]["code"]) == (409, "order_not_refundable")
    # an order that was received and is past its after-sales window is not refunded
    other = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], other["id"])
    await ship_order(order_id=other["id"], carrier="SF", tracking_no="SF1234567891", actor="staff:1")
    await client.post(f"/api/v1/orders/{other['id']}/confirm-receipt", headers=alice["headers"])
    with clock.frozen(clock.now() + timedelta(days=400)):
        headers = await auth_headers(client, simulator, "alice")  # a session of that day
        late = await client.post(
            f"/api/v1/orders/{other['id']}/refunds", json={"reason": "不想要了"}, headers=headers
        )
        assert (late.status, (await late.json())["error"]["code"]) == (409, "order_not_refundable")


async def test_shipping_a_paid_order_uploads_the_shipment_to_wechat(client, simulator, alice):
    order = await order_sku(client, alice)
    paid = await pay_order(client, simulator, alice["headers"], order["id"])
    # when the merchant ships it with SF Express
    await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:1")
    # then WeChat has the shipment against the transaction, with the receiver's phone masked
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    assert len(uploads) == 1
    # a payment of one order is one parcel: unified delivery
    assert (uploads[0]["delivery_mode"], uploads[0]["is_all_delivered"]) == (1, None)
    parcel = uploads[0]["shipping_list"][0]
    assert (parcel["express_company"], parcel["tracking_no"]) == ("SF", "SF1234567890")
    assert parcel["contact"]["receiver_contact"] == "138****8000"
    assert "华为 FreeBuds" in parcel["item_desc"]
    # and a repeated delivery of the event is harmless
    await settle_outbox()
    assert await OutboxEvent.filter(delivered_at=None).count() == 0


async def test_reconciliation_finds_a_payment_whose_notification_was_lost(client, simulator, alice):
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    pay = client.app[CORE].pay
    later = clock.now() + timedelta(minutes=10)
    with clock.frozen(later):  # our clock is off: WeChat Pay's notifications look like replays
        paid = await confirm_payment(simulator, prepay_id_of(params))
        assert paid["notified"] == [401]
        assert (await Order.get(id=order["id"])).status == "pending_payment"
        # when reconciliation runs
        done = await reconcile_payments(pay=pay)
    # then it asked WeChat Pay and the order is paid
    assert done.settled == 1
    assert (await Order.get(id=order["id"])).status == "paid"
    assert (await Payment.get(checkout__orders__id=order["id"])).transaction_id == paid["transaction_id"]


async def test_reconciliation_closes_the_prepay_of_an_order_past_its_deadline(client, simulator, alice):
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        done = await reconcile_payments(pay=client.app[CORE].pay)
    assert done.closed == 1
    assert (await Payment.get(checkout__orders__id=order["id"])).status == "closed"
    status, _ = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id_of(params)})
    assert status == 400


async def test_garbage_at_the_callbacks_is_refused_without_a_500(client, data_dir):
    keys = forge.platform(data_dir)
    signed_nonsense = [
        b"",
        b"null",
        b"[]",
        b"{}",
        b'{"resource": 5}',
        b'{"resource": {"nonce": 1}}',
        "{ü".encode(),
    ]
    for path in ("/pay/wechat/notify", "/pay/wechat/refund-notify"):
        response = await client.post(path, data=b"\xff\xfe{", headers={"Wechatpay-Timestamp": "x"})
        assert response.status == 401
        for body in signed_nonsense:
            # signed but no notification: 400; unsigned: 401 before anything is read
            for headers, status in ((forge.sign(keys, body), 400), ({}, 401)):
                response = await client.post(path, data=body, headers=headers)
                assert response.status == status, (path, body, response.status)
                assert (await response.json())["code"] == "FAIL"
        too_big = await client.post(path, data=b"x" * (70 * 1024))
        assert too_big.status == 413


async def test_a_payment_racing_a_cancellation_never_resurrects_the_order(client, simulator, alice, data_dir):
    """The shopper cancels at the moment WeChat Pay's notification arrives, for ten orders:
    each ends either paid (stock taken) or cancelled with its money returned (stock back)."""
    buds = await Sku.get(sku_code="P2-W")
    settings = client.app[CORE].settings
    # two shoppers with five unpaid orders each (the most one shopper may hold)
    carol = {"headers": await auth_headers(client, simulator, "carol")}
    address = await client.post("/api/v1/addresses", json=ADDRESS, headers=carol["headers"])
    carol["address_id"] = (await address.json())["id"]
    buyers = [alice, carol] * 5
    orders = [await order_sku(client, buyer) for buyer in buyers]
    notifications = []
    for n, (buyer, order) in enumerate(zip(buyers, orders, strict=True)):
        await pay_params(client, buyer["headers"], order["id"])
        notifications.append(
            await genuine_pay_notification(data_dir, settings, order, f"42000000002026112900000{n:05d}")
        )

    # when each order's cancellation and payment notification arrive together
    async def race(buyer, order, notification):
        headers, body = notification
        return await asyncio.gather(
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer["headers"]),
            client.post("/pay/wechat/notify", data=body, headers=headers),
        )

    results = await asyncio.gather(
        *(race(b, o, n) for b, o, n in zip(buyers, orders, notifications, strict=True))
    )
    # then WeChat Pay was always acknowledged, and every order is in one consistent end state
    assert all(notified.status == 204 for _, notified in results)
    await settle_outbox()
    paid = 0
    for order in orders:
        status = (await Order.get(id=order["id"])).status
        refunds = await Refund.filter(order_id=order["id"]).values_list("automatic", flat=True)
        if status == "paid":
            paid += 1
            assert refunds == []
        else:
            assert status == "cancelled" and refunds == [True]
    assert (await Sku.get(id=buds.id)).stock == buds.stock - paid


async def test_an_expired_prepay_that_cannot_be_closed_is_a_clear_503(client, simulator, alice):
    order = await order_sku(client, alice)
    await pay_params(client, alice["headers"], order["id"])
    await Payment.filter(checkout__orders__id=order["id"]).update(
        prepay_expires_at=clock.now() - timedelta(seconds=1)
    )
    # given WeChat Pay fails to close the old prepay
    await sim(simulator, "POST", "/wx/faults", {"api": "pay_close", "http_status": 500, "times": 1})
    response = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=alice["headers"])
    assert (response.status, (await response.json())["error"]["code"]) == (503, "payment_unavailable")
    # and the next try, with WeChat Pay back, makes the new attempt
    assert prepay_id_of(await pay_params(client, alice["headers"], order["id"]))
