"""Agents answer followers from the admin inbox: a conversation a follower started through the
bot, answered in the browser, arrives at the follower through WeChat (the simulator)."""

from __future__ import annotations

from commerce.staff.models import StaffAccount
from commerce.staff.services import _hasher
from commerce.staff.states import StaffRole
from commerce.support.conversations import open_conversation
from commerce.support.models import Conversation
from tests.edges.paying import sim
from tests.edges.test_admin_signin import PASSWORD, _csrf, _sign_in


async def _agent(client, username: str = "agent-1", role: StaffRole = StaffRole.AGENT) -> None:
    await StaffAccount.create(username=username, password_hash=_hasher.hash(PASSWORD), role=role)
    assert (await _sign_in(client, username)).status == 302


async def test_an_agent_answers_a_follower_from_the_inbox(client, simulator):
    # given a follower asked the bot for a human, with markup in her message
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "人工"})
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "text", "content": "<b>快递</b>丢了"})
    await _agent(client)
    # the inbox lists it as waiting, the message shown escaped
    inbox = await (await client.get("/admin/support")).text()
    conversation = await Conversation.get()
    assert f"/admin/support/{conversation.id}" in inbox and "&lt;b&gt;快递&lt;/b&gt;丢了" in inbox
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    assert "&lt;b&gt;快递&lt;/b&gt;丢了" in page and "<b>快递</b>" not in page
    # when the agent replies
    reply = await client.post(
        f"/admin/support/{conversation.id}/reply",
        data={"text": "您好，马上为您查询", "csrf_token": _csrf(page)},
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
        f"/admin/support/{conversation.id}/close", data={"csrf_token": _csrf(page)}, allow_redirects=False
    )
    assert closed.status == 302 and (await Conversation.get(id=conversation.id)).status == "closed"
    assert (await client.get("/admin/support/999999")).status == 404


async def test_a_reply_past_wechats_window_is_refused_clearly(client, simulator):
    # a conversation whose follower never wrote through WeChat (no window open)
    conversation, _ = await open_conversation(openid="o" + "x" * 27, user_id=None, reason="keyword")
    await _agent(client)
    page = await (await client.get(f"/admin/support/{conversation.id}")).text()
    response = await client.post(
        f"/admin/support/{conversation.id}/reply", data={"text": "在吗", "csrf_token": _csrf(page)}
    )
    assert response.status == 409 and "48 小时" in await response.text()


async def test_finance_cannot_open_the_inbox(client):
    await _agent(client, "cashier", StaffRole.FINANCE)
    assert (await client.get("/admin/support")).status == 403
