"""After-sales refunds in the admin web: a shopper asks for a refund of a shipped order through
the API, staff approve it (WeChat Pay, here the simulator, returns the money) or refuse it with a
reason the shopper reads. Approving twice does it once; agents decide only small refunds;
merchants only their own orders; a refund WeChat Pay refused can be submitted again."""

from __future__ import annotations

import asyncio

from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.payments.models import Refund
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.builders import (
    CABLE,
    PASSWORD,
    add_staff,
    ask_refund,
    csrf_of,
    latest_refund,
    shipped_order,
    signed_in,
)
from tests.edges.paying import eventually, settle_outbox, sim
from tests.factories import seed_small_catalog


async def _sim_refunds(simulator) -> list[dict]:
    _, state = await sim(simulator, "GET", "/pay/state")
    refunds = state["refunds"]
    return list(refunds.values()) if isinstance(refunds, dict) else refunds


async def test_an_admin_approves_an_after_sales_refund_and_wechat_pay_returns_the_money(client, simulator):
    # given a shipped order whose shopper asks for a refund
    order = await shipped_order(client, simulator)
    stock = (await Sku.get(id=order["sku_id"])).stock
    await ask_refund(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    # the refunds list shows it first, waiting for review, linked to its order
    listed = await (await client.get("/admin/refunds")).text()
    assert order["order_no"] in listed and "待审核" in listed and "分钟" in listed
    assert f'href="/admin/orders/{order["id"]}"' in listed
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    refund = await latest_refund(order)
    assert f"/admin/refunds/{refund.id}/approve" in page and "耳机左边没声音" in page
    # when the admin approves it
    approved = await client.post(
        f"/admin/refunds/{refund.id}/approve",
        data={"csrf_token": csrf_of(page), "order_id": order["id"]},
        allow_redirects=False,
    )
    assert (approved.status, approved.headers["Location"]) == (302, f"/admin/orders/{order['id']}")

    # then WeChat Pay refunds it and the order ends refunded; shipped goods do not go back on sale
    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "refunded"

    await eventually(refunded)
    assert (await Sku.get(id=order["sku_id"])).stock == stock
    assert [(r["out_refund_no"], r["status"]) for r in await _sim_refunds(simulator)] == [
        (refund.out_refund_no, "SUCCESS")
    ]
    detail = await (await client.get(f"/api/v1/orders/{order['id']}", headers=order["headers"])).json()
    assert [r["status"] for r in detail["refunds"]] == ["succeeded"]
    assert await AuditEntry.filter(action="refund.approve", object_id=str(refund.id)).exists()
    # and the timeline says who approved it
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "同意退款" in page and "boss（平台管理员）" in page


async def test_a_refused_refund_sends_the_order_back_to_shipped_and_the_shopper_reads_why(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order, reason="不想要了")
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    refund = await latest_refund(order)
    url = f"/admin/refunds/{refund.id}/refuse"
    # a refusal needs a reason
    empty = await client.post(url, data={"csrf_token": csrf, "order_id": order["id"], "reason": " "})
    assert empty.status == 400 and "拒绝原因" in await empty.text()
    # when the admin refuses with a reason
    refused = await client.post(
        url,
        data={"csrf_token": csrf, "order_id": order["id"], "reason": "商品已拆封使用，不支持无理由退货"},
        allow_redirects=False,
    )
    # then the order is shipped again and the shopper reads why in the order's detail
    assert refused.status == 302
    assert (await Order.get(id=order["id"])).status == "shipped"
    detail = await (await client.get(f"/api/v1/orders/{order['id']}", headers=order["headers"])).json()
    assert detail["status"] == "shipped"
    assert [(r["status"], r["refusal"]) for r in detail["refunds"]] == [
        ("refused", "商品已拆封使用，不支持无理由退货")
    ]
    assert await AuditEntry.filter(action="refund.refuse", object_id=str(refund.id)).exists()
    # nothing reached WeChat Pay, and WeChat's shipping record was not uploaded again
    await settle_outbox()
    assert await _sim_refunds(simulator) == []
    _, state = await sim(simulator, "GET", "/pay/state")
    assert len(state["shipping"][order["transaction_id"]]) == 1
    # approving it afterwards changes nothing
    late = await client.post(
        f"/admin/refunds/{refund.id}/approve", data={"csrf_token": csrf, "order_id": order["id"]}
    )
    assert late.status == 409 and "已处理" in await late.text()
    assert (await Refund.get(id=refund.id)).status == "refused"


async def test_two_staff_approving_at_once_make_one_refund(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    refund = await latest_refund(order)
    # when two approvals race
    form = {"csrf_token": csrf, "order_id": str(order["id"])}
    answers = await asyncio.gather(
        *(
            client.post(f"/admin/refunds/{refund.id}/approve", data=form, allow_redirects=False)
            for _ in range(2)
        )
    )
    # then one wins, the other is told it was handled, and WeChat Pay sees one refund
    assert sorted(a.status for a in answers) == [302, 409]

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "refunded"

    await eventually(refunded)
    assert len(await _sim_refunds(simulator)) == 1
    assert await OrderEvent.filter(order_id=order["id"], type="refund_approved").count() == 1
    assert await AuditEntry.filter(action="refund.approve").count() == 1


async def test_an_agent_decides_refunds_up_to_the_limit_only(client, simulator):
    limit = client.app[CORE].settings.agent_refund_limit_fen
    await seed_small_catalog()
    await import_rows([CABLE])
    small = await shipped_order(client, simulator, sku_code="P9-1")
    large = await shipped_order(client, simulator, sku_code="P2-W", user="bob")
    assert small["payable"] <= limit < large["payable"]
    await ask_refund(client, small, reason="数据线坏了")
    await ask_refund(client, large, reason="耳机坏了")
    await add_staff("agent-1", StaffRole.AGENT)
    csrf = await signed_in(client, "agent-1")
    small_refund, large_refund = await latest_refund(small), await latest_refund(large)
    # the large one shows no approve form, and approving it anyway is refused clearly
    page = await (await client.get(f"/admin/orders/{large['id']}")).text()
    assert "/approve" not in page
    over = await client.post(
        f"/admin/refunds/{large_refund.id}/approve", data={"csrf_token": csrf, "order_id": large["id"]}
    )
    assert over.status == 403 and "超过客服可处理的" in await over.text()
    assert (await Refund.get(id=large_refund.id)).status == "awaiting_review"
    # the small one the agent approves
    ok = await client.post(
        f"/admin/refunds/{small_refund.id}/approve",
        data={"csrf_token": csrf, "order_id": small["id"]},
        allow_redirects=False,
    )
    assert ok.status == 302
    assert (await Refund.get(id=small_refund.id)).reviewed_by.startswith("staff:")


async def test_merchants_review_only_refunds_of_their_own_orders(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    refund = await latest_refund(order)
    other = await ensure_merchant(code="other", name="别家")
    own = await ensure_merchant()  # the demo products are the platform's own shop's
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    await add_staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await add_staff("finance-1", StaffRole.FINANCE)
    # another merchant's owner neither sees nor approves it
    csrf = await signed_in(client, "other-owner")
    assert order["order_no"] not in await (await client.get("/admin/refunds")).text()
    forged = await client.post(
        f"/admin/refunds/{refund.id}/approve", data={"csrf_token": csrf, "order_id": order["id"]}
    )
    assert forged.status == 404
    # finance does not decide refunds
    csrf = await signed_in(client, "finance-1")
    refused = await client.post(
        f"/admin/refunds/{refund.id}/approve", data={"csrf_token": csrf, "order_id": order["id"]}
    )
    assert refused.status == 403
    assert (await Refund.get(id=refund.id)).status == "awaiting_review"
    # the merchant's own people do (its after-sales are theirs)
    csrf = await signed_in(client, "own-clerk")
    assert order["order_no"] in await (await client.get("/admin/refunds")).text()
    clerk = await client.post(
        f"/admin/refunds/{refund.id}/approve",
        data={"csrf_token": csrf, "order_id": order["id"]},
        allow_redirects=False,
    )
    assert clerk.status == 302 and (await Refund.get(id=refund.id)).status != "awaiting_review"


async def test_a_refund_wechat_pay_refused_is_submitted_again_with_a_new_number(client, simulator):
    order = await shipped_order(client, simulator)
    other = await shipped_order(client, simulator, user="bob")
    await ask_refund(client, order)
    refund = await latest_refund(order)
    # given someone refunded another order by hand at WeChat Pay's merchant platform under the
    # refund number our shop will use for this one
    await client.app[CORE].pay.refund(
        out_trade_no=other["order_no"],
        out_refund_no=refund.out_refund_no,
        amount=1,
        total=other["payable"],
        reason="商户平台手工退款",
    )
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    form = {"csrf_token": csrf, "order_id": order["id"]}
    # when the admin approves ours, WeChat Pay refuses it (the number's parameters differ)
    await client.post(f"/admin/refunds/{refund.id}/approve", data=form, allow_redirects=False)

    async def failed() -> bool:
        return (await Refund.get(id=refund.id)).status == "failed"

    await eventually(failed)
    assert await OrderEvent.filter(order_id=order["id"], type="refund_failed").exists()
    listed = await (await client.get("/admin/refunds", params={"status": "failed"})).text()
    assert order["order_no"] in listed and "需处理" in listed
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert f"/admin/refunds/{refund.id}/retry" in page and "微信支付拒绝退款" in page
    # then the admin submits it again, under a new number, and the money goes back
    again = await client.post(f"/admin/refunds/{refund.id}/retry", data=form, allow_redirects=False)
    assert again.status == 302

    async def refunded() -> bool:
        return (await Order.get(id=order["id"])).status == "refunded"

    await eventually(refunded)
    retried = await latest_refund(order)
    assert retried.out_refund_no == f"{refund.out_refund_no}_2" and retried.status == "succeeded"
    assert await AuditEntry.filter(action="refund.retry", object_id=str(refund.id)).exists()
    # a second retry of the same failure does nothing
    twice = await client.post(f"/admin/refunds/{refund.id}/retry", data=form)
    assert twice.status == 409 and await Refund.filter(order_id=order["id"]).count() == 2


async def test_an_abnormal_refund_is_left_to_the_merchant_platform(client, simulator):
    order = await shipped_order(client, simulator)
    await ask_refund(client, order)
    refund = await latest_refund(order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # given the bank refuses the original path (WeChat Pay ends the refund ABNORMAL)
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "ABNORMAL"})
    form = {"csrf_token": csrf, "order_id": order["id"]}
    await client.post(f"/admin/refunds/{refund.id}/approve", data=form, allow_redirects=False)

    async def failed() -> bool:
        return (await Refund.get(id=refund.id)).status == "failed"

    await eventually(failed)
    # then the page says to handle it at the merchant platform, and a retry is refused: WeChat
    # Pay still holds the money and would refuse a new refund number
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "/retry" not in page and "手动处理" in page
    retry = await client.post(f"/admin/refunds/{refund.id}/retry", data=form)
    assert retry.status == 409 and "手动处理" in await retry.text()
    assert len(await _sim_refunds(simulator)) == 1
    assert (await Order.get(id=order["id"])).status == "refunding"
