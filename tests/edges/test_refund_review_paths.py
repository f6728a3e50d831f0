"""Reviewing refunds when it is not simple: a refund decided already, one that does not exist,
two retries at once, a merchant's people on an order of a product now another merchant's, and
the refunds list as each role sees it over time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.orders.services import ship_order
from commerce.payments.models import Refund
from commerce.payments.queries import refunds_for_staff
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import PASSWORD, Shopper, add_staff, ask_refund, latest_refund, shipped_order, signed_in
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, settle_outbox, sim
from tests.factories import sku_row


def _form(csrf: str, order: dict | None = None, **extra) -> dict:
    return {"csrf_token": csrf, **({"order_id": order["id"]} if order else {}), **extra}


async def test_a_refund_decided_already_cannot_be_decided_again(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    refund = await latest_refund(order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # given the refund was approved
    approved = await client.post(
        f"/admin/refunds/{refund.id}/approve", data=_form(csrf, order), allow_redirects=False
    )
    assert approved.status == 302
    # when someone refuses it afterwards (a page opened before the approval)
    late = await client.post(f"/admin/refunds/{refund.id}/refuse", data=_form(csrf, order, reason="已拆封"))
    # then the order page says it was handled already, and the refund goes on
    assert late.status == 409 and "该退款申请已处理" in await late.text()
    assert (await Refund.get(id=refund.id)).refusal == ""
    assert not await OrderEvent.filter(
        order_id=order["id"], to_status="shipped", from_status="refunding"
    ).exists()

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "refunded"

    await eventually(refunded)
    # a refusal without a reason is a 400 on the order page; a refund that is not there is a 404
    other = await shipped_order(client, simulator, user="bob")
    await ask_refund(client, other)
    waiting = await latest_refund(other)
    blank = await client.post(f"/admin/refunds/{waiting.id}/refuse", data=_form(csrf, other, reason=" "))
    assert blank.status == 400 and "请填写拒绝原因" in await blank.text()
    assert (await Refund.get(id=waiting.id)).status == "awaiting_review"
    for url in ("/admin/refunds/999999/approve", "/admin/refunds/abc/approve"):
        assert (await client.post(url, data=_form(csrf, other))).status == 404
    # a conflict posted without the order to go back to is still a refusal, not a crash
    again = await client.post(f"/admin/refunds/{refund.id}/approve", data=_form(csrf))
    assert again.status == 400 and "该退款申请已处理" in await again.text()
    assert await Refund.filter(order_id=order["id"]).count() == 1


@needs_real_database
async def test_two_retries_of_a_failed_refund_at_once_submit_it_once(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    refund = await latest_refund(order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # given WeChat Pay refused the refund for good (403 NOT_ENOUGH)
    await sim(simulator, "POST", "/wx/faults", {"api": "refund", "http_status": 403, "code": "NOT_ENOUGH"})
    await client.post(f"/admin/refunds/{refund.id}/approve", data=_form(csrf, order), allow_redirects=False)
    assert (await Refund.get(id=refund.id)).status == "failed"
    # when two staff members submit it again at the same moment
    url = f"/admin/refunds/{refund.id}"
    answers = await asyncio.gather(
        *(client.post(f"{url}/retry", data=_form(csrf, order), allow_redirects=False) for _ in range(2))
    )
    # then one new refund is made and submitted, the other is told it cannot be retried
    assert sorted(a.status for a in answers) == [302, 409]
    assert await Refund.filter(order_id=order["id"]).count() == 2
    assert await OrderEvent.filter(order_id=order["id"], type="refund_retried").count() == 1

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "refunded"

    await eventually(refunded)


async def test_the_merchant_an_order_was_placed_with_decides_its_refund_after_the_product_moved(
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
    order = await alice.order(["A1-1"])
    await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no="SF1234567890", actor="staff:0")
    await settle_outbox()
    asked = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice.headers
    )
    assert asked.status == 201
    refund = await Refund.get(order_id=order["id"])
    # and the tea handed over to merchant B since
    await Product.filter(spu_code="A1").update(merchant_id=b)
    # when merchant B's owner looks for the refund and approves it
    csrf = await signed_in(client, "b-owner")
    assert order["order_no"] not in await (await client.get("/admin/refunds")).text()
    theirs = await client.post(f"/admin/refunds/{refund.id}/approve", data=_form(csrf, order))
    # then it is not found: the order is A's
    assert theirs.status == 404
    assert (await Refund.get(id=refund.id)).status == "awaiting_review"
    # and merchant A's owner sees it with its amount and approves it
    csrf = await signed_in(client, "a-owner")
    listed = await (await client.get("/admin/refunds")).text()
    assert order["order_no"] in listed and f"¥{refund.amount / 100:.2f}" in listed
    done = await client.post(
        f"/admin/refunds/{refund.id}/approve", data=_form(csrf, order), allow_redirects=False
    )
    assert done.status == 302 and (await Refund.get(id=refund.id)).status != "awaiting_review"


async def test_a_merchant_decides_the_refund_of_its_own_order_of_a_two_merchant_checkout_only(
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
    await create_platform_admin(username="boss", password=PASSWORD)
    alice = await Shopper.start(client, simulator, "alice")
    # given one checkout of A's tea and B's coffee: an order each, both shipped and sent back
    ours, theirs = (await alice.order(["A1-1", "B1-1"]))["checkout"]["orders"]
    refunds = {}
    for order in (ours, theirs):
        tracking_no = "SF" + order["order_no"][-10:]
        await ship_order(order_id=order["id"], carrier="顺丰速运", tracking_no=tracking_no, actor="staff:0")
        await settle_outbox()
        asked = await client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice.headers
        )
        assert asked.status == 201
        refunds[order["id"]] = (await Refund.get(order_id=order["id"])).id
    # when merchant A's owner looks at the refunds and decides both
    csrf = await signed_in(client, "a-owner")
    listed = await (await client.get("/admin/refunds")).text()
    assert ours["order_no"] in listed and theirs["order_no"] not in listed
    foreign = await client.post(f"/admin/refunds/{refunds[theirs['id']]}/approve", data=_form(csrf, theirs))
    own = await client.post(
        f"/admin/refunds/{refunds[ours['id']]}/approve", data=_form(csrf, ours), allow_redirects=False
    )
    # then B's is not found for A and stays waiting, A's own is decided
    assert foreign.status == 404
    assert (await Refund.get(id=refunds[theirs["id"]])).status == "awaiting_review"
    assert own.status == 302 and (await Refund.get(id=refunds[ours["id"]])).status != "awaiting_review"


async def test_the_refunds_list_shows_how_long_each_has_waited_and_filters_by_status(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    empty = await (await client.get("/admin/refunds", params={"status": "succeeded"})).text()
    assert order["order_no"] not in empty
    waited = {timedelta(minutes=5): "5 分钟", timedelta(hours=3, minutes=7): "3 小时 7 分钟"}
    waited[timedelta(days=2, hours=4)] = "2 天 4 小时"
    start = clock.now()
    for later, text in waited.items():
        with clock.frozen(start + later):
            await signed_in(client, "boss")  # a session of that moment
            page = await (await client.get("/admin/refunds", params={"status": "awaiting_review"})).text()
            assert order["order_no"] in page and text in page, text


async def test_refunds_awaiting_review_come_first_oldest_on_top_across_pages(client, simulator):
    orders = [await shipped_order(client, simulator, user=name) for name in ("ann", "ben", "cat", "dan")]
    for order in orders:
        await ask_refund(client, order)
    # given the first asked is refused: three wait for review
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    first = await latest_refund(orders[0])
    refused = await client.post(
        f"/admin/refunds/{first.id}/refuse",
        data=_form(csrf, orders[0], reason="已拆封"),
        allow_redirects=False,
    )
    assert refused.status == 302
    # when staff page through them two at a time
    pages = [await refunds_for_staff(merchant_id=None, page=n, page_size=2) for n in (1, 2, 3)]
    # then the waiting ones come first, longest waiting on top, then the decided one
    numbers = [[item.order_no for item in page.items] for page in pages]
    assert numbers == [
        [orders[1]["order_no"], orders[2]["order_no"]],
        [orders[3]["order_no"], orders[0]["order_no"]],
        [],
    ]
    assert [(p.total, p.awaiting_review) for p in pages] == [(4, 3)] * 3
