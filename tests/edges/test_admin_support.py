"""Agents answer followers from the admin inbox: a conversation a follower started through the
bot, answered in the browser, arrives at the follower through WeChat (the simulator)."""

from __future__ import annotations

import re
from datetime import timedelta

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.merchants.services import ensure_merchant
from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher, create_platform_admin
from commerce.staff.states import StaffRole
from commerce.support.conversations import open_conversation
from commerce.support.models import CannedReply, Conversation
from commerce.users.models import User
from shop.app import CORE
from tests.builders import PASSWORD, csrf_of, paid_order, sign_in, staff_signed_in
from tests.edges.paying import sim
from tests.edges.shoppers import auth_headers, simulator_post


async def test_an_agent_answers_a_follower_from_the_inbox(client, simulator):
    # given a follower asked the bot for a human, with markup in her message
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "<b>快递</b>丢了"})
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    # the inbox lists it as waiting, the message shown escaped
    inbox = await (await client.get("/admin/support")).text()
    conversation = await Conversation.get()
    assert f"/admin/support/{conversation.id}" in inbox and "&lt;b&gt;快递&lt;/b&gt;丢了" in inbox
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert "&lt;b&gt;快递&lt;/b&gt;丢了" in page and "<b>快递</b>" not in page
    # when the agent replies
    reply = await client.post(
        f"/admin/support/{conversation.id}/reply",
        data={"text": "您好，马上为您查询", "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    assert reply.status == 302
    # then alice receives it through WeChat, and the conversation is the agent's
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    assert [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"] == [
        "您好，马上为您查询"
    ]
    agent = await StaffAccount.get(username="agent-1")
    assert (await Conversation.get(id=conversation.id)).agent_id == agent.id
    # and closing it ends it
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    closed = await client.post(
        f"/admin/support/{conversation.id}/close", data={"csrf_token": csrf_of(page)}, allow_redirects=False
    )
    assert closed.status == 302 and (await Conversation.get(id=conversation.id)).status == "closed"
    assert (await client.get("/admin/support/999999")).status == 404


async def test_a_reply_past_wechats_window_is_refused_clearly(client, simulator):
    # a conversation whose follower never wrote through WeChat (no window open)
    conversation, _ = await open_conversation(openid="o" + "x" * 27, user_id=None, reason="keyword")
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    response = await client.post(
        f"/admin/support/{conversation.id}/reply", data={"text": "在吗", "csrf_token": csrf_of(page)}
    )
    assert response.status == 409 and "48 小时" in await response.text()


async def test_finance_cannot_open_the_inbox(client):
    await staff_signed_in(client, "cashier", StaffRole.FINANCE)
    assert (await client.get("/admin/support")).status == 403


# --- taking, handing on and ending a conversation -------------------------------------------


async def _switch_to(client, username: str) -> str:
    """Sign out whoever is signed in and sign `username` in; their inbox page."""
    page = await (await client.get("/admin/support")).text()
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert (await sign_in(client, username)).status == 302
    return await (await client.get("/admin/support")).text()


async def _post(client, path: str, **data: str):
    page = await (await client.get("/admin/support")).text()
    return await client.post(path, data={**data, "csrf_token": csrf_of(page)}, allow_redirects=False)


async def _custom_messages(simulator, user: str = "alice") -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]


async def test_an_agent_claims_another_is_refused_until_it_is_handed_over(client, simulator):
    # given alice waiting, two agents, a platform admin and a finance clerk
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = await Conversation.get()
    for name, role in (("agent-2", StaffRole.AGENT), ("cashier", StaffRole.FINANCE)):
        await StaffAccount.create(username=name, password_hash=_hasher.hash(PASSWORD), role=role)
    await create_platform_admin(username="boss", password=PASSWORD)
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    one, two = await StaffAccount.get(username="agent-1"), await StaffAccount.get(username="agent-2")
    # when agent-1 claims it from the inbox
    claimed = await _post(client, f"/admin/support/{conversation.id}/claim")
    assert (claimed.status, claimed.headers["Location"]) == (302, f"/admin/support/{conversation.id}")
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert "agent-1 接入了会话" in page and "处理中" in page
    # then agent-2 may neither answer nor end it
    await _switch_to(client, "agent-2")
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert (
        "该会话正由 agent-1 接待" in page and f'action="/admin/support/{conversation.id}/reply"' not in page
    )
    refused = await _post(client, f"/admin/support/{conversation.id}/reply", text="我来回答")
    assert refused.status == 409 and "该会话正由其他客服接待" in await refused.text()
    assert (await _post(client, f"/admin/support/{conversation.id}/close")).status == 409
    assert await _custom_messages(simulator) == []
    assert (await _post(client, f"/admin/support/{conversation.id}/claim")).status == 409
    # nor hand it to someone who does not answer followers
    cashier = await StaffAccount.get(username="cashier")
    wrong = await _post(client, f"/admin/support/{conversation.id}/transfer", agent_id=str(cashier.id))
    assert wrong.status == 400 and "只能转接给有客服权限的在职员工" in await wrong.text()
    # until agent-2 takes it over: then the answer goes out
    assert (
        await _post(client, f"/admin/support/{conversation.id}/transfer", agent_id=str(two.id))
    ).status == 302
    assert (await _post(client, f"/admin/support/{conversation.id}/reply", text="我来帮您")).status == 302
    assert await _custom_messages(simulator) == ["我来帮您"]
    # agent-2 hands it back; the platform admin may answer whoever holds it
    assert (
        await _post(client, f"/admin/support/{conversation.id}/transfer", agent_id=str(one.id))
    ).status == 302
    await _switch_to(client, "boss")
    assert (await _post(client, f"/admin/support/{conversation.id}/reply", text="主管补充")).status == 302
    assert (await Conversation.get(id=conversation.id)).agent_id == one.id
    # and agent-1 ends it
    await _switch_to(client, "agent-1")
    closed = await _post(client, f"/admin/support/{conversation.id}/close")
    assert (closed.status, closed.headers["Location"]) == (302, "/admin/support")
    # the timeline tells it all
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    story = [
        "粉丝请求人工客服（关键词）",
        "agent-1 接入了会话",
        "agent-2 接手了会话（原接待：agent-1）",
        "客服 agent-2",
        "我来帮您",
        "agent-2 将会话转接给 agent-1",
        "客服 boss",
        "主管补充",
        "agent-1 结束了会话",
    ]
    positions = [page.index(line) for line in story]
    assert positions == sorted(positions) and "已结束" in page
    assert f'action="/admin/support/{conversation.id}/reply"' not in page
    # and the audit log has every change the staff made, by whom
    entries = await AuditEntry.filter(object_type="conversation", object_id=str(conversation.id)).order_by(
        "id"
    )
    assert [(e.action, e.actor) for e in entries] == [
        ("conversation.claimed", f"staff:{one.id}"),
        ("conversation.transferred", f"staff:{two.id}"),
        ("conversation.transferred", f"staff:{two.id}"),
        ("conversation.closed", f"staff:{one.id}"),
    ]
    assert entries[0].summary == f"会话 #{conversation.id}：待接入 → 处理中"


# --- canned replies ---------------------------------------------------------------------------


async def test_canned_replies_are_kept_and_sent(client, simulator):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = await Conversation.get()
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    # when the agent adds two canned replies, one with markup
    for title, text, sort in (("发货时间", "<b>48小时</b>内发货", "1"), ("问候", "您好，在的", "0")):
        added = await _post(client, "/admin/support/canned", title=title, text=text, sort=sort)
        assert added.status == 302
    page = await (await client.get("/admin/support/canned")).text()
    assert "&lt;b&gt;48小时&lt;/b&gt;内发货" in page and "<b>48小时</b>" not in page
    assert page.index("问候") < page.index("发货时间")  # by their sort
    # a title too long is refused, saying why
    too_long = await _post(client, "/admin/support/canned", title="长" * 31, text="x")
    assert too_long.status == 400 and "不超过 30 字" in await too_long.text()
    # edit one, delete the other
    shipping, hello = await CannedReply.get(title="发货时间"), await CannedReply.get(title="问候")
    edited = await _post(
        client, f"/admin/support/canned/{shipping.id}", title="发货时间", text="<b>24小时</b>内发货", sort="1"
    )
    assert edited.status == 302 and (await CannedReply.get(id=shipping.id)).text == "<b>24小时</b>内发货"
    assert (await _post(client, f"/admin/support/canned/{hello.id}/delete")).status == 302
    assert (await _post(client, f"/admin/support/canned/{hello.id}/delete")).status == 404
    actions = (
        await AuditEntry.filter(object_type="canned_reply").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["canned_reply.create"] * 2 + ["canned_reply.update", "canned_reply.delete"]
    # then the conversation page offers it (escaped) to fill the box, or to send as it is
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert 'data-text="&lt;b&gt;24小时&lt;/b&gt;内发货"' in page
    assert f'<option value="{shipping.id}">发货时间</option>' in page
    sent = await _post(client, f"/admin/support/{conversation.id}/reply", text="", canned_id=str(shipping.id))
    assert sent.status == 302
    assert await _custom_messages(simulator) == ["<b>24小时</b>内发货"]


# --- beside the conversation: who it is -------------------------------------------------------


async def test_the_conversation_shows_the_shoppers_profile_and_orders(client, simulator):
    # given alice bought in the mini-program, and follows the account through a poster's code
    order = await paid_order(client, simulator)
    phone_code = (
        await simulator_post(simulator, "/wx/phone-code", {"user": "alice", "phone": "13900139000"})
    )["code"]
    bound = await client.post(
        "/api/v1/auth/phone", json={"code": phone_code}, headers=await auth_headers(client, simulator)
    )
    assert bound.status == 200
    await client.app[CORE].mp.create_qrcode("poster-1")
    await sim(
        simulator,
        "POST",
        "/mp/send",
        {"user": "alice", "type": "event", "event": "subscribe", "scene": "poster-1"},
    )
    # when she asks for a person through the official account
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = await Conversation.get()
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    # then beside the messages: her account (linked by unionid), her orders, coupons to come
    assert "已关注" in page and "poster-1" in page
    assert "139****9000" in page and "13900139000" not in page
    assert f'href="/admin/orders/{order["id"]}"' in page and order["order_no"] in page
    assert "待发货" in page and f"¥{order['payable'] / 100:.2f}" in page
    assert "优惠券功能即将上线" in page
    user = await User.get(unionid__not_isnull=True)
    assert f'href="/admin/users/{user.id}"' in page


# --- the roles without conversations ----------------------------------------------------------


async def test_merchant_staff_and_finance_are_refused_every_support_page(client, simulator):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = await Conversation.get()
    merchant_id = await ensure_merchant()
    canned = await CannedReply.create(
        title="问候", text="您好", created_by="staff:1", created_at=clock.now(), updated_at=clock.now()
    )
    await StaffAccount.create(
        username="clerk",
        password_hash=_hasher.hash(PASSWORD),
        role=StaffRole.MERCHANT_STAFF,
        merchant_id=merchant_id,
    )
    await StaffAccount.create(
        username="cashier", password_hash=_hasher.hash(PASSWORD), role=StaffRole.FINANCE
    )
    cid = conversation.id
    pages = [
        "/admin/support",
        "/admin/support/rows",
        f"/admin/support/{cid}",
        "/admin/support/stream",
        f"/admin/support/{cid}/stream",
        "/admin/support/canned",
    ]
    forms = [
        (f"/admin/support/{cid}/reply", {"text": "hi"}),
        (f"/admin/support/{cid}/claim", {}),
        (f"/admin/support/{cid}/transfer", {"agent_id": "1"}),
        (f"/admin/support/{cid}/close", {}),
        ("/admin/support/canned", {"title": "t", "text": "x"}),
        (f"/admin/support/canned/{canned.id}", {"title": "t", "text": "x"}),
        (f"/admin/support/canned/{canned.id}/delete", {}),
    ]
    for username in ("clerk", "cashier"):
        assert (await sign_in(client, username)).status == 302
        for path in pages:
            assert (await client.get(path)).status == 403, (username, path)
        token = csrf_of(await (await client.get("/admin/")).text())
        for path, data in forms:
            response = await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)
            assert response.status == 403, (username, path)
    assert (await Conversation.get(id=cid)).status == "waiting"
    assert await CannedReply.filter(id=canned.id, title="问候").exists()
    assert await _custom_messages(simulator) == []


# --- waiting time -------------------------------------------------------------------------------


async def test_followers_left_waiting_too_long_are_marked(client, simulator):
    # (our clock moves; WeChat's pushes carry the real time, within their 5-minute window)
    with clock.frozen(clock.now() - timedelta(minutes=4)) as frozen:
        # alice and bob ask for a person; an agent takes bob's and answers
        for user in ("alice", "bob"):
            await sim(simulator, "POST", "/mp/send", {"user": user, "type": "text", "content": "人工"})
        alice, bob = await Conversation.all().order_by("id")
        await staff_signed_in(client, "agent-1", StaffRole.AGENT)
        assert (await _post(client, f"/admin/support/{bob.id}/reply", text="您好")).status == 302
        # four minutes later bob writes again; three more, and alice still waits
        frozen.advance(timedelta(minutes=4))
        await sim(simulator, "POST", "/mp/send", {"user": "bob", "type": "text", "content": "还在吗"})
        frozen.advance(timedelta(minutes=3))
        waiting = await (await client.get("/admin/support?status=waiting")).text()
        active = await (await client.get("/admin/support?status=active")).text()
        page = await (await client.get(f"/admin/support/{alice.id}")).text()
    # then alice (7 minutes unanswered) is marked; bob (3 minutes) is not, yet
    assert re.search(rf'<tr class="late" data-conversation="{alice.id}">', waiting)
    assert 'data-seconds="420"' in waiting and "7 分钟" in waiting
    assert re.search(rf'<tr class="" data-conversation="{bob.id}">', active)
    assert 'data-seconds="180"' in active and "还在吗" in active
    assert "已等待 7 分钟" in page


async def test_an_odd_or_vanished_canned_reply_is_a_clear_refusal(client, simulator):
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    conversation = await Conversation.get()
    await staff_signed_in(client, "agent-1", StaffRole.AGENT)
    path = f"/admin/support/{conversation.id}/reply"
    # a made-up, huge id is no canned reply at all: an empty reply is refused
    huge = await _post(client, path, text="", canned_id="9" * 30)
    assert huge.status == 400
    # one deleted meanwhile is said so on the conversation's page
    gone = await _post(client, path, text="", canned_id="424242")
    assert gone.status == 409 and "快捷回复" in await gone.text()
    assert await _custom_messages(simulator) == []
