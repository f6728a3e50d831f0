"""An agent's reply to a follower, through WeChat's customer-service messages: sent outside
any transaction, recorded with how its delivery went, and only by who may speak for the
conversation (its agent, whoever takes a waiting one first, or a supervisor)."""

from __future__ import annotations

from commerce import clock
from commerce.support import lifecycle, live
from commerce.support.errors import MAX_REPLY_CHARS, SupportError
from commerce.support.models import Conversation, ConversationMessage
from commerce.support.queries import MessageView, message_view
from commerce.support.states import OPEN_STATUSES, ConversationStatus, Direction, EventType, MessageType
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import OutOfWindow, WeChatError, WeChatUnavailable

_ATTEMPTS = 3  # re-reads after losing a race, before telling the caller to refresh


async def reply(
    *, conversation_id: int, agent_id: int, text: str, wechat: WeChatClient, supervisor: bool = False
) -> MessageView:
    """An agent answers the follower through WeChat's customer-service messages. Replying to a
    waiting conversation takes it; one another agent holds is refused (NOT_HOLDER) unless the
    replier is a `supervisor`. The message is recorded whether WeChat took it or not."""
    text = (text or "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise SupportError.INVALID_REPLY.error()
    row = await speaker_row(conversation_id, agent_id, supervisor=supervisor, take_waiting=True)
    failure: tuple[SupportError, str] | None = None
    follower = await followers.get_follower(openid=row.openid)
    try:
        if follower is not None and not follower.subscribed:  # no pushes to those who left
            failure = SupportError.FOLLOWER_GONE, "failed: unsubscribed"
        else:
            await wechat.send_custom_message(row.openid, {"msgtype": "text", "text": {"content": text}})
    except OutOfWindow as exc:
        failure = SupportError.WINDOW_CLOSED, f"failed: out of window (errcode {exc.errcode})"
    except WeChatError as exc:
        failure = SupportError.WECHAT_UNAVAILABLE, f"failed: errcode {exc.errcode}"
    except WeChatUnavailable as exc:
        failure = SupportError.WECHAT_UNAVAILABLE, f"failed: {exc}"[:200]
    message = await _record_reply(conversation_id, agent_id, text, failure)
    await live.publish(live.MESSAGE, conversation_id, message_id=message.id)
    if failure is not None:
        raise failure[0].error(message_id=message.id)
    return message_view(message)


@unit_of_work
async def _record_reply(
    conversation_id: int, agent_id: int, text: str, failure: tuple[SupportError, str] | None
) -> ConversationMessage:
    """Record the reply already sent (a unit of its own: a lock conflict must not send it twice)."""
    now = clock.now()
    async with write_transaction() as conn:
        message = await ConversationMessage.create(
            conversation_id=conversation_id,
            direction=Direction.OUT,
            msg_type=MessageType.TEXT,
            content=text,
            wechat_msg_id="",
            dedupe_key=None,
            agent_id=agent_id,
            delivery="sent" if failure is None else failure[1],
            created_at=now,
            using_db=conn,
        )
        if failure is None:
            await (
                Conversation.filter(id=conversation_id, status__in=OPEN_STATUSES)
                .using_db(conn)
                .update(last_activity_at=now, updated_at=now)
            )
    return message


async def speaker_row(
    conversation_id: int, agent_id: int, *, supervisor: bool, take_waiting: bool
) -> Conversation:
    """The conversation, when `agent_id` may speak for it now: open, and theirs, waiting (taken
    by them first when `take_waiting`), or they supervise."""
    for _ in range(_ATTEMPTS):
        row = await lifecycle.get_row(conversation_id)
        if row.status == ConversationStatus.CLOSED:
            raise SupportError.CONVERSATION_CLOSED.error()
        if row.status == ConversationStatus.ACTIVE:
            if row.agent_id != agent_id and not supervisor:
                raise SupportError.NOT_HOLDER.error()
            return row
        if not take_waiting:
            return row
        # Whoever takes it first keeps it; losing the race re-reads and decides again.
        if await lifecycle.move(
            row, ConversationStatus.ACTIVE, EventType.CLAIMED, f"staff:{agent_id}", agent_id=agent_id
        ):
            return await lifecycle.get_row(conversation_id)
    raise SupportError.CONVERSATION_CHANGED.error()
