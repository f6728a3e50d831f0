"""Fulfilment: express shipments recorded with the order's shipping, pickup codes verified once
at their own point, virtual goods fulfilled at once; WeChat's shipping upload says which."""

from __future__ import annotations

import asyncio

import pytest

from commerce.errors import CommerceError
from commerce.fulfilment import services as fulfilment
from commerce.fulfilment.errors import FulfilmentError
from commerce.orders.errors import OrderError
from commerce.orders.services import ship_order
from commerce.staff.states import StaffRole
from tests.builders import paid_order, refused, shipped_order, staff_signed_in
from tests.concurrency import needs_real_database
from tests.edges.paying import settle_outbox, sim


async def _shown(client, order: dict) -> dict:
    got = await client.get(f"/api/v1/orders/{order['id']}", headers=order["headers"])
    assert got.status == 200, await got.text()
    return await got.json()


async def _uploads(simulator, order: dict) -> list[dict]:
    _, state = await sim(simulator, "GET", "/pay/state")
    return state["shipping"].get(order["transaction_id"], [])


async def _ready_at_own_point(order: dict) -> tuple[int, str]:
    """(point id, code) of the paid order made ready for pickup at its merchant's point."""
    point = await fulfilment.create_pickup_point(
        name="人民路店", address="上海市黄浦区人民路 1 号", merchant_id=order["merchant_id"]
    )
    ready = await fulfilment.mark_ready_for_pickup(
        order_id=order["id"], point_id=point.id, merchant_id=order["merchant_id"], actor="staff:1"
    )
    return point.id, ready.pickup_code


async def test_shipping_an_order_records_its_express_fulfilment(client, simulator):
    # given a paid order, shipped by the merchant
    order = await shipped_order(client, simulator)
    # then the shopper sees the express fulfilment, and WeChat heard of an express parcel
    shown = (await _shown(client, order))["fulfilment"]
    assert shown["kind"] == "express" and shown["status"] == "shipped"
    assert shown["carrier"] == "顺丰速运" and shown["tracking_no"] == "SF" + order["order_no"][-10:]
    [upload] = await _uploads(simulator, order)
    assert upload["logistics_type"] == 1 and upload["shipping_list"][0]["express_company"] == "SF"
    # when the shopper confirms receipt, the parcel is delivered
    confirmed = await client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=order["headers"])
    assert confirmed.status == 200
    assert (await confirmed.json())["fulfilment"]["status"] == "delivered"


async def test_a_pickup_code_verifies_once_and_only_at_its_point(client, simulator):
    # given a paid order waiting at its merchant's pickup point, and another merchant's point
    order = await paid_order(client, simulator)
    point_id, code = await _ready_at_own_point(order)
    assert code.isdigit() and 6 <= len(code) <= 8
    other = await fulfilment.create_pickup_point(
        name="别家店", address="别处", merchant_id=order["merchant_id"] + 1
    )
    shown = (await _shown(client, order))["fulfilment"]
    assert shown == {
        "kind": "pickup",
        "status": "ready",
        "carrier": "",
        "tracking_no": "",
        "pickup_point_id": point_id,
        "pickup_point_name": "人民路店",
        "pickup_point_address": "上海市黄浦区人民路 1 号",
        "pickup_point_hours": "",
        "pickup_code": code,
    }
    assert (await _shown(client, order))["status"] == "paid"
    # the order cannot also be shipped by a carrier
    with pytest.raises(CommerceError) as caught:
        await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF12345678", actor="staff:1")
    assert refused(caught, FulfilmentError.IS_PICKUP)
    # when the other point's staff try the code at their point: refused, wrong point
    with pytest.raises(CommerceError) as caught:
        await fulfilment.verify_pickup(
            point_id=other.id, code=code, merchant_id=other.merchant_id, actor="staff:2"
        )
    assert refused(caught, FulfilmentError.WRONG_POINT)
    # when they try it at the right point, which is not theirs: refused
    with pytest.raises(CommerceError) as caught:
        await fulfilment.verify_pickup(
            point_id=point_id, code=code, merchant_id=other.merchant_id, actor="staff:2"
        )
    assert refused(caught, FulfilmentError.POINT_NOT_FOUND)
    # when the point's own staff verify it: picked up, the order completed
    verified = await fulfilment.verify_pickup(
        point_id=point_id, code=code, merchant_id=order["merchant_id"], actor="staff:1"
    )
    assert verified == order["id"]
    await settle_outbox()
    shown = await _shown(client, order)
    assert shown["status"] == "completed"
    assert shown["fulfilment"]["status"] == "picked_up" and shown["fulfilment"]["pickup_code"] == ""
    # and WeChat heard of a pickup: logistics_type 4, one item with its description, no carrier
    [upload] = await _uploads(simulator, order)
    assert upload["logistics_type"] == 4 and upload["delivery_mode"] == 1
    assert upload["shipping_list"] == [{"item_desc": upload["shipping_list"][0]["item_desc"]}]
    assert upload["shipping_list"][0]["item_desc"]
    # when the code is shown a second time: refused, used
    with pytest.raises(CommerceError) as caught:
        await fulfilment.verify_pickup(point_id=point_id, code=code, merchant_id=None, actor="staff:0")
    assert refused(caught, FulfilmentError.CODE_USED)
    # a code nobody holds is invalid
    with pytest.raises(CommerceError) as caught:
        await fulfilment.verify_pickup(point_id=point_id, code="12", merchant_id=None, actor="staff:0")
    assert refused(caught, FulfilmentError.INVALID_CODE)


async def test_only_a_paid_order_waits_for_pickup(client, simulator):
    order = await shipped_order(client, simulator)
    point = await fulfilment.create_pickup_point(name="店", address="址", merchant_id=order["merchant_id"])
    with pytest.raises(CommerceError) as caught:
        await fulfilment.mark_ready_for_pickup(
            order_id=order["id"], point_id=point.id, merchant_id=None, actor="staff:0"
        )
    assert refused(caught, OrderError.INVALID_TRANSITION)


async def test_virtual_goods_are_fulfilled_at_once(client, simulator):
    order = await paid_order(client, simulator)
    done = await fulfilment.fulfil_virtual(
        order_id=order["id"], merchant_id=order["merchant_id"], actor="staff:1"
    )
    assert done.kind == "none" and done.status == "fulfilled"
    await settle_outbox()
    assert (await _shown(client, order))["status"] == "completed"
    [upload] = await _uploads(simulator, order)
    assert upload["logistics_type"] == 3 and "tracking_no" not in upload["shipping_list"][0]


async def test_the_merchants_staff_verify_a_code_on_the_admin(client, simulator):
    # given an order waiting at its merchant's point, and that merchant's owner signed in
    order = await paid_order(client, simulator)
    point_id, code = await _ready_at_own_point(order)
    csrf = await staff_signed_in(client, "owner1", StaffRole.MERCHANT_OWNER, order["merchant_id"])
    page = await client.get("/admin/pickups")
    assert page.status == 200 and "人民路店" in await page.text()
    # when a wrong code is typed, then the right one twice
    form = {"csrf_token": csrf, "point_id": str(point_id)}
    wrong = await client.post(
        "/admin/pickups/verify", data={**form, "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status == 409 and "提货码无效" in await wrong.text()
    done = await client.post("/admin/pickups/verify", data={**form, "code": code})
    assert done.status == 200 and "核销成功" in await done.text()
    again = await client.post("/admin/pickups/verify", data={**form, "code": code})
    assert again.status == 409 and "已核销" in await again.text()
    assert (await _shown(client, order))["status"] == "completed"


async def test_staff_without_the_shipping_permission_cannot_verify(client, simulator):
    order = await paid_order(client, simulator)
    point_id, code = await _ready_at_own_point(order)
    csrf = await staff_signed_in(client, "cs1", StaffRole.AGENT, None)
    posted = await client.post(
        "/admin/pickups/verify", data={"csrf_token": csrf, "point_id": str(point_id), "code": code}
    )
    assert posted.status == 403
    assert (await _shown(client, order))["status"] == "paid"


@needs_real_database
async def test_two_verifications_of_one_code_at_once_one_wins(client, simulator):
    order = await paid_order(client, simulator)
    point_id, code = await _ready_at_own_point(order)

    async def verify():
        return await fulfilment.verify_pickup(point_id=point_id, code=code, merchant_id=None, actor="staff:0")

    outcomes = await asyncio.gather(verify(), verify(), return_exceptions=True)
    assert sorted(map(repr, outcomes)).count(repr(order["id"])) == 1
    [lost] = [o for o in outcomes if isinstance(o, Exception)]
    assert isinstance(lost, CommerceError) and lost.error_code is FulfilmentError.CODE_USED
    await settle_outbox()
    assert (await _shown(client, order))["status"] == "completed"
    assert len(await _uploads(simulator, order)) == 1
