"""Paying when something goes wrong: an order that cannot take money, WeChat Pay refusing or
failing (the simulator's planned faults), a payment whose notification was lost meeting a retry
or a cancellation, refunds asked twice at once or throttled by WeChat Pay, reconciliation that
finds nothing to settle yet, signed notifications that say something we do not act on, and a
shop without WeChat Pay configured."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales.models import AfterSale
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.outbox import OutboxDelivery, OutboxEvent
from commerce.payments.models import Payment, Refund
from commerce.payments.reconcile import reconcile_payments
from commerce.staff.states import StaffRole
from shop.app import CORE, create_app
from tests.builders import add_staff, genuine_paid_transaction, shopper_with_address, signed_in
from tests.concurrency import needs_real_database
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
async def alice(client, simulator) -> dict:
    await seed_small_catalog()
    return await shopper_with_address(client, simulator, "alice")


async def _pay(client, shopper: dict, order_id: int):
    return await client.post(f"/api/v1/orders/{order_id}/pay", headers=shopper["headers"])


async def _error(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def _calls(simulator) -> dict[str, int]:
    _, state = await sim(simulator, "GET", "/wx/state")
    return state["calls"]


async def _fault(simulator, api: str, **fault) -> None:
    status, body = await sim(simulator, "POST", "/wx/faults", {"api": api, **fault})
    assert status == 200, body


async def _expire_prepay(order_id: int) -> None:
    """WeChat Pay's prepay has outlived its two hours (the order's deadline has not)."""
    await Payment.filter(checkout__orders__id=order_id).update(
        prepay_expires_at=clock.now() - timedelta(seconds=1)
    )


async def _paid_but_not_told(client, simulator, shopper: dict, order_id: int) -> dict:
    """The shopper pays in the WeChat sheet, and every notification of it is lost."""
    params = await pay_params(client, shopper["headers"], order_id)
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    paid = await confirm_payment(simulator, prepay_id_of(params))
    assert (await Order.get(id=order_id)).status == "pending_payment"
    return paid


# --- paying ----------------------------------------------------------------------------------


async def test_an_order_that_cannot_take_money_is_refused_before_wechat_pay_is_asked(
    client, simulator, alice
):
    # given a paid order, a cancelled one and one whose deadline has passed (not yet swept)
    paid = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], paid["id"])
    cancelled = await order_sku(client, alice)
    cancelling = await client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=alice["headers"])
    assert cancelling.status == 200
    late = await order_sku(client, alice)
    before = (await _calls(simulator)).get("pay_jsapi", 0)
    # when the shopper asks to pay each
    assert await _error(await _pay(client, alice, paid["id"])) == (409, "order_already_paid")
    assert await _error(await _pay(client, alice, cancelled["id"])) == (409, "order_not_payable")
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        assert await _error(await _pay(client, alice, late["id"])) == (409, "payment_expired")
    # then WeChat Pay was not asked for a prepay, and no attempt was recorded for them
    assert (await _calls(simulator)).get("pay_jsapi", 0) == before
    assert await Payment.filter(checkout__orders__id__in=[cancelled["id"], late["id"]]).count() == 0


async def test_wechat_pay_failing_or_refusing_a_prepay_is_a_503_and_the_shopper_can_try_again(
    client, simulator, alice
):
    order = await order_sku(client, alice)
    # given WeChat Pay fails once (500 SYSTEM_ERROR), then refuses once (429 FREQUENCY_LIMITED)
    await _fault(simulator, "pay_jsapi", errcode=-1)
    await _fault(simulator, "pay_jsapi", http_status=429, code="FREQUENCY_LIMITED")
    # when the shopper asks to pay
    assert await _error(await _pay(client, alice, order["id"])) == (503, "payment_unavailable")
    assert await _error(await _pay(client, alice, order["id"])) == (503, "payment_unavailable")
    # then nothing was handed out: one attempt, without a prepay, and the order is unpaid
    attempts = await Payment.filter(checkout__orders__id=order["id"]).values_list(
        "out_trade_no", "prepay_id", "status"
    )
    assert attempts == [(order["order_no"], "", "pending")]
    # and the third time the same attempt gets its prepay
    params = await pay_params(client, alice["headers"], order["id"])
    attempt = await Payment.get(checkout__orders__id=order["id"])
    assert params["package"] == f"prepay_id={attempt.prepay_id}" and attempt.out_trade_no == order["order_no"]


async def test_cancelling_an_order_whose_prepay_never_came_closes_nothing_at_wechat_pay(
    client, simulator, alice
):
    # given WeChat Pay failed the only prepay of an order
    order = await order_sku(client, alice)
    await _fault(simulator, "pay_jsapi", errcode=-1)
    assert (await _pay(client, alice, order["id"])).status == 503
    # when the shopper cancels it
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    # then the order is cancelled, its attempt closed here, and WeChat Pay is not asked to close
    # a transaction it never had
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"
    assert (await Payment.get(checkout__orders__id=order["id"])).status == "closed"
    assert (await _calls(simulator)).get("pay_close", 0) == 0


async def test_a_retry_after_an_expired_prepay_that_was_paid_meanwhile_finds_the_payment(
    client, simulator, alice
):
    # given the shopper paid, the notification was lost, and the prepay has expired since
    order = await order_sku(client, alice)
    paid = await _paid_but_not_told(client, simulator, alice, order["id"])
    await _expire_prepay(order["id"])
    # when the mini-program asks to pay again
    again = await _pay(client, alice, order["id"])
    # then WeChat Pay's "already paid" at closing is believed: the order is paid, by that
    # transaction, with no second attempt and no refund
    assert await _error(again) == (409, "order_already_paid")
    assert (await Order.get(id=order["id"])).status == "paid"
    attempts = await Payment.filter(checkout__orders__id=order["id"]).values_list("status", "transaction_id")
    assert attempts == [("paid", paid["transaction_id"])]
    assert await Refund.filter(order_id=order["id"]).count() == 0


async def test_an_expired_prepay_wechat_pay_will_not_close_yet_is_a_503_then_renewed(
    client, simulator, alice
):
    # given an expired prepay, and WeChat Pay throttling the close once
    order = await order_sku(client, alice)
    await pay_params(client, alice["headers"], order["id"])
    await _expire_prepay(order["id"])
    await _fault(simulator, "pay_close", http_status=429, code="FREQUENCY_LIMITED")
    # when the shopper asks to pay: no new attempt while the old one may still be paid
    assert await _error(await _pay(client, alice, order["id"])) == (503, "payment_unavailable")
    assert await Payment.filter(checkout__orders__id=order["id"]).values_list("status", flat=True) == [
        "pending"
    ]
    # and when they try again, the old one is closed and a new one made
    params = await pay_params(client, alice["headers"], order["id"])
    attempts = (
        await Payment.filter(checkout__orders__id=order["id"])
        .order_by("id")
        .values_list("out_trade_no", "status")
    )
    assert attempts == [(order["order_no"], "closed"), (f"{order['order_no']}_2", "pending")]
    assert prepay_id_of(params) == (await Payment.get(out_trade_no=f"{order['order_no']}_2")).prepay_id


async def test_cancelling_an_order_paid_whose_notification_was_lost_returns_the_money(
    client, simulator, alice
):
    # given the shopper paid but we never heard of it
    order = await order_sku(client, alice, quantity=2)
    paid = await _paid_but_not_told(client, simulator, alice, order["id"])
    stock = (await Sku.get(sku_code="P2-W")).stock
    # when the shopper cancels the order (WeChat Pay then refuses to close: it was paid)
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"

    # then the payment is recorded and its money goes back by itself
    async def returned() -> bool:
        refund = await Refund.get_or_none(order_id=order["id"])
        return refund is not None and refund.status == "succeeded"

    await eventually(returned)
    refund = await Refund.get(order_id=order["id"])
    assert (refund.automatic, refund.amount) == (True, order["payable"])
    payment = await Payment.get(checkout__orders__id=order["id"])
    assert (payment.status, payment.transaction_id) == ("paid", paid["transaction_id"])
    assert (await Order.get(id=order["id"])).status == "cancelled"
    returned_events = await OrderEvent.filter(order_id=order["id"], type="payment_returned").count()
    assert returned_events == 1
    # the stock went back once, with the cancellation
    assert (await Sku.get(sku_code="P2-W")).stock == stock + 2
    # and closing the cancelled order's prepay is done, not failing over and over (the books
    # post the refund right after it succeeded: wait for that delivery too)
    await eventually(_all_delivered)


# --- refunds ---------------------------------------------------------------------------------


@needs_real_database
async def test_a_refund_asked_twice_at_once_is_made_once(client, simulator, alice):
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    url = f"/api/v1/orders/{order['id']}/refunds"
    # when the shopper taps twice (two requests at once)
    first, second = await asyncio.gather(
        client.post(url, json={"reason": "拍错了"}, headers=alice["headers"]),
        client.post(url, json={"reason": "拍错了"}, headers=alice["headers"]),
    )
    # then one refund is made, the other request told the order cannot be refunded now
    assert sorted([first.status, second.status]) == [201, 409]
    refused = first if first.status == 409 else second
    assert (await refused.json())["error"]["code"] == "order_not_refundable"
    assert await Refund.filter(order_id=order["id"]).count() == 1
    assert await AfterSale.filter(order_id=order["id"]).count() == 1


async def test_a_refund_reason_and_an_unpaid_order_are_refused_clearly(client, simulator, alice):
    order = await order_sku(client, alice)
    url = f"/api/v1/orders/{order['id']}/refunds"
    blank = await client.post(url, json={"reason": "   "}, headers=alice["headers"])
    assert await _error(blank) == (400, "invalid_refund_reason")
    unpaid = await client.post(url, json={"reason": "不想要了"}, headers=alice["headers"])
    assert await _error(unpaid) == (409, "order_not_refundable")
    assert await Refund.filter(order_id=order["id"]).count() == 0


async def test_a_refund_wechat_pay_throttles_is_submitted_again_by_the_outbox(client, simulator, alice):
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    # given WeChat Pay answers the first refund request 429 FREQUENCY_LIMITED
    await _fault(simulator, "refund", http_status=429, code="FREQUENCY_LIMITED")
    asked = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert asked.status == 201
    # then the refund is not failed: it waits, requested, for the outbox to try again
    refund = await Refund.get(order_id=order["id"])
    assert (refund.status, refund.failure_code) == ("requested", "")
    assert (await _calls(simulator))["refund"] == 1
    # and a few seconds later it is submitted again and the money comes back
    with clock.frozen(clock.now() + timedelta(seconds=5)):

        async def done() -> bool:
            return (await Order.get(id=order["id"])).status == "closed"

        await eventually(done)
    assert (await _calls(simulator))["refund"] == 2
    assert (await Refund.get(id=refund.id)).status == "succeeded"


# --- reconciliation --------------------------------------------------------------------------


async def test_reconciliation_leaves_an_unpaid_prepay_the_shopper_may_still_pay(client, simulator, alice):
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        done = await reconcile_payments(pay=client.app[CORE].pay)
        # then nothing was settled or closed: the prepay is still the shopper's to pay
        assert (done.settled, done.closed) == (0, 0)
        payment = await Payment.get(checkout__orders__id=order["id"])
        assert payment.status == "pending" and payment.updated_at == clock.now()
        # and the next run soon after does not ask WeChat Pay again
        asked = (await _calls(simulator))["pay_query"]
        await reconcile_payments(pay=client.app[CORE].pay)
        assert (await _calls(simulator))["pay_query"] == asked == 1
    assert (await _calls(simulator)).get("pay_close", 0) == 0
    # and the shopper can still pay it
    paid = await confirm_payment(simulator, prepay_id_of(params))
    assert paid["notified"] == [204]
    assert (await Order.get(id=order["id"])).status == "paid"


async def test_reconciliation_asks_again_later_about_an_abnormal_refund_not_yet_resolved(
    client, simulator, alice
):
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "ABNORMAL"})
    asked = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert asked.status == 201

    async def failed() -> bool:
        return (await Refund.get(order_id=order["id"])).status == "failed"

    await eventually(failed)
    queries = (await _calls(simulator)).get("refund_query", 0)
    # when reconciliation runs half an hour later, and WeChat Pay still says ABNORMAL
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        done = await reconcile_payments(pay=client.app[CORE].pay)
        assert done.refunds == 0
        assert (await _calls(simulator))["refund_query"] == queries + 1
        # then the refund stays failed (the merchant has not resolved it), the order paid
        refund = await Refund.get(order_id=order["id"])
        assert (refund.status, refund.failure_code, refund.updated_at) == ("failed", "ABNORMAL", clock.now())
        assert (await Order.get(id=order["id"])).status == "paid"
        # and a run right after does not ask again
        await reconcile_payments(pay=client.app[CORE].pay)
        assert (await _calls(simulator))["refund_query"] == queries + 1


async def test_a_refund_wechat_pay_cannot_find_yet_is_asked_about_again_by_the_next_run(
    client, simulator, alice
):
    # given a refund whose outcome notification was lost: still processing here
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    asked = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert asked.status == 201
    refund = await Refund.get(order_id=order["id"])

    async def ended_at_wechat() -> bool:
        _, state = await sim(simulator, "GET", "/pay/state")
        return state["refunds"][refund.out_refund_no]["status"] == "SUCCESS"

    await eventually(ended_at_wechat)
    assert (await Refund.get(id=refund.id)).status == "processing"
    # when reconciliation asks, and WeChat Pay answers that it knows no such refund (404)
    await _fault(simulator, "refund_query", http_status=404, code="RESOURCE_NOT_EXISTS")
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        first = await reconcile_payments(pay=client.app[CORE].pay)
        # then nothing is decided on it
        assert first.refunds == 0
        assert (await Refund.get(id=refund.id)).status == "processing"
        assert (await Order.get(id=order["id"])).status == "paid"
        # and the next run finds it succeeded
        second = await reconcile_payments(pay=client.app[CORE].pay)
    assert second.refunds == 1
    assert (await Refund.get(id=refund.id)).status == "succeeded"
    assert (await Order.get(id=order["id"])).status == "closed"


# --- signed notifications that say something else --------------------------------------------


async def _payment_state(order_id: int) -> tuple:
    return (
        await Order.filter(id=order_id).values_list("status", flat=True),
        await Payment.filter(checkout__orders__id=order_id).values_list("status", "transaction_id"),
        await Refund.filter(order_id=order_id).values_list("status", "refund_id"),
        await OrderEvent.filter(order_id=order_id).count(),
        await OutboxEvent.all().count(),
    )


async def test_signed_payment_notifications_that_report_no_payment_change_nothing(
    client, simulator, alice, data_dir
):
    order = await order_sku(client, alice)
    await pay_params(client, alice["headers"], order["id"])
    keys = forge.platform(data_dir)
    transaction = await genuine_paid_transaction(
        client.app[CORE].settings, order, "4200000000202612060000000001"
    )
    before = await _payment_state(order["id"])
    # a notification of another kind, and a "success" whose transaction is not paid
    other_event = forge.notification(keys, transaction, event_type="TRANSACTION.CLOSED")
    not_paid = forge.notification(keys, {**transaction, "trade_state": "NOTPAY"})
    for headers, body in (other_event, not_paid):
        response = await client.post("/pay/wechat/notify", data=body, headers=headers)
        # then WeChat Pay is told we have it (so it stops), and nothing changed
        assert response.status == 204
    assert await _payment_state(order["id"]) == before


async def test_signed_refund_notifications_we_cannot_match_are_refused_or_ignored(
    client, simulator, alice, data_dir
):
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    assert (
        await client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
        )
    ).status == 201
    refund = await Refund.get(order_id=order["id"])
    assert refund.status == "processing"
    keys = forge.platform(data_dir)
    payment = await Payment.get(id=refund.payment_id)
    notice = {
        "mchid": client.app[CORE].settings.wechat_pay_mchid,
        "out_trade_no": payment.out_trade_no,
        "transaction_id": payment.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": "50000000000000000000000000001",
        "refund_status": "SUCCESS",
        "amount": {"total": payment.amount, "refund": refund.amount},
    }
    before = await _payment_state(order["id"])
    url = "/pay/wechat/refund-notify"

    def signed(resource: dict, event: str = "REFUND.SUCCESS"):
        return forge.notification(keys, resource, event_type=event, original_type="refund")

    # another merchant's refund, and a refund number we never made: refused (WeChat Pay retries)
    for resource in ({**notice, "mchid": "1900000999"}, {**notice, "out_refund_no": "RNOSUCHREFUND01"}):
        headers, body = signed(resource)
        response = await client.post(url, data=body, headers=headers)
        assert response.status == 400
        assert (await response.json())["code"] == "FAIL"
    # a status we do not know: acknowledged, decided on nothing
    headers, body = signed({**notice, "refund_status": "SOMETHING_NEW"})
    assert (await client.post(url, data=body, headers=headers)).status == 204
    assert await _payment_state(order["id"]) == before
    # and the genuine outcome still applies
    headers, body = signed(notice)
    assert (await client.post(url, data=body, headers=headers)).status == 204
    assert (await Refund.get(id=refund.id)).status == "succeeded"


# --- a shop without WeChat Pay --------------------------------------------------------------


@pytest.fixture
async def unpaid_shop(aiohttp_client, wired_settings, app_port, empty_database, empty_redis):
    """The real app whose WeChat Pay setup is incomplete (a shop still setting up: the merchant
    number is in, the platform public key not yet)."""
    settings = wired_settings.model_copy(update={"wechat_pay_public_key_id": ""})
    return await aiohttp_client(create_app(settings, mount_simulator=False), server_kwargs={"port": app_port})


async def test_a_shop_without_wechat_pay_refuses_payment_clearly_and_believes_no_notification(
    unpaid_shop, simulator, data_dir
):
    client = unpaid_shop
    assert client.app[CORE].pay is None
    await seed_small_catalog()
    shopper = {"headers": await auth_headers(client, simulator, "alice")}
    address = await client.post("/api/v1/addresses", json=ADDRESS, headers=shopper["headers"])
    shopper["address_id"] = (await address.json())["id"]
    order = await order_sku(client, shopper)
    # when the shopper asks to pay
    assert await _error(await _pay(client, shopper, order["id"])) == (503, "payment_unavailable")
    assert await Payment.filter(checkout__orders__id=order["id"]).count() == 0
    # a notification, however well signed, is not believed
    keys = forge.platform(data_dir)
    transaction = forge.paid_transaction(
        appid=client.app[CORE].settings.miniapp_appid,
        mchid=keys.mchid,
        out_trade_no=order["order_no"],
        total=order["payable"],
        openid="o" + "x" * 27,
        transaction_id="4200000000202612060000000002",
    )
    headers, body = forge.notification(keys, transaction)
    response = await client.post("/pay/wechat/notify", data=body, headers=headers)
    assert response.status == 401 and (await response.json())["code"] == "FAIL"
    # and reconciliation has no one to ask
    done = await reconcile_payments(pay=None)
    assert (done.settled, done.closed, done.refunds) == (0, 0, 0)
    assert (await Order.get(id=order["id"])).status == "pending_payment"


async def test_a_refund_submission_delivered_again_after_a_relay_crash_asks_wechat_pay_nothing_more(
    client, simulator, alice
):
    order = await order_sku(client, alice)
    await pay_order(client, simulator, alice["headers"], order["id"])
    asked = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
    )
    assert asked.status == 201

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "closed"

    await eventually(refunded)
    refunds = await Refund.filter(order_id=order["id"]).values_list("status", "refund_id", "updated_at")
    calls = (await _calls(simulator))["refund"]
    # given the relay died after WeChat Pay answered, before it marked the submission delivered
    submissions = await OutboxEvent.filter(topic="refund.requested").values_list("id", flat=True)
    await OutboxEvent.filter(id__in=submissions).update(delivered_at=None, available_at=clock.now())
    await OutboxDelivery.filter(event_id__in=submissions).update(delivered_at=None, available_at=clock.now())
    # when the submission is delivered again
    await settle_outbox()
    # then WeChat Pay is not asked again and the refund is as it was
    assert (await _calls(simulator))["refund"] == calls == 1
    assert (
        await Refund.filter(order_id=order["id"]).values_list("status", "refund_id", "updated_at") == refunds
    )
    await eventually(_all_delivered)  # the refund's own event may still be in its fast path


async def _all_delivered() -> bool:
    return await OutboxEvent.filter(delivered_at=None).count() == 0


async def test_a_prepay_wechat_pay_answers_is_paid_already_is_told_as_paid(client, simulator, alice):
    # given WeChat Pay answers the prepay of an attempt that it says was paid (a retry that
    # crossed the payment of the prepay handed out a moment before)
    order = await order_sku(client, alice)
    await _fault(simulator, "pay_jsapi", http_status=400, code="ORDERPAID")
    # then the shopper is told the order is paid, not that WeChat Pay is unavailable
    assert await _error(await _pay(client, alice, order["id"])) == (409, "order_already_paid")
    assert await Payment.filter(checkout__orders__id=order["id"]).values_list("prepay_id", "status") == [
        ("", "pending")
    ]


async def test_two_reconciliation_runs_at_once_close_a_stale_prepay_once(client, simulator, alice):
    # given an unpaid order past its deadline whose prepay is still open at WeChat Pay
    order = await order_sku(client, alice)
    params = await pay_params(client, alice["headers"], order["id"])
    with clock.frozen(clock.now() + timedelta(minutes=31)):
        # when two scheduler processes reconcile at the same moment
        runs = await asyncio.gather(*(reconcile_payments(pay=client.app[CORE].pay) for _ in range(2)))
    # then the prepay is closed, and counted closed by one run only
    assert sorted(run.closed for run in runs) == [0, 1]
    assert (await Payment.get(checkout__orders__id=order["id"])).status == "closed"
    status, _ = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id_of(params)})
    assert status == 400


async def test_the_simulator_plans_wechat_pay_refusals_only_for_wechat_pay_and_in_its_words(simulator):
    refused = [
        {"api": "stable_token", "http_status": 400, "code": "ORDERPAID"},  # not a WeChat Pay API
        {"api": "refund", "code": "FREQUENCY_LIMITED"},  # no HTTP status
        {"api": "refund", "http_status": 429, "code": "frequency limited"},  # not a code
    ]
    for fault in refused:
        status, body = await sim(simulator, "POST", "/wx/faults", fault)
        assert status == 400 and body["error"], fault
    _, state = await sim(simulator, "GET", "/wx/state")
    assert state["faults"] == {}


async def test_a_failed_automatic_refund_is_submitted_again_from_its_order_page(client, simulator, alice):
    # given money that arrived for a cancelled order, whose automatic refund WeChat Pay closed
    order = await order_sku(client, alice, quantity=1)
    await _paid_but_not_told(client, simulator, alice, order["id"])
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "CLOSED"})
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=alice["headers"])
    assert cancelled.status == 200

    async def failed() -> bool:
        refund = await Refund.get_or_none(order_id=order["id"])
        return refund is not None and refund.status == "failed"

    await eventually(failed)
    first = await Refund.get(order_id=order["id"])
    # when a merchant of another shop tries to retry it, the order is not theirs
    await add_staff(
        "other", StaffRole.MERCHANT_OWNER, merchant_id=await ensure_merchant(code="other", name="别家")
    )
    csrf = await signed_in(client, "other")
    url = f"/admin/orders/{order['id']}/refunds/{first.id}/retry"
    foreign = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert foreign.status == 404
    # and the platform's admin sees the failure on the order's page with a button to submit it again
    await add_staff("boss", StaffRole.PLATFORM_ADMIN)
    csrf = await signed_in(client, "boss")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert url in page and "重新提交退款" in page
    retried = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert (retried.status, retried.headers["Location"]) == (302, f"/admin/orders/{order['id']}")

    # then a new refund of the same money reaches WeChat Pay and succeeds
    async def succeeded() -> bool:
        return await Refund.filter(order_id=order["id"], status="succeeded").exists()

    await eventually(succeeded)
    refunds = (
        await Refund.filter(order_id=order["id"]).order_by("id").values_list("amount", "automatic", "status")
    )
    assert refunds == [(order["payable"], True, "failed"), (order["payable"], True, "succeeded")]
    # and a second press retries nothing more
    again = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert again.status == 409 and await Refund.filter(order_id=order["id"]).count() == 2
