"""Subscribe messages (订阅消息): the mini-program asks which templates to request, reports what
the shopper accepted, and a notice the official account cannot deliver (the shopper does not
follow it, or its window closed) goes as a subscribe message, spending one acceptance."""

from __future__ import annotations

import asyncio

from commerce.community import leaders
from commerce.groupbuy.models import GroupSeat
from commerce.referrals import kols, tiers
from commerce.users.notice_templates import GROUP_RESULT
from commerce.users.notify import Channel, SubscribeNotice
from shop.app import CORE
from tests.builders import shopper_with_address
from tests.edges.community import LEADER_APPLICATION as APPLICATION
from tests.edges.group_deals import joined, tea_deal
from tests.edges.paying import eventually, pay_order, settle_outbox, sim

GROUP = "sim-tmpl-group-result"
PICKUP = "sim-tmpl-pickup-ready"
REVIEW = "sim-tmpl-review-result"


async def accepts(client, simulator, user: str, headers: dict, *template_ids: str, decision="accept") -> dict:
    """The shopper answers wx.requestSubscribeMessage on their phone; the mini-program reports
    WeChat's answer to the shop: the shop's view of their subscriptions."""
    status, answer = await sim(
        simulator,
        "POST",
        "/wx/subscribe",
        {"user": user, "template_ids": list(template_ids), "decision": decision},
    )
    assert status == 200, answer
    reported = await client.post(
        "/api/v1/subscriptions", json={"results": answer["results"]}, headers=headers
    )
    assert reported.status == 200, await reported.text()
    return await reported.json()


def credits_in(view: dict) -> dict[str, int]:
    return {template["template_id"]: template["credits"] for template in view["templates"]}


async def subscribe_messages(simulator, user: str) -> list[dict]:
    status, log = await sim(simulator, "GET", f"/wx/subscribe-messages?user={user}")
    assert status == 200, log
    return log["messages"]


async def custom_texts(simulator, user: str) -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log.get("messages", []) if m["direction"] == "custom"]


async def test_the_mini_program_learns_the_templates_and_reports_what_was_accepted(client, simulator):
    alice = await shopper_with_address(client, simulator, "alice")
    bob = await shopper_with_address(client, simulator, "bob")
    # the templates to ask for, none accepted yet
    listed = await client.get("/api/v1/subscriptions", headers=alice["headers"])
    assert listed.status == 200
    view = await listed.json()
    assert [(t["notice"], t["title"], t["template_id"], t["credits"]) for t in view["templates"]] == [
        ("group_result", "拼团结果通知", GROUP, 0),
        ("pickup_ready", "取货提醒", PICKUP, 0),
        ("review_result", "审核结果通知", REVIEW, 0),
    ]
    # accepted twice for the group result, refused for the pickup: two group messages to spend
    await accepts(client, simulator, "alice", alice["headers"], GROUP)
    view = await accepts(client, simulator, "alice", alice["headers"], GROUP)
    view = await accepts(client, simulator, "alice", alice["headers"], PICKUP, decision="reject")
    assert credits_in(view) == {GROUP: 2, PICKUP: 0, REVIEW: 0}
    # bob's are his own
    mine = await (await client.get("/api/v1/subscriptions", headers=bob["headers"])).json()
    assert credits_in(mine) == {GROUP: 0, PICKUP: 0, REVIEW: 0}

    # bad reports are refused whole, and change nothing
    async def refused(results) -> tuple[int, str]:
        answer = await client.post(
            "/api/v1/subscriptions", json={"results": results}, headers=alice["headers"]
        )
        return answer.status, (await answer.json())["error"]["code"]

    assert await refused({"someone-elses-template": "accept", GROUP: "accept"}) == (
        400,
        "unknown_subscribe_template",
    )
    assert await refused({GROUP: "maybe"}) == (400, "invalid_subscribe_decision")
    assert await refused({}) == (400, "invalid_request")
    assert await refused("accept") == (400, "invalid_request")
    unchanged = await (await client.get("/api/v1/subscriptions", headers=alice["headers"])).json()
    assert credits_in(unchanged) == {GROUP: 2, PICKUP: 0, REVIEW: 0}
    # and only a signed-in shopper reports
    assert (await client.post("/api/v1/subscriptions", json={"results": {GROUP: "accept"}})).status == 401


async def test_a_shopper_who_does_not_follow_hears_of_their_group_by_subscribe_message(client, simulator):
    # given Alice, who never followed the official account, accepted the group result when joining
    deal = await tea_deal(2)
    alice = await joined(client, simulator, "alice", deal, paid=False)
    await accepts(client, simulator, "alice", alice["shopper"]["headers"], GROUP)
    await pay_order(client, simulator, alice["shopper"]["headers"], alice["order"]["id"])
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    # when Bob (no subscription either way) fills the group
    await joined(client, simulator, "bob", deal, group_id)

    # then Alice's phone shows the group's result, opening her order
    async def told() -> bool:
        return bool(await subscribe_messages(simulator, "alice"))

    await eventually(told)
    [message] = await subscribe_messages(simulator, "alice")
    assert message["template_id"] == GROUP
    assert message["data"] == {"thing1": "龙井三人团", "phrase2": "拼团成功", "thing3": "商家将尽快发货"}
    assert message["page"] == f"pages/order/index?id={alice['order']['id']}"
    # her acceptance is spent; Bob, who accepted nothing, hears nothing anywhere
    view = await (await client.get("/api/v1/subscriptions", headers=alice["shopper"]["headers"])).json()
    assert credits_in(view)[GROUP] == 0
    assert await subscribe_messages(simulator, "bob") == []
    assert await custom_texts(simulator, "bob") == []


async def test_a_follower_in_the_window_hears_by_the_official_account_and_keeps_the_subscription(
    client, simulator
):
    deal = await tea_deal(2)
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    alice = await joined(client, simulator, "alice", deal, paid=False)
    await accepts(client, simulator, "alice", alice["shopper"]["headers"], GROUP)
    await pay_order(client, simulator, alice["shopper"]["headers"], alice["order"]["id"])
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    await joined(client, simulator, "bob", deal, group_id)

    async def told() -> bool:
        return any("已成团" in text for text in await custom_texts(simulator, "alice"))

    await eventually(told)
    await settle_outbox()
    assert await subscribe_messages(simulator, "alice") == []
    view = await (await client.get("/api/v1/subscriptions", headers=alice["shopper"]["headers"])).json()
    assert credits_in(view)[GROUP] == 1  # kept for a notice the official account cannot deliver


async def test_members_told_before_a_failure_are_not_told_again_when_the_event_is_retried(client, simulator):
    # given a group of two: Alice follows the official account; Bob does not, and accepted the
    # group result twice
    deal = await tea_deal(2)
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    alice = await joined(client, simulator, "alice", deal)
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    bob = await joined(client, simulator, "bob", deal, group_id, paid=False)
    await accepts(client, simulator, "bob", bob["shopper"]["headers"], GROUP)
    await accepts(client, simulator, "bob", bob["shopper"]["headers"], GROUP)
    # when Bob's payment fills the group, and WeChat fails the first subscribe message (Bob's,
    # after Alice was told), so the group's result is delivered again
    planned = {"api": "subscribe_send", "http_status": 503, "times": 1}
    assert (await sim(simulator, "POST", "/wx/faults", planned))[0] == 200
    await pay_order(client, simulator, bob["shopper"]["headers"], bob["order"]["id"])

    async def bob_told() -> bool:
        return bool(await subscribe_messages(simulator, "bob"))

    await eventually(bob_told, within=15)
    await settle_outbox()
    # then Bob is told once, spending one acceptance, and Alice, told before the failure, once
    assert len(await subscribe_messages(simulator, "bob")) == 1
    view = await (await client.get("/api/v1/subscriptions", headers=bob["shopper"]["headers"])).json()
    assert credits_in(view)[GROUP] == 1
    assert len([text for text in await custom_texts(simulator, "alice") if "已成团" in text]) == 1
    _, state = await sim(simulator, "GET", "/wx/state")
    assert state["calls"]["subscribe_send"] == 2  # the failed call and the one that went


async def test_an_acceptance_wechat_does_not_hold_is_forgotten(client, simulator):
    # given reports of two acceptances WeChat never gave (or spent since)
    deal = await tea_deal(2)
    alice = await joined(client, simulator, "alice", deal, paid=False)
    for _ in range(2):
        reported = await client.post(
            "/api/v1/subscriptions", json={"results": {GROUP: "accept"}}, headers=alice["shopper"]["headers"]
        )
    assert credits_in(await reported.json())[GROUP] == 2
    await pay_order(client, simulator, alice["shopper"]["headers"], alice["order"]["id"])
    group_id = (await GroupSeat.get(order_id=alice["order"]["id"])).group_id
    await joined(client, simulator, "bob", deal, group_id)

    # when the group succeeds, WeChat refuses the message (43101): nothing reaches Alice, and
    # the shop stops counting on any acceptance of that template
    async def forgotten() -> bool:
        view = await (await client.get("/api/v1/subscriptions", headers=alice["shopper"]["headers"])).json()
        return credits_in(view)[GROUP] == 0

    await eventually(forgotten)
    assert await subscribe_messages(simulator, "alice") == []
    _, state = await sim(simulator, "GET", "/wx/state")
    assert state["calls"]["subscribe_send"] >= 1


async def test_two_notices_at_once_spend_one_acceptance_once(client, simulator):
    # given WeChat holds two acceptances of Alice's, of which the shop was told one
    alice = await shopper_with_address(client, simulator, "alice")
    await sim(
        simulator, "POST", "/wx/subscribe", {"user": "alice", "template_ids": [GROUP], "decision": "accept"}
    )
    await accepts(client, simulator, "alice", alice["headers"], GROUP)
    notifier = client.app[CORE].notifier
    notice = SubscribeNotice(
        GROUP_RESULT, ("龙井三人团", "拼团成功", "商家将尽快发货"), page="pages/index/index"
    )
    # when two notices go at once
    channels = await asyncio.gather(
        *(notifier.tell(alice["user_id"], "已成团", otherwise=notice) for _ in range(2))
    )
    # then one went, the other found nothing left to spend
    assert sorted(channels) == [Channel.NONE, Channel.SUBSCRIBE_MESSAGE]
    assert len(await subscribe_messages(simulator, "alice")) == 1
    view = await (await client.get("/api/v1/subscriptions", headers=alice["headers"])).json()
    assert credits_in(view)[GROUP] == 0


async def test_an_applicant_who_does_not_follow_hears_the_review_by_subscribe_message(client, simulator):
    # given Alice, who never followed the official account, applied to be a leader and accepted
    # the review result in the mini-program
    alice = await shopper_with_address(client, simulator, "alice")
    applied = await client.post("/api/v1/leader/application", json=APPLICATION, headers=alice["headers"])
    assert applied.status == 200, await applied.text()
    await accepts(client, simulator, "alice", alice["headers"], REVIEW)
    # when the platform refuses it, with a reason longer than the keyword allows
    reason = "自提点照片不清晰，无法确认门店位置与营业状态，请重新拍摄"
    await leaders.refuse(
        leader_id=(await applied.json())["application"]["id"], reason=reason, actor="staff:1"
    )
    await settle_outbox()
    # then her phone shows the result, the reason cut to fit
    [message] = await subscribe_messages(simulator, "alice")
    assert message["template_id"] == REVIEW
    assert message["data"] == {"thing1": "团长申请", "phrase2": "未通过", "thing3": reason[:19] + "…"}


async def test_a_kol_who_does_not_follow_hears_of_their_approval_by_subscribe_message(client, simulator):
    alice = await shopper_with_address(client, simulator, "alice")
    applied = await client.post(
        "/api/v1/kol/application",
        json={"name": "林小美", "phone": "13912345678", "intro": "小红书美妆博主"},
        headers=alice["headers"],
    )
    assert applied.status == 200, await applied.text()
    await accepts(client, simulator, "alice", alice["headers"], REVIEW)
    kol_id = (await applied.json())["kol"]["id"]
    await kols.approve(kol_id=kol_id, default=tiers.DefaultTier("标准", 500), actor="staff:1")
    await settle_outbox()
    [message] = await subscribe_messages(simulator, "alice")
    assert message["data"] == {
        "thing1": "推广员申请",
        "phrase2": "已通过",
        "thing3": "打开推广中心获取推广链接",
    }
