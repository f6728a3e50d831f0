"""Reviewing after-sales requests when it is not simple: one decided already, one that does not
exist, two retries at once, a merchant's people on an order of a product now another merchant's
or of a two-merchant checkout, and how long each request has waited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product
from commerce.merchants.services import ensure_merchant
from commerce.orders.services import ship_order
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import PASSWORD, Shopper, add_staff, shipped_order, signed_in
from tests.concurrency import needs_real_database
from tests.edges.aftersale_steps import ask, press, shopper_sees
from tests.edges.paying import eventually, settle_outbox, sim
from tests.factories import sku_row


async def _status(client, order: dict, aftersale_id: int) -> str:
    return (await shopper_sees(client, order, aftersale_id))["status"]


async def test_a_request_decided_already_cannot_be_decided_again(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # given the request was approved
    assert (await press(client, asked["id"], "approve")).status == 302
    # when someone refuses it afterwards (a page opened before the approval)
    late = await press(client, asked["id"], "refuse", reason="已拆封")
    # then the page says it changed, and the refund goes on
    assert late.status == 409 and "该售后申请状态已变化" in await late.text()

    async def refunded() -> bool:
        return await _status(client, order, asked["id"]) == "refunded"

    await eventually(refunded)
    assert (await shopper_sees(client, order, asked["id"]))["refusal"] == ""
    # receiving a return that is no return, or retrying a refund that succeeded, is refused too
    assert (await press(client, asked["id"], "receive", restock="yes")).status == 409
    assert (await press(client, asked["id"], "retry")).status == 409
    # a request that is not there is a 404
    for path in ("/admin/aftersales/999999/approve", "/admin/aftersales/abc/approve"):
        assert (await client.post(path, data={"csrf_token": csrf})).status == 404, path


@needs_real_database
async def test_two_retries_of_a_failed_refund_at_once_submit_it_once(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # given WeChat Pay refused the refund for good (403 NOT_ENOUGH)
    await sim(simulator, "POST", "/wx/faults", {"api": "refund", "http_status": 403, "code": "NOT_ENOUGH"})
    assert (await press(client, asked["id"], "approve")).status == 302
    await settle_outbox()
    await sim(simulator, "DELETE", "/wx/faults")
    # when two staff members submit it again at the same moment
    url = f"/admin/aftersales/{asked['id']}/retry"
    answers = await asyncio.gather(
        *(client.post(url, data={"csrf_token": csrf}, allow_redirects=False) for _ in range(2))
    )
    # then one new refund is made and submitted, the other is told it cannot be retried
    assert sorted(a.status for a in answers) == [302, 409]

    async def refunded() -> bool:
        return await _status(client, order, asked["id"]) == "refunded"

    await eventually(refunded)
    _, state = await sim(simulator, "GET", "/pay/state")
    refunds = state["refunds"]
    succeeded = [
        r for r in (refunds.values() if isinstance(refunds, dict) else refunds) if r["status"] == "SUCCESS"
    ]
    assert len(succeeded) == 1


async def test_the_merchant_an_order_was_placed_with_decides_its_request_after_the_product_moved(
    client, simulator
):
    # given merchant A's tea ordered, shipped and sent back for a refund
    a, b = (
        await ensure_merchant(code="shop-a", name="甲店"),
        await ensure_merchant(code="shop-b", name="乙店"),
    )
    tea = sku_row("A1", "A1-1", title="甲店茶叶", category="食品 > 茶叶 > 绿茶", price="19.90", stock=50)
    assert not (await import_rows([tea], merchant_id=a)).problems
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, a)
    await add_staff("b-owner", StaffRole.MERCHANT_OWNER, b)
    alice = await Shopper.start(client, simulator, "alice")
    order = {**await alice.order(["A1-1"]), "headers": alice.headers}
    await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0")
    await settle_outbox()
    asked = await ask(client, order)
    # and the tea handed over to merchant B since
    await Product.filter(spu_code="A1").update(merchant_id=b)
    # when merchant B's owner looks for the request and approves it
    await signed_in(client, "b-owner")
    assert asked["aftersale_no"] not in await (await client.get("/admin/aftersales")).text()
    # then it is not found: the order is A's
    assert (await press(client, asked["id"], "approve")).status == 404
    assert await _status(client, order, asked["id"]) == "requested"
    # and merchant A's owner sees it with its amount and approves it
    await signed_in(client, "a-owner")
    listed = await (await client.get("/admin/aftersales")).text()
    assert asked["aftersale_no"] in listed and f"¥{asked['amount'] / 100:.2f}" in listed
    assert (await press(client, asked["id"], "approve")).status == 302
    assert await _status(client, order, asked["id"]) != "requested"


async def test_a_merchant_decides_the_request_of_its_own_order_of_a_two_merchant_checkout_only(
    client, simulator
):
    a, b = (
        await ensure_merchant(code="shop-a", name="甲店"),
        await ensure_merchant(code="shop-b", name="乙店"),
    )
    tea = sku_row("A1", "A1-1", title="甲店茶叶", category="食品 > 茶叶 > 绿茶", price="19.90", stock=50)
    coffee = sku_row("B1", "B1-1", title="乙店咖啡", category="食品 > 咖啡 > 咖啡豆", price="29.90", stock=50)
    assert not (await import_rows([tea], merchant_id=a)).problems
    assert not (await import_rows([coffee], merchant_id=b)).problems
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, a)
    alice = await Shopper.start(client, simulator, "alice")
    # given one checkout of A's tea and B's coffee: an order each, both shipped and sent back
    ours, theirs = (await alice.order(["A1-1", "B1-1"]))["checkout"]["orders"]
    asked = {}
    for order in (ours, theirs):
        order["headers"] = alice.headers
        tracking_no = "SF" + order["order_no"][-10:]
        await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no=tracking_no, actor="staff:0")
        await settle_outbox()
        asked[order["id"]] = await ask(client, order)
    # when merchant A's owner looks at the list and decides both
    await signed_in(client, "a-owner")
    listed = await (await client.get("/admin/aftersales")).text()
    assert asked[ours["id"]]["aftersale_no"] in listed and asked[theirs["id"]]["aftersale_no"] not in listed
    foreign = await press(client, asked[theirs["id"]]["id"], "approve")
    own = await press(client, asked[ours["id"]]["id"], "approve")
    # then B's is not found for A and stays waiting, A's own is decided
    assert foreign.status == 404
    assert await _status(client, theirs, asked[theirs["id"]]["id"]) == "requested"
    assert own.status == 302 and await _status(client, ours, asked[ours["id"]]["id"]) != "requested"


async def test_the_list_shows_how_long_each_request_has_waited(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    waited = {timedelta(minutes=5): "5 分钟", timedelta(hours=3, minutes=7): "3 小时 7 分钟"}
    waited[timedelta(days=2, hours=4)] = "2 天 4 小时"
    start = clock.now()
    for later, text in waited.items():
        with clock.frozen(start + later):
            await signed_in(client, "boss")  # a session of that moment
            page = await (await client.get("/admin/aftersales", params={"status": "requested"})).text()
            assert asked["aftersale_no"] in page and text in page, text
