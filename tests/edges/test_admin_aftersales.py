"""After-sales in the admin web: a shopper asks through the API, staff find the request in the
list (filters, pages), read it (lines, money, photos, the return, the refund, the timeline) and
act on it by its state: approve (WeChat Pay, here the simulator, returns the money), refuse with
a reason the shopper reads, confirm a return's receipt, retry a refund WeChat Pay refused, add a
note. Agents decide only small requests, merchants only their own, finance none; the old refunds
address leads here."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from shop.app import CORE
from tests.builders import CABLE, PASSWORD, add_staff, csrf_of, shipped_order, signed_in
from tests.edges.aftersale_steps import ask, press, shopper_sees, told
from tests.edges.paying import eventually, settle_outbox, sim
from tests.factories import seed_small_catalog


async def _sim_refunds(simulator) -> list[dict]:
    _, state = await sim(simulator, "GET", "/pay/state")
    refunds = state["refunds"]
    return list(refunds.values()) if isinstance(refunds, dict) else refunds


async def _status(client, order: dict, aftersale_id: int) -> str:
    return (await shopper_sees(client, order, aftersale_id))["status"]


async def test_an_admin_approves_a_refund_after_shipment_and_wechat_pay_returns_the_money(client, simulator):
    # given a shipped order whose shopper (a follower of the official account) asks for her
    # money back, with a description
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    order = await shipped_order(client, simulator)
    stock = (await Sku.get(id=order["sku_id"])).stock
    asked = await ask(client, order, reason=None, description="左耳没声音<b>")
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    # the list shows it waiting for review, linked to it and to its order
    listed = await (await client.get("/admin/aftersales")).text()
    assert asked["aftersale_no"] in listed and "待审核" in listed and "分钟" in listed
    assert (
        f'href="/admin/aftersales/{asked["id"]}"' in listed
        and f'href="/admin/orders/{order["id"]}"' in listed
    )
    # its page shows the lines, the money, the description (escaped) and what may be done
    page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
    assert (
        f"/admin/aftersales/{asked['id']}/approve" in page
        and f"/admin/aftersales/{asked['id']}/refuse" in page
    )
    assert "¥799.00" in page and "左耳没声音&lt;b&gt;" in page and "左耳没声音<b>" not in page
    assert "/receive" not in page and "/retry" not in page
    # the order's page links its request
    order_page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert f'href="/admin/aftersales/{asked["id"]}"' in order_page
    # when the admin approves it
    approved = await press(client, asked["id"], "approve")
    assert (approved.status, approved.headers["Location"]) == (302, f"/admin/aftersales/{asked['id']}")

    # then WeChat Pay refunds it; shipped goods do not go back on sale
    async def refunded() -> bool:
        return await _status(client, order, asked["id"]) == "refunded"

    await eventually(refunded)
    assert (await Sku.get(id=order["sku_id"])).stock == stock
    assert [r["status"] for r in await _sim_refunds(simulator)] == ["SUCCESS"]
    # and the timeline says who approved it
    page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
    assert "boss（平台管理员）" in page and "买家" in page and "已退回买家" in page
    assert "/approve" not in page
    # and the shopper heard both: approved, then refunded, with the amount
    await told(simulator, "alice", asked["aftersale_no"], "已同意")
    notices = await told(simulator, "alice", asked["aftersale_no"], "已退款")
    assert sorted(n for n in notices if asked["aftersale_no"] in n) == [
        f"您的售后申请 {asked['aftersale_no']} 已同意，¥799.00 将原路退回，一般 1-3 个工作日到账。",
        f"您的售后申请 {asked['aftersale_no']} 已退款 ¥799.00，已原路退回您的支付账户，请注意查收。",
    ]


async def test_a_refusal_needs_a_reason_and_the_shopper_reads_it(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    # a refusal without a reason is said on the page, and changes nothing
    blank = await press(client, asked["id"], "refuse", reason=" ")
    assert blank.status == 400 and "拒绝原因" in await blank.text()
    assert await _status(client, order, asked["id"]) == "requested"
    # when the admin refuses with a reason
    refused = await press(client, asked["id"], "refuse", reason="商品已拆封使用，不支持无理由退货")
    assert refused.status == 302
    # then the shopper reads why, and nothing reached WeChat Pay
    seen = await shopper_sees(client, order, asked["id"])
    assert (seen["status"], seen["refusal"]) == ("refused", "商品已拆封使用，不支持无理由退货")
    await settle_outbox()
    assert await _sim_refunds(simulator) == []
    # approving it afterwards (a page opened before) is refused on the page
    late = await press(client, asked["id"], "approve")
    assert late.status == 409 and "状态已变化" in await late.text()
    assert await _status(client, order, asked["id"]) == "refused"


async def test_two_staff_approving_at_once_make_one_refund(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    csrf = await signed_in(client, "boss")
    # when two approvals race
    url = f"/admin/aftersales/{asked['id']}/approve"
    answers = await asyncio.gather(
        *(client.post(url, data={"csrf_token": csrf}, allow_redirects=False) for _ in range(2))
    )
    # then one wins, the other is told it changed, and WeChat Pay sees one refund
    assert sorted(a.status for a in answers) == [302, 409]

    async def refunded() -> bool:
        return await _status(client, order, asked["id"]) == "refunded"

    await eventually(refunded)
    assert len(await _sim_refunds(simulator)) == 1


async def test_a_return_is_received_with_or_without_restocking_or_rejected(client, simulator):
    await create_platform_admin(username="boss", password=PASSWORD)
    kept, lost = await shipped_order(client, simulator), await shipped_order(client, simulator, user="bob")
    stock = (await Sku.get(id=kept["sku_id"])).stock
    requests = {}
    for order in (kept, lost):
        asked = await ask(client, order, kind="return_refund")
        requests[order["id"]] = asked["id"]
        await signed_in(client, "boss")
        assert (await press(client, asked["id"], "approve")).status == 302
        sent = await client.post(
            f"/api/v1/aftersales/{asked['id']}/return",
            json={"carrier": "顺丰速运", "tracking_no": "SF" + order["order_no"][-10:]},
            headers=order["headers"],
        )
        assert sent.status == 200, await sent.text()
    # the page shows the return's tracking and the receipt buttons
    page = await (await client.get(f"/admin/aftersales/{requests[kept['id']]}")).text()
    assert "SF" + kept["order_no"][-10:] in page and "/receive" in page and "/reject-return" in page
    # one comes back damaged: received, not restocked, refunded
    assert (await press(client, requests[kept["id"]], "receive", restock="no")).status == 302

    async def refunded() -> bool:
        return await _status(client, kept, requests[kept["id"]]) == "refunded"

    await eventually(refunded)
    assert (await Sku.get(id=kept["sku_id"])).stock == stock
    assert "未放回库存" in await (await client.get(f"/admin/aftersales/{requests[kept['id']]}")).text()
    # the other never arrives: rejected with a reason the shopper reads
    rejected = await press(client, requests[lost["id"]], "reject-return", reason="未收到退货")
    assert rejected.status == 302
    seen = await shopper_sees(client, lost, requests[lost["id"]])
    assert (seen["status"], seen["refusal"]) == ("refused", "未收到退货")


async def test_an_agent_decides_requests_up_to_the_limit_only(client, simulator):
    limit = client.app[CORE].settings.agent_refund_limit_fen
    await seed_small_catalog()
    await import_rows([CABLE])
    small = await shipped_order(client, simulator, sku_code="P9-1")
    large = await shipped_order(client, simulator, sku_code="P2-W", user="bob")
    assert small["payable"] <= limit < large["payable"]
    small_ask, large_ask = await ask(client, small), await ask(client, large)
    await add_staff("agent-1", StaffRole.AGENT)
    await signed_in(client, "agent-1")
    # the large one shows no approve form, says why, and approving it anyway is refused
    page = await (await client.get(f"/admin/aftersales/{large_ask['id']}")).text()
    assert "/approve" not in page and "超过客服可处理的额度" in page
    over = await press(client, large_ask["id"], "approve")
    assert over.status == 403 and "超过客服可处理的" in await over.text()
    assert await _status(client, large, large_ask["id"]) == "requested"
    # the small one the agent approves
    assert (await press(client, small_ask["id"], "approve")).status == 302
    assert await _status(client, small, small_ask["id"]) != "requested"


async def test_merchants_see_and_decide_only_their_own_and_finance_none(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    other = await ensure_merchant(code="other", name="别家")
    own = await ensure_merchant()  # the demo products are the platform's own shop's
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    await add_staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await add_staff("finance-1", StaffRole.FINANCE)
    # another merchant's owner neither sees, reads nor approves it
    await signed_in(client, "other-owner")
    assert asked["aftersale_no"] not in await (await client.get("/admin/aftersales")).text()
    assert (await client.get(f"/admin/aftersales/{asked['id']}")).status == 404
    assert (await press(client, asked["id"], "approve")).status == 404
    assert (await press(client, asked["id"], "notes", text="看看")).status == 404
    # finance has no after-sales: no entry in the navigation, 403 everywhere
    await signed_in(client, "finance-1")
    assert 'href="/admin/aftersales"' not in await (await client.get("/admin/")).text()
    assert (await client.get("/admin/aftersales")).status == 403
    assert (await client.get(f"/admin/aftersales/{asked['id']}")).status == 403
    assert (await press(client, asked["id"], "approve")).status == 403
    assert await _status(client, order, asked["id"]) == "requested"
    # the merchant's own people do (its after-sales are theirs)
    await signed_in(client, "own-clerk")
    assert asked["aftersale_no"] in await (await client.get("/admin/aftersales")).text()
    assert (await press(client, asked["id"], "approve")).status == 302
    assert await _status(client, order, asked["id"]) != "requested"


async def test_actions_need_the_pages_csrf_token_and_a_real_id(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    for data in ({}, {"csrf_token": "forged"}):
        forged = await client.post(f"/admin/aftersales/{asked['id']}/approve", data=data)
        assert forged.status == 403
    assert await _status(client, order, asked["id"]) == "requested"
    for path in ("/admin/aftersales/999999", "/admin/aftersales/abc"):
        assert (await client.get(path)).status == 404
    assert (await press(client, 999999, "approve")).status == 404
    # signed out, the list leads to the sign-in page
    client.session.cookie_jar.clear()
    signed_out = await client.get("/admin/aftersales", allow_redirects=False)
    assert (signed_out.status, signed_out.headers["Location"]) == (302, "/admin/login")


async def test_a_note_goes_on_the_timeline_escaped(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    noted = await press(client, asked["id"], "notes", text="已电话联系买家<script>x</script>")
    assert noted.status == 302
    page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
    assert "已电话联系买家&lt;script&gt;" in page and "<script>x" not in page
    empty = await press(client, asked["id"], "notes", text=" ")
    assert empty.status == 400
    assert await _status(client, order, asked["id"]) == "requested"  # a note changes nothing
    # and the shopper never reads staff's notes
    seen = await shopper_sees(client, order, asked["id"])
    assert [entry["type"] for entry in seen["timeline"]] == ["requested"] and "电话" not in str(seen)


async def test_a_refund_wechat_pay_refused_is_submitted_again_with_a_new_number(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    # given WeChat Pay refuses the refund for good (403 NOT_ENOUGH)
    await sim(simulator, "POST", "/wx/faults", {"api": "refund", "http_status": 403, "code": "NOT_ENOUGH"})
    assert (await press(client, asked["id"], "approve")).status == 302
    await settle_outbox()
    # then the list and the page say it needs someone, and what to do
    listed = await (await client.get("/admin/aftersales", params={"status": "refunding"})).text()
    assert asked["aftersale_no"] in listed and "需处理" in listed
    page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
    assert f"/admin/aftersales/{asked['id']}/retry" in page and "退款失败" in page and "重新提交" in page
    # the shopper sees a refund on its way, not WeChat Pay's refusal
    seen = await shopper_sees(client, order, asked["id"])
    assert (seen["status"], seen["refund_status"]) == ("refunding", "processing")
    # when the admin submits it again, under a new number, the money goes back
    await sim(simulator, "DELETE", "/wx/faults")
    assert (await press(client, asked["id"], "retry")).status == 302

    async def refunded() -> bool:
        return await _status(client, order, asked["id"]) == "refunded"

    await eventually(refunded)
    numbers = [r["out_refund_no"] for r in await _sim_refunds(simulator)]
    assert len(set(numbers)) == len(numbers) >= 1
    # a second retry is refused on the page
    twice = await press(client, asked["id"], "retry")
    assert twice.status == 409


async def test_an_abnormal_refund_is_left_to_the_merchant_platform(client, simulator):
    order = await shipped_order(client, simulator)
    asked = await ask(client, order)
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")
    # given the bank refuses the original path (WeChat Pay ends the refund ABNORMAL)
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "ABNORMAL"})
    assert (await press(client, asked["id"], "approve")).status == 302

    async def failed() -> bool:
        page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
        return "商户平台" in page

    await eventually(failed)
    # then the page says to handle it at the merchant platform, offers no retry, and a retry
    # posted anyway is refused: WeChat Pay still holds the money
    page = await (await client.get(f"/admin/aftersales/{asked['id']}")).text()
    assert "/retry" not in page and "手动处理" in page
    assert (await press(client, asked["id"], "retry")).status == 409
    assert len(await _sim_refunds(simulator)) == 1


async def test_the_list_filters_pages_and_the_old_refunds_address_leads_here(client, simulator):
    orders = [await shipped_order(client, simulator, user=name) for name in ("ann", "ben", "cat")]
    refund, back, third = (
        await ask(client, orders[0]),
        await ask(client, orders[1], kind="return_refund"),
        await ask(client, orders[2]),
    )
    await create_platform_admin(username="boss", password=PASSWORD)
    await signed_in(client, "boss")

    async def listed(**params) -> str:
        response = await client.get("/admin/aftersales", params=params)
        assert response.status == 200
        return await response.text()

    def shows(page: str) -> list[str]:
        return [a["aftersale_no"] for a in (refund, back, third) if a["aftersale_no"] in page]

    assert shows(await listed(kind="return_refund")) == [back["aftersale_no"]]
    assert shows(await listed(order_no=orders[2]["order_no"])) == [third["aftersale_no"]]
    assert shows(await listed(status="refunded")) == []
    assert len(shows(await listed(status="requested"))) == 3
    today = clock.to_shanghai(clock.now()).date()
    assert len(shows(await listed(**{"from": today.isoformat(), "to": today.isoformat()}))) == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert shows(await listed(**{"from": tomorrow})) == []
    bad_day = await listed(**{"from": "yesterday"})
    assert "日期格式" in bad_day and len(shows(bad_day)) == 3
    # unknown filters are ignored, odd pages are the first
    assert len(shows(await listed(status="lost", kind="exchange", page="-1"))) == 3
    # the old refunds list and the navigation lead to after-sales
    moved = await client.get("/admin/refunds", allow_redirects=False)
    assert (moved.status, moved.headers["Location"]) == (301, "/admin/aftersales")
    home = await (await client.get("/admin/")).text()
    assert 'href="/admin/aftersales"' in home and "售后" in home
    assert csrf_of(home)
