"""Conversations' live news and the agents' rules, on the core alone: every committed change is
published for the inbox (through the core's Redis, real or embedded), a conversation an agent
holds is theirs to answer and end, and canned replies keep to their limits."""

from __future__ import annotations

import pytest

from commerce.audit.models import AuditEntry
from commerce.errors import CommerceError
from commerce.staff.models import StaffAccount
from commerce.support import canned, live
from commerce.support import conversations as support
from commerce.support.errors import SupportError
from commerce.support.models import Conversation
from commerce.support.queries import list_conversations, read_conversation
from commerce.support.states import ConversationStatus
from tests.builders import refused


async def test_every_committed_change_is_published(core):
    # given the inbox listening through the core's Redis
    async with live.Subscription(core.redis) as inbox:
        # when a conversation opens, a follower writes, the bot answers, an agent takes and ends it
        view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
        await support.record_incoming(
            conversation_id=view.id, msg_type="text", content="在吗", wechat_msg_id="9"
        )
        await support.record_incoming(
            conversation_id=view.id, msg_type="text", content="在吗", wechat_msg_id="9"
        )
        await support.record_bot_answer(conversation_id=view.id, text="正在为您转接人工客服")
        await support.claim(conversation_id=view.id, agent_id=5)
        await support.close(conversation_id=view.id, actor="staff:5")
        heard = [await inbox.next(2.0) for _ in range(5)]
        assert await inbox.next(0.3) is None  # the repeated WeChat message was no news
    # then the inbox heard each, in order, with the new messages' ids
    assert [(e.kind, e.conversation_id) for e in heard] == [
        ("opened", view.id),
        ("message", view.id),
        ("message", view.id),
        ("claimed", view.id),
        ("closed", view.id),
    ]
    messages = (await read_conversation(conversation_id=view.id)).messages
    assert [e.message_id for e in heard[1:3]] == [m.id for m in messages]


async def test_a_conversations_own_channel_hears_only_it(core):
    first, _ = await support.open_conversation(openid="o-first", user_id=None, reason="keyword")
    second, _ = await support.open_conversation(openid="o-second", user_id=None, reason="keyword")
    async with live.Subscription(core.redis, first.id) as events:
        await support.record_incoming(conversation_id=second.id, msg_type="text", content="别人的")
        await support.record_incoming(conversation_id=first.id, msg_type="text", content="我的")
        event = await events.next(2.0)
    assert (event.kind, event.conversation_id) == ("message", first.id)


async def test_publishing_without_redis_changes_nothing(db):
    # (no core started in this process: nobody listens, the change stands)
    view, opened = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    assert opened and (await Conversation.get(id=view.id)).status == ConversationStatus.WAITING


async def test_only_the_holder_or_a_supervisor_answers_and_ends(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    await support.claim(conversation_id=view.id, agent_id=5)
    # another agent is refused, and nothing goes to WeChat
    for call in (
        support.reply(conversation_id=view.id, agent_id=6, text="我来", wechat=fake_wechat.client),
        support.close(conversation_id=view.id, actor="staff:6", agent_id=6),
    ):
        with pytest.raises(CommerceError) as caught:
            await call
        assert refused(caught, SupportError.NOT_HOLDER)
    assert fake_wechat.sent == []
    # a supervisor answers without taking it
    await support.reply(
        conversation_id=view.id, agent_id=1, text="主管", wechat=fake_wechat.client, supervisor=True
    )
    assert (await Conversation.get(id=view.id)).agent_id == 5
    # and the holder ends it
    closed = await support.close(conversation_id=view.id, actor="staff:5", agent_id=5)
    assert closed.status is ConversationStatus.CLOSED


async def test_a_follower_awaits_an_answer_until_an_agent_delivers_one(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    await support.record_incoming(conversation_id=view.id, msg_type="text", content="人工")
    await support.record_bot_answer(conversation_id=view.id, text="正在转接")  # no answer of a person
    assert (await list_conversations()).items[0].unanswered_seconds is not None
    await support.reply(conversation_id=view.id, agent_id=5, text="您好", wechat=fake_wechat.client)
    assert (await list_conversations()).items[0].unanswered_seconds is None
    # a failed delivery answers nobody
    await support.record_incoming(conversation_id=view.id, msg_type="text", content="在吗")
    fake_wechat.answer = {"errcode": 45015, "errmsg": "response out of time limit"}
    with pytest.raises(CommerceError):
        await support.reply(conversation_id=view.id, agent_id=5, text="在的", wechat=fake_wechat.client)
    assert (await list_conversations()).items[0].unanswered_seconds is not None


async def test_a_conversation_goes_only_to_staff_who_answer_followers(db):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    await StaffAccount.create(id=3, username="cashier", password_hash="x", role="finance")
    await StaffAccount.create(id=4, username="gone", password_hash="x", role="agent", is_active=False)
    for target in (3, 4, 99):
        with pytest.raises(CommerceError) as caught:
            await support.transfer(conversation_id=view.id, to_agent_id=target, actor="staff:1")
        assert refused(caught, SupportError.AGENT_INVALID)


@pytest.mark.parametrize(
    ("title", "text", "sort"),
    [("", "x", "0"), ("长" * 31, "x", "0"), ("t", "", "0"), ("t", "字" * 601, "0"), ("t", "x", "第一")],
)
async def test_a_canned_reply_keeps_to_its_limits(db, title, text, sort):
    with pytest.raises(CommerceError) as caught:
        await canned.create_canned_reply(title=title, text=text, sort=sort, actor="staff:1")
    assert caught.value.error_code is SupportError.CANNED_INVALID
    assert not await AuditEntry.exists()


async def test_canned_replies_are_listed_in_order_and_a_missing_one_is_not_found(db):
    await canned.create_canned_reply(title="  多  空格 ", text=" 内容 ", sort="5", actor="staff:1")
    first = await canned.create_canned_reply(title="最前", text="好的", sort=-1, actor="staff:1")
    assert [(r.title, r.text) for r in await canned.list_canned_replies()] == [
        ("最前", "好的"),
        ("多 空格", "内容"),
    ]
    await canned.delete_canned_reply(canned_id=first.id, actor="staff:1")
    for call in (
        canned.update_canned_reply(canned_id=first.id, title="t", text="x", actor="staff:1"),
        canned.delete_canned_reply(canned_id=first.id, actor="staff:1"),
        canned.get_canned_reply(canned_id=first.id),
    ):
        with pytest.raises(CommerceError) as caught:
            await call
        assert caught.value.error_code is SupportError.CANNED_NOT_FOUND
