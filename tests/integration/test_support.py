"""Customer service: the FAQ answers what followers ask (and nothing else), merchants keep it,
and conversations with human agents move through their lifecycle once, whoever races."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from commerce import clock
from commerce.errors import CommerceError
from commerce.staff.models import StaffAccount
from commerce.support import conversations as support
from commerce.support import faq
from commerce.support.errors import SupportError
from commerce.support.faq_starter import STARTER_FAQ
from commerce.support.models import Conversation, ConversationEvent, ConversationMessage, FaqEntry
from commerce.support.queries import list_conversations, read_conversation
from commerce.support.states import ConversationStatus, Direction, EventType
from tests.builders import refused

SHIPPING, RETURNS, INVOICE, PAYMENT = (
    "下单后多久发货？",
    "支持七天无理由退换货吗？",
    "可以开发票吗？",
    "支持哪些支付方式？",
)
START = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


# --- the FAQ ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "question"),
    [
        ("多久发货", SHIPPING),
        ("什么时候发货呀", SHIPPING),
        ("下单后几天能发货", SHIPPING),
        ("请问，大概几天发货啊？", SHIPPING),
        ("怎么退货", RETURNS),
        ("可以退款吗", RETURNS),
        ("能开发票吗", INVOICE),
        ("可以用信用卡吗", PAYMENT),
        ("支持花呗吗", PAYMENT),
        ("ｉＰｈｏｎｅ能用花呗吗？", PAYMENT),  # full-width letters and punctuation
        ("退款几天能到账", "退款多久到账？"),
        ("满99包邮吗", "运费怎么算，包邮吗？"),
        ("我的快递到哪里了", "我的快递到哪了？"),
        ("你好，转人工", "怎么联系人工客服？"),
    ],
)
async def test_a_question_finds_its_answer(db, asked, question):
    # given the starter FAQ
    await faq.seed_starter_faq()
    # when a follower asks
    found = await faq.match_faq(asked)
    # then the entry that answers it
    assert found is not None, asked
    assert found.question == question
    assert found.score >= 72
    assert found.answer


@pytest.mark.parametrize(
    "asked",
    [
        *("蓝牙耳机", "你好", "iPhone 15 多少钱", "嗯", "好的", "多少钱"),
        *("小米手机多少钱", "这个怎么用", "保质期多久", "纯牛奶一箱多少钱"),
    ],
)
async def test_what_the_faq_does_not_answer_matches_nothing(db, asked):
    # given the starter FAQ
    await faq.seed_starter_faq()
    # then products, greetings and one-word replies fall through (to product search, in the bot)
    assert await faq.match_faq(asked) is None


async def test_the_shipping_fee_answer_states_our_pricing(db):
    await faq.seed_starter_faq()
    found = await faq.match_faq("运费多少钱")
    assert found is not None
    assert "99 元包邮" in found.answer and "10 元" in found.answer


async def test_matching_is_fast(db):
    await faq.seed_starter_faq()
    await faq.match_faq("多久发货")  # loads the segmenter and the entries
    asked = ["多久发货", "可以用信用卡吗", "蓝牙耳机", "iPhone 15 多少钱", "下单后几天能发货"] * 40
    timings = []
    for text in asked:
        started = time.perf_counter()
        await faq.match_faq(text)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[int(len(timings) * 0.99)] < 0.05


async def test_seeding_is_idempotent(db):
    # when seeded twice
    assert await faq.seed_starter_faq() == len(STARTER_FAQ)
    assert await faq.seed_starter_faq() == 0
    # then each starter entry is there once
    assert await FaqEntry.all().count() == len(STARTER_FAQ)
    # and one deleted is put back, alone
    first = (await faq.list_faq())[0]
    await faq.delete_faq(entry_id=first.id, actor="staff:1")
    assert await faq.seed_starter_faq() == 1
    assert await FaqEntry.all().count() == len(STARTER_FAQ)


@pytest.mark.parametrize(
    "fields",
    [
        {"question": "  ", "variants": [], "answer": "答案"},
        {"question": "问" * 121, "variants": [], "answer": "答案"},
        {"question": "问题", "variants": [], "answer": ""},
        {"question": "问题", "variants": [], "answer": "答" * 1001},
        {"question": "问题", "variants": [f"问法{n}" for n in range(21)], "answer": "答案"},
        {"question": "问题", "variants": ["问" * 121], "answer": "答案"},
        {"question": "问题", "variants": [3], "answer": "答案"},
    ],
)
async def test_an_invalid_entry_is_refused(db, fields):
    with pytest.raises(CommerceError) as caught:
        await faq.create_faq(**fields, actor="staff:1")
    assert refused(caught, SupportError.FAQ_INVALID)
    assert await FaqEntry.all().count() == 0


async def test_variants_are_cleaned_and_a_missing_entry_is_not_found(db):
    entry = await faq.create_faq(
        question="有赠品吗？",
        variants=[" 送赠品吗 ", "送赠品吗", "", "有赠品吗？"],
        answer="满 199 元送试用装。",
        actor="staff:1",
    )
    assert entry.variants == ["送赠品吗"]
    assert entry.merchant_id is None and entry.enabled and entry.updated_by == "staff:1"
    for call in (
        faq.update_faq(entry_id=entry.id + 100, answer="x", actor="staff:1"),
        faq.set_faq_enabled(entry_id=entry.id + 100, enabled=False, actor="staff:1"),
        faq.delete_faq(entry_id=entry.id + 100, actor="staff:1"),
        faq.get_faq(entry_id=entry.id + 100),
    ):
        with pytest.raises(CommerceError) as caught:
            await call
        assert refused(caught, SupportError.FAQ_NOT_FOUND)


async def test_an_edit_is_answered_at_once(db):
    # given the starter FAQ, which knows nothing of the digital yuan
    await faq.seed_starter_faq()
    assert await faq.match_faq("能用数字人民币吗") is None
    payment = next(entry for entry in await faq.list_faq() if entry.question == PAYMENT)
    # when a merchant adds the phrasing
    updated = await faq.update_faq(
        entry_id=payment.id, variants=[*payment.variants, "支持数字人民币吗"], actor="staff:1"
    )
    assert updated.updated_by == "staff:1" and updated.question == PAYMENT
    # then the next question finds it
    assert (await faq.match_faq("能用数字人民币吗")).question == PAYMENT
    # and a disabled entry answers nothing until enabled again
    await faq.set_faq_enabled(entry_id=payment.id, enabled=False, actor="staff:1")
    assert await faq.match_faq("支持花呗吗") is None
    assert [e.id for e in await faq.list_faq(include_disabled=True)].count(payment.id) == 1
    assert payment.id not in [e.id for e in await faq.list_faq()]
    await faq.set_faq_enabled(entry_id=payment.id, enabled=True, actor="staff:1")
    assert (await faq.match_faq("支持花呗吗")).question == PAYMENT
    # and a deleted one answers nothing
    await faq.delete_faq(entry_id=payment.id, actor="staff:1")
    assert await faq.match_faq("支持花呗吗") is None


async def test_an_edit_by_another_process_is_answered_within_a_second(db):
    with clock.frozen(START) as frozen:
        await faq.seed_starter_faq()
        assert await faq.match_faq("有赠品吗") is None
        # when another process adds an entry (behind this process's services)
        await FaqEntry.create(
            question="有赠品吗？",
            variants=["送不送赠品"],
            answer="满 199 元送试用装。",
            created_at=START,
            updated_at=START + timedelta(milliseconds=1),
        )
        # then this process sees it once a second has passed, not before
        assert await faq.match_faq("有赠品吗") is None
        frozen.advance(timedelta(seconds=1))
        assert (await faq.match_faq("有赠品吗")).question == "有赠品吗？"


async def test_a_merchants_entries_answer_only_for_that_merchant(db):
    await faq.seed_starter_faq()
    own = await faq.create_faq(
        question="多久发货？",
        variants=["什么时候发货"],
        answer="本店现货当天发出。",
        merchant_id=7,
        actor="staff:2",
    )
    assert (await faq.match_faq("多久发货")).question == SHIPPING
    assert (await faq.match_faq("多久发货", merchant_id=7)).entry_id == own.id
    assert (await faq.match_faq("能开发票吗", merchant_id=7)).question == INVOICE  # platform-wide
    assert [e.id for e in await faq.list_faq(merchant_id=7)] == [own.id]


# --- conversations -------------------------------------------------------------------------


async def test_racing_opens_make_one_conversation(db):
    # when ten requests of one follower ask for a person at once
    results = await asyncio.gather(
        *(support.open_conversation(openid="o-alice", user_id=None, reason="keyword") for _ in range(10))
    )
    # then there is one conversation, opened by one of them
    assert len({view.id for view, _ in results}) == 1
    assert [opened for _, opened in results].count(True) == 1
    assert await Conversation.filter(openid="o-alice").count() == 1
    assert await ConversationEvent.filter(type=EventType.OPENED).count() == 1
    view = results[0][0]
    assert view.status is ConversationStatus.WAITING and view.reason == "keyword"
    # and another follower gets their own
    other, opened = await support.open_conversation(openid="o-bob", user_id=3, reason="menu")
    assert opened and other.id != view.id and other.user_id == 3


async def test_an_idle_conversation_expires_after_30_minutes(db):
    with clock.frozen(START) as frozen:
        view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="faq_miss")
        frozen.advance(timedelta(minutes=29))
        await support.record_incoming(conversation_id=view.id, msg_type="text", content="在吗")
        # 29 minutes after the follower's last message it is still theirs
        frozen.advance(timedelta(minutes=29))
        assert (await support.active_conversation(openid="o-alice")).id == view.id
        # when 31 minutes have passed
        frozen.advance(timedelta(minutes=2))
        assert await support.active_conversation(openid="o-alice") is None
        # then it was closed as expired, and recorded
        row = await Conversation.get(id=view.id)
        assert row.status == ConversationStatus.CLOSED and row.open_key is None
        assert row.closed_by == "system:idle" and row.closed_at == START + timedelta(minutes=60)
        event = await ConversationEvent.get(conversation_id=view.id, type=EventType.EXPIRED)
        assert (event.actor, event.from_status, event.to_status) == ("system:idle", "waiting", "closed")
        # and the next request for a person opens a new one
        again, opened = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
        assert opened and again.id != view.id


async def test_the_scheduler_closes_idle_conversations(db):
    with clock.frozen(START) as frozen:
        idle, _ = await support.open_conversation(openid="o-idle", user_id=None, reason="keyword")
        busy, _ = await support.open_conversation(openid="o-busy", user_id=None, reason="keyword")
        await support.claim(conversation_id=busy.id, agent_id=5)
        frozen.advance(timedelta(minutes=20))
        await support.record_incoming(conversation_id=busy.id, msg_type="text", content="好的")
        frozen.advance(timedelta(minutes=15))
        assert await support.close_idle_conversations() == 1
        assert await support.close_idle_conversations() == 0
    assert (await Conversation.get(id=idle.id)).status == ConversationStatus.CLOSED
    assert (await Conversation.get(id=busy.id)).status == ConversationStatus.ACTIVE
    event = await ConversationEvent.get(conversation_id=idle.id, type=EventType.EXPIRED)
    assert event.actor == "system:scheduler"


async def test_claim_transfer_close(db):
    for agent_id in (7, 8):  # conversations are handed only to staff who answer followers
        await StaffAccount.create(id=agent_id, username=f"agent-{agent_id}", password_hash="x", role="agent")
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    # an agent claims it; claiming again is no change; another agent is refused
    claimed = await support.claim(conversation_id=view.id, agent_id=7)
    assert claimed.status is ConversationStatus.ACTIVE and claimed.agent_id == 7
    assert (await support.claim(conversation_id=view.id, agent_id=7)).agent_id == 7
    with pytest.raises(CommerceError) as caught:
        await support.claim(conversation_id=view.id, agent_id=8)
    assert refused(caught, SupportError.CONVERSATION_TAKEN)
    # a supervisor hands it over
    moved = await support.transfer(conversation_id=view.id, to_agent_id=8, actor="staff:1")
    assert moved.status is ConversationStatus.ACTIVE and moved.agent_id == 8
    # the agent closes it; nothing moves it afterwards
    closed = await support.close(conversation_id=view.id, actor="staff:8")
    assert closed.status is ConversationStatus.CLOSED and closed.closed_by == "staff:8"
    for call in (
        support.close(conversation_id=view.id, actor="staff:8"),
        support.claim(conversation_id=view.id, agent_id=7),
        support.transfer(conversation_id=view.id, to_agent_id=7, actor="staff:1"),
        support.record_incoming(conversation_id=view.id, msg_type="text", content="还在吗"),
    ):
        with pytest.raises(CommerceError) as caught:
            await call
        assert refused(caught, SupportError.CONVERSATION_CLOSED)
    with pytest.raises(CommerceError) as caught:
        await support.claim(conversation_id=view.id + 100, agent_id=7)
    assert refused(caught, SupportError.CONVERSATION_NOT_FOUND)
    # and the history says who did what
    detail = await read_conversation(conversation_id=view.id)
    assert [(e.type, e.actor, e.from_agent_id, e.to_agent_id) for e in detail.events] == [
        (EventType.OPENED, "follower", None, None),
        (EventType.CLAIMED, "staff:7", None, 7),
        (EventType.TRANSFERRED, "staff:1", 7, 8),
        (EventType.CLOSED, "staff:8", 8, 8),
    ]


async def test_racing_claims_have_one_winner(db):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    results = await asyncio.gather(
        *(support.claim(conversation_id=view.id, agent_id=agent) for agent in range(1, 6)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(r.error_code is SupportError.CONVERSATION_TAKEN for r in results if isinstance(r, Exception))
    assert await ConversationEvent.filter(type=EventType.CLAIMED).count() == 1
    assert (await Conversation.get(id=view.id)).agent_id == winners[0].agent_id


async def test_a_repeated_wechat_message_is_recorded_once(db):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    for _ in range(2):
        await support.record_incoming(
            conversation_id=view.id, msg_type="text", content="我的订单", wechat_msg_id="2345678901"
        )
    await support.record_incoming(conversation_id=view.id, msg_type="image", content="[图片]")
    await support.record_incoming(conversation_id=view.id, msg_type="image", content="[图片]")
    messages = await ConversationMessage.filter(conversation_id=view.id).order_by("id")
    assert [(m.msg_type, m.wechat_msg_id) for m in messages] == [
        ("text", "2345678901"),
        ("image", ""),
        ("image", ""),
    ]
    with pytest.raises(CommerceError) as caught:
        await support.record_incoming(conversation_id=view.id + 100, msg_type="text", content="x")
    assert refused(caught, SupportError.CONVERSATION_NOT_FOUND)


async def test_the_inbox_lists_newest_activity_first_with_waiting_time_and_preview(db):
    with clock.frozen(START) as frozen:
        first, _ = await support.open_conversation(openid="o-first", user_id=None, reason="keyword")
        await support.record_incoming(conversation_id=first.id, msg_type="text", content="你好，我要退货")
        frozen.advance(timedelta(minutes=3))
        second, _ = await support.open_conversation(openid="o-second", user_id=None, reason="menu")
        await support.claim(conversation_id=second.id, agent_id=4)
        frozen.advance(timedelta(minutes=2))
        page = await list_conversations()
        assert [item.conversation.id for item in page.items] == [second.id, first.id]
        assert page.total == 2
        waiting = page.items[1]
        assert waiting.waiting_seconds == 300 and waiting.preview == "你好，我要退货"
        assert waiting.last_message.direction is Direction.IN
        assert page.items[0].waiting_seconds is None and page.items[0].last_message is None
        only_waiting = await list_conversations(status="waiting")
        assert [item.conversation.id for item in only_waiting.items] == [first.id]
        mine = await list_conversations(agent_id=4)
        assert [item.conversation.id for item in mine.items] == [second.id]


# --- replies through WeChat -----------------------------------------------------------------


async def test_a_reply_is_sent_recorded_and_takes_the_conversation(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    # when an agent replies to the waiting conversation
    message = await support.reply(
        conversation_id=view.id, agent_id=5, text=" 您好，请问有什么可以帮您？ ", wechat=fake_wechat.client
    )
    # then WeChat got it, it is recorded as sent, and the conversation is the agent's
    assert fake_wechat.sent == [
        {"touser": "o-alice", "msgtype": "text", "text": {"content": "您好，请问有什么可以帮您？"}}
    ]
    assert (message.direction, message.delivery, message.agent_id) == (Direction.OUT, "sent", 5)
    detail = await read_conversation(conversation_id=view.id)
    assert detail.conversation.status is ConversationStatus.ACTIVE and detail.conversation.agent_id == 5
    assert [m.content for m in detail.messages] == ["您好，请问有什么可以帮您？"]
    assert [e.type for e in detail.events] == [EventType.OPENED, EventType.CLAIMED]


async def test_a_reply_after_the_48_hour_window_is_refused_and_recorded_as_failed(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    fake_wechat.answer = {"errcode": 45015, "errmsg": "response out of time limit"}
    with pytest.raises(CommerceError) as caught:
        await support.reply(conversation_id=view.id, agent_id=5, text="还在吗？", wechat=fake_wechat.client)
    assert refused(caught, SupportError.WINDOW_CLOSED)
    assert caught.value.message == "已超过 48 小时，微信不允许再主动回复该用户，请等待用户再次发消息"
    message = await ConversationMessage.get(conversation_id=view.id)
    assert message.direction == Direction.OUT and message.delivery.startswith("failed: ")
    assert "45015" in message.delivery


async def test_a_reply_wechat_could_not_take_is_recorded_as_failed(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    fake_wechat.answer, fake_wechat.status = {"error": "bad gateway"}, 502
    with pytest.raises(CommerceError) as caught:
        await support.reply(conversation_id=view.id, agent_id=5, text="稍等", wechat=fake_wechat.client)
    assert refused(caught, SupportError.WECHAT_UNAVAILABLE)
    message = await ConversationMessage.get(conversation_id=view.id)
    assert message.delivery.startswith("failed: ")


async def test_a_reply_must_say_something_and_go_to_an_open_conversation(fake_wechat):
    view, _ = await support.open_conversation(openid="o-alice", user_id=None, reason="keyword")
    for text in ("  ", "好" * 601):
        with pytest.raises(CommerceError) as caught:
            await support.reply(conversation_id=view.id, agent_id=5, text=text, wechat=fake_wechat.client)
        assert refused(caught, SupportError.INVALID_REPLY)
    await support.close(conversation_id=view.id, actor="staff:5")
    with pytest.raises(CommerceError) as caught:
        await support.reply(conversation_id=view.id, agent_id=5, text="在的", wechat=fake_wechat.client)
    assert refused(caught, SupportError.CONVERSATION_CLOSED)
    assert fake_wechat.sent == []
    assert await ConversationMessage.filter(conversation_id=view.id).count() == 0


async def test_the_simulated_wechat_refuses_a_reply_to_a_follower_who_never_wrote(core):
    # given a conversation with a follower WeChat has seen no message from
    openid = "o" + "x" * 27
    view, _ = await support.open_conversation(openid=openid, user_id=None, reason="keyword")
    # when an agent replies through the official account
    with pytest.raises(CommerceError) as caught:
        await support.reply(conversation_id=view.id, agent_id=5, text="您好", wechat=core.mp)
    # then WeChat's 45015 is the window closed, and the reply is recorded as failed
    assert refused(caught, SupportError.WINDOW_CLOSED)
    assert (await ConversationMessage.get(conversation_id=view.id)).delivery.startswith("failed: ")
