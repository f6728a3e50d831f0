"""One WeChat Pay transaction pays a checkout of several merchants' orders; cancelling before
payment cancels them together; after payment each order ships and refunds on its own, never
returning more than it was paid."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales.services import LineAsk, request_aftersale
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.orders.models import Checkout, Order, OrderEvent, OrderLine
from commerce.orders.services import cancel_expired_orders, ship_order
from commerce.payments.models import Payment, Refund
from commerce.staff.services import create_platform_admin
from commerce.users.models import User
from commerce.users.services import Shopper
from shop.app import CORE
from tests.builders import PASSWORD, genuine_pay_notification, sign_in
from tests.concurrency import needs_real_database
from tests.edges.checkouts import OTHER_SKU, two_order_checkout
from tests.edges.paying import (
    confirm_payment,
    eventually,
    pay_order,
    pay_params,
    prepay_id_of,
    settle_outbox,
    sim,
)
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog


@pytest.fixture
async def alice(client, simulator):
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    return {"headers": headers, "address_id": address["id"]}


async def _order(client, shopper, order_id: int) -> dict:
    return await (await client.get(f"/api/v1/orders/{order_id}", headers=shopper["headers"])).json()


async def _error(response) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def test_one_payment_pays_every_order_of_the_checkout(client, simulator, alice):
    # given two merchants' orders under one checkout
    first, second = await two_order_checkout(client, alice)
    checkout = await Checkout.get(orders__id=first["id"])
    assert checkout.payable == first["payable"] + second["payable"]
    # when the shopper pays from the second order, then from the first (the app retried)
    params = await pay_params(client, alice["headers"], second["id"])
    assert prepay_id_of(await pay_params(client, alice["headers"], first["id"])) == prepay_id_of(params)
    # then WeChat Pay is asked once, for the checkout's whole amount, described as both orders
    _, state = await sim(simulator, "GET", "/pay/state")
    transaction = state["transactions"][checkout.checkout_no]
    assert transaction["amount"]["total"] == checkout.payable
    assert transaction["description"].endswith("（2个订单）")
    # when she pays
    paid = await confirm_payment(simulator, prepay_id_of(params))
    assert paid["notified"] == [204]
    # then both orders are paid by the one transaction, and a third attempt is refused
    assert [(await _order(client, alice, o["id"]))["status"] for o in (first, second)] == ["paid", "paid"]
    payment = await Payment.get(checkout_id=checkout.id)
    assert (payment.status, payment.amount, payment.out_trade_no) == (
        "paid",
        checkout.payable,
        checkout.checkout_no,
    )
    again = await client.post(f"/api/v1/orders/{first['id']}/pay", headers=alice["headers"])
    assert await _error(again) == (409, "order_already_paid")


async def test_cancelling_one_unpaid_order_cancels_its_checkout_and_closes_the_prepay(
    client, simulator, alice
):
    buds = await Sku.get(sku_code="P2-W")
    first, second = await two_order_checkout(client, alice)
    tea = await Sku.get(sku_code=OTHER_SKU)
    params = await pay_params(client, alice["headers"], first["id"])
    assert (await Sku.get(id=buds.id)).stock == buds.stock - 1
    # when the shopper cancels the second order
    response = await client.post(f"/api/v1/orders/{second['id']}/cancel", headers=alice["headers"])
    assert response.status == 200, await response.text()
    # then both orders are cancelled, all their stock is back, and the one prepay is closed
    assert [(await _order(client, alice, o["id"]))["status"] for o in (first, second)] == [
        "cancelled",
        "cancelled",
    ]
    assert (await Sku.get(id=buds.id)).stock == buds.stock
    assert (await Sku.get(id=tea.id)).stock == tea.stock + 2
    assert await Payment.filter(checkout__orders__id=first["id"]).values_list("status", flat=True) == [
        "closed"
    ]
    status, _ = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id_of(params)})
    assert status == 400
    # and cancelling the other one now is refused as any cancelled order's is
    again = await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=alice["headers"])
    assert again.status == 409


async def test_the_expiry_job_cancels_a_checkout_s_orders_together(client, simulator, alice):
    buds = await Sku.get(sku_code="P2-W")
    first, second = await two_order_checkout(client, alice)
    with clock.frozen(clock.now() + timedelta(hours=1)):
        assert await cancel_expired_orders() == 1  # the second went with the first
    statuses = await Order.filter(id__in=[first["id"], second["id"]]).values_list("status", flat=True)
    assert statuses == ["cancelled", "cancelled"]
    assert (await Sku.get(id=buds.id)).stock == buds.stock


async def test_each_order_refunds_on_its_own_up_to_what_it_was_paid(client, simulator, alice, settings):
    first, second = await two_order_checkout(client, alice)
    paid = await pay_order(client, simulator, alice["headers"], first["id"])
    total = first["payable"] + second["payable"]
    shopper, tea = await _shopper_of(second["id"]), await OrderLine.get(order_id=second["id"])
    # when the shopper gets part of one tea of the second order back (after-sales)
    part = await request_aftersale(
        shopper=shopper,
        order_id=second["id"],
        kind="refund_only",
        lines=[LineAsk(tea.id, 1, 1_000)],
        reason="少发一个配件",
        settings=settings,
    )

    # then WeChat Pay returns that much of the one transaction (told its whole total)
    async def succeeded() -> bool:
        return (await Refund.get(aftersale_id=part.id)).status == "succeeded"

    await eventually(succeeded)
    _, state = await sim(simulator, "GET", "/pay/state")
    refund = state["refunds"][(await Refund.get(aftersale_id=part.id)).out_refund_no]
    assert (refund["amount"]["refund"], refund["amount"]["total"]) == (1_000, total)
    assert refund["transaction_id"] == paid["transaction_id"]
    # and the order keeps its status; the other order is untouched
    second_now, first_now = (
        await _order(client, alice, second["id"]),
        await _order(client, alice, first["id"]),
    )
    assert second_now["status"] == "paid" and [r["amount"] for r in second_now["refunds"]] == [1_000]
    assert first_now["status"] == "paid" and first_now["refunds"] == []
    # when more than the rest of the tea is asked for, it is refused with a stable code
    left = tea.payable - 1_000
    for ask, code in (
        (LineAsk(tea.id, 1, left + 1), "aftersale_exceeds_line"),
        (LineAsk(tea.id, 1, -5), "invalid_aftersale_lines"),
        (LineAsk(tea.id, 1, 1.5), "invalid_aftersale_lines"),  # type: ignore[arg-type]
    ):
        with pytest.raises(CommerceError) as refused:
            await request_aftersale(
                shopper=shopper,
                order_id=second["id"],
                kind="refund_only",
                lines=[ask],
                reason="多退",
                settings=settings,
            )
        assert refused.value.code == code
    # when the shopper asks for the rest of the second order back
    url = f"/api/v1/orders/{second['id']}/refunds"
    response = await client.post(url, json={"reason": "不想要了"}, headers=alice["headers"])
    assert response.status == 201, await response.text()

    # then exactly the rest (with the shipping fee) is returned and the order ends closed; the
    # first is still paid
    async def closed() -> bool:
        return (await Order.get(id=second["id"])).status == "closed"

    await eventually(closed)
    rest = second["payable"] - 1_000
    assert await Refund.filter(order_id=second["id"]).order_by("id").values_list("amount", flat=True) == [
        1_000,
        rest,
    ]
    assert (await Order.get(id=second["id"])).refunded == second["payable"]
    assert (await Order.get(id=first["id"])).status == "paid"
    # and nothing is left to refund of it
    again = await client.post(url, json={"reason": "再退"}, headers=alice["headers"])
    assert await _error(again) == (409, "order_not_refundable")


async def _shopper_of(order_id: int) -> Shopper:
    user = await User.get(orders__id=order_id)
    return Shopper(user_id=user.id, openid=user.openid)


async def test_the_shipping_upload_goes_split_and_ends_when_the_last_order_ships(client, simulator, alice):
    first, second = await two_order_checkout(client, alice)
    paid = await pay_order(client, simulator, alice["headers"], first["id"])
    # when the first merchant ships
    await ship_order(order_id=first["id"], carrier="YTO", tracking_no="YT1000000001", actor="staff:1")
    # then WeChat has a split delivery, not all delivered
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    assert [(u["delivery_mode"], u["is_all_delivered"]) for u in uploads] == [(2, False)]
    assert [p["tracking_no"] for p in uploads[0]["shipping_list"]] == ["YT1000000001"]
    # when the other merchant ships
    await ship_order(order_id=second["id"], carrier="ZTO", tracking_no="ZT2000000002", actor="staff:2")
    # then the last upload says all is delivered, with every parcel
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    assert [(u["delivery_mode"], u["is_all_delivered"], u["reupload"]) for u in uploads] == [
        (2, False, False),
        (2, True, False),
    ]
    assert {p["tracking_no"] for p in uploads[1]["shipping_list"]} == {"YT1000000001", "ZT2000000002"}


async def test_an_order_refunded_before_shipment_does_not_hold_back_the_split_shipment(
    client, simulator, alice
):
    first, second = await two_order_checkout(client, alice)
    paid = await pay_order(client, simulator, alice["headers"], first["id"])
    url = f"/api/v1/orders/{second['id']}/refunds"
    assert (await client.post(url, json={"reason": "不要了"}, headers=alice["headers"])).status == 201

    async def closed() -> bool:  # refunded whole: closed once WeChat Pay returned the money
        return (await Order.get(id=second["id"])).status == "closed"

    await eventually(closed)
    await ship_order(order_id=first["id"], carrier="YTO", tracking_no="YT1000000003", actor="staff:1")
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    assert [(u["delivery_mode"], u["is_all_delivered"]) for u in uploads] == [(2, True)]


@needs_real_database
async def test_two_refunds_of_one_order_at_once_never_return_more_than_it_was_paid(
    client, simulator, alice, settings
):
    first, second = await two_order_checkout(client, alice)
    await pay_order(client, simulator, alice["headers"], first["id"])
    shopper, tea = await _shopper_of(second["id"]), await OrderLine.get(order_id=second["id"])
    share = tea.payable * 6 // 10  # two of them are more than the line was paid
    # when two requests for that much of it arrive at the same moment
    results = await asyncio.gather(
        *(
            request_aftersale(
                shopper=shopper,
                order_id=second["id"],
                kind="refund_only",
                lines=[LineAsk(tea.id, 1, share)],
                reason="并发退款",
                settings=settings,
            )
            for _ in (1, 2)
        ),
        return_exceptions=True,
    )
    # then one refund is made and the other refused with the stable code
    assert sorted(type(r).__name__ for r in results) == ["AfterSaleView", "CommerceError"], results
    assert next(r for r in results if isinstance(r, CommerceError)).code == "aftersale_exceeds_line"
    order = await Order.get(id=second["id"])
    assert await Refund.filter(order_id=second["id"]).values_list("amount", flat=True) == [share]
    assert order.refunded == share <= order.payable
    assert (await Order.get(id=first["id"])).refunded == 0


async def test_money_arriving_for_a_cancelled_checkout_goes_back_order_by_order(
    client, simulator, alice, data_dir
):
    first, second = await two_order_checkout(client, alice)
    await pay_params(client, alice["headers"], first["id"])
    payment = await Payment.get(checkout__orders__id=first["id"])
    cancelled = await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=alice["headers"])
    assert cancelled.status == 200
    # when WeChat Pay says the checkout's transaction was paid after all (it crossed the close)
    headers, body = await genuine_pay_notification(
        data_dir, client.app[CORE].settings, first, "4200000000202612070000000001"
    )
    assert (await client.post("/pay/wechat/notify", data=body, headers=headers)).status == 204
    # then each order gets its own payable back, automatically, from the one payment
    await settle_outbox()
    refunds = (
        await Refund.filter(payment_id=payment.id)
        .order_by("order_id")
        .values_list("order_id", "amount", "automatic")
    )
    assert refunds == [(first["id"], first["payable"], True), (second["id"], second["payable"], True)]
    statuses = await Order.filter(id__in=[first["id"], second["id"]]).values_list("status", flat=True)
    assert statuses == ["cancelled", "cancelled"]
    # and each order's history says why
    returned = (
        await OrderEvent.filter(type="payment_returned")
        .order_by("order_id")
        .values_list("order_id", flat=True)
    )
    assert returned == [first["id"], second["id"]]


async def test_the_admin_order_page_shows_the_order_s_share_of_a_payment_of_two_orders(
    client, simulator, alice, settings
):
    first, second = await two_order_checkout(client, alice)
    await pay_order(client, simulator, alice["headers"], first["id"])
    tea = await OrderLine.get(order_id=second["id"])
    await request_aftersale(
        shopper=await _shopper_of(second["id"]),
        order_id=second["id"],
        kind="refund_only",
        lines=[LineAsk(tea.id, 1, 1_000)],
        reason="少发一个配件",
        settings=settings,
    )
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    # the second order's page shows its own part of the one payment, and its own refund
    page = await (await client.get(f"/admin/orders/{second['id']}")).text()
    assert f"¥{second['payable'] / 100:.2f}（与另 1 个订单合并支付）" in page
    assert "少发一个配件" in page
    # the first order's page shows its part, and no refund
    page = await (await client.get(f"/admin/orders/{first['id']}")).text()
    assert f"¥{first['payable'] / 100:.2f}（与另 1 个订单合并支付）" in page
    assert "少发一个配件" not in page
