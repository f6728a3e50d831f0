"""Conversations between followers and human agents: opened when a follower asks for a person,
taken by an agent (claimed, replied to, transferred), closed by an agent or after its idle time.

Every status change is a conditional update on the status (and agent) read before it, plus an
event row; zero rows means someone moved first, so we re-read and decide again. Replies go to
WeChat outside any transaction and are recorded with how their delivery went. Once a change has
committed, listeners hear of it (live.publish): the admin's inbox updates itself.

An open conversation taken by an agent is theirs: another agent may not answer or end it until
they take it over (transfer), except a supervisor (the platform admin).
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.db import fetch_rows
from commerce.errors import CommonError
from commerce.jobs import services as jobs
from commerce.support import agents, lifecycle, live
from commerce.support.errors import SupportError
from commerce.support.models import Conversation, ConversationMessage
from commerce.support.queries import ConversationView, conversation_view
from commerce.support.replies import reply as reply  # an agent's reply: see replies.py
from commerce.support.replies import speaker_row
from commerce.support.states import (
    OPEN_STATUSES,
    ConversationStatus,
    Direction,
    EventType,
    MessageType,
)
from commerce.transactions import unit_of_work, write_transaction

IDLE_MINUTES = 30
CLOSE_IDLE = "close_idle_conversations"  # the scheduled job's name in its failure records
_ATTEMPTS = 3  # re-reads after losing a race, before telling the caller to refresh
_ALIASES = {"shortvideo": MessageType.VIDEO}


async def active_conversation(*, openid: str, idle_minutes: int = IDLE_MINUTES) -> ConversationView | None:
    """The follower's open conversation, unless idle for `idle_minutes`: that one is closed
    as expired on the spot and None returned."""
    # Asked for every message a follower sends: the usual answer (none open) costs one
    # hand-written indexed lookup, not an ORM query.
    if not await fetch_rows("SELECT `id` FROM `support_conversation` WHERE `open_key` = ?", [openid]):
        return None
    for _ in range(_ATTEMPTS):
        row = await Conversation.get_or_none(open_key=openid)
        if row is None:
            return None
        cutoff = clock.now() - timedelta(minutes=idle_minutes)
        if row.last_activity_at > cutoff:
            return conversation_view(row)
        expired = await lifecycle.move(
            row,
            ConversationStatus.CLOSED,
            EventType.EXPIRED,
            "system:idle",
            idle_cutoff=cutoff,
            params={"idle_minutes": idle_minutes},
        )
        if expired:
            return None
    return None


@unit_of_work
async def open_conversation(
    *, openid: str, user_id: int | None, reason: str, idle_minutes: int = IDLE_MINUTES
) -> tuple[ConversationView, bool]:
    """The follower's open conversation, and whether this call opened it. However many
    requests race, a follower has one open conversation (a unique open_key decides)."""
    openid, reason = (openid or "").strip(), (reason or "").strip()[:32]
    if not openid or len(openid) > 64:
        raise CommonError.INVALID_REQUEST.error()
    for _ in range(_ATTEMPTS):
        current = await active_conversation(openid=openid, idle_minutes=idle_minutes)
        if current is not None:
            return current, False
        now = clock.now()
        try:
            async with write_transaction() as conn:
                row = await Conversation.create(
                    openid=openid,
                    open_key=openid,
                    user_id=user_id,
                    status=ConversationStatus.WAITING,
                    agent_id=None,
                    reason=reason,
                    opened_at=now,
                    last_activity_at=now,
                    closed_at=None,
                    closed_by="",
                    created_at=now,
                    updated_at=now,
                    using_db=conn,
                )
                await lifecycle.record_event(
                    conn,
                    row,
                    EventType.OPENED,
                    "follower",
                    to=ConversationStatus.WAITING,
                    params={"reason": reason},
                )
        except IntegrityError:
            continue  # another request opened one first: that is the follower's conversation
        await live.publish(EventType.OPENED.value, row.id)
        return conversation_view(row), True
    raise SupportError.CONVERSATION_CHANGED.error()


@unit_of_work
async def record_incoming(
    *, conversation_id: int, msg_type: MessageType | str, content: str, wechat_msg_id: str | int = ""
) -> None:
    """A follower's message joins the conversation (once, however often WeChat repeats it)."""
    kind = _message_type(msg_type)
    msg_id = str(wechat_msg_id or "")[:64]
    now = clock.now()
    try:
        async with write_transaction() as conn:
            touched = (
                await Conversation.filter(id=conversation_id, status__in=OPEN_STATUSES)
                .using_db(conn)
                .update(last_activity_at=now, updated_at=now)
            )
            if not touched:
                raise await lifecycle.refusal(conversation_id)
            message = await ConversationMessage.create(
                conversation_id=conversation_id,
                direction=Direction.IN,
                msg_type=kind,
                content=content or "",
                wechat_msg_id=msg_id,
                dedupe_key=msg_id or None,
                agent_id=None,
                delivery="",
                created_at=now,
                using_db=conn,
            )
    except IntegrityError:
        return  # WeChat sent this message again: it is recorded already
    await live.publish(live.MESSAGE, conversation_id, message_id=message.id)


async def record_bot_answer(*, conversation_id: int, text: str) -> None:
    """The bot's own answer (the passive reply that opened the conversation), for the agent
    to read in its place."""
    message = await ConversationMessage.create(
        conversation_id=conversation_id,
        direction=Direction.OUT,
        msg_type=MessageType.TEXT,
        content=text,
        wechat_msg_id="",
        dedupe_key=None,
        agent_id=None,
        delivery="sent",
        created_at=clock.now(),
    )
    await live.publish(live.MESSAGE, conversation_id, message_id=message.id)


async def claim(*, conversation_id: int, agent_id: int) -> ConversationView:
    """An agent takes a waiting conversation (again by the same agent: no change)."""
    for _ in range(_ATTEMPTS):
        row = await lifecycle.get_row(conversation_id)
        if row.status == ConversationStatus.CLOSED:
            raise SupportError.CONVERSATION_CLOSED.error()
        if row.status == ConversationStatus.ACTIVE:
            if row.agent_id == agent_id:
                return conversation_view(row)
            raise SupportError.CONVERSATION_TAKEN.error()
        claimed = await lifecycle.move(
            row, ConversationStatus.ACTIVE, EventType.CLAIMED, f"staff:{agent_id}", agent_id=agent_id
        )
        if claimed:
            return conversation_view(await lifecycle.get_row(conversation_id))
    raise SupportError.CONVERSATION_CHANGED.error()


async def transfer(*, conversation_id: int, to_agent_id: int, actor: str) -> ConversationView:
    """Hand an open conversation to an agent (a waiting one is assigned to them); any agent may,
    also to themselves (taking it over). The new holder must be staff who answer followers."""
    if not await agents.is_agent(to_agent_id):
        raise SupportError.AGENT_INVALID.error()
    for _ in range(_ATTEMPTS):
        row = await lifecycle.get_row(conversation_id)
        if row.status == ConversationStatus.CLOSED:
            raise SupportError.CONVERSATION_CLOSED.error()
        if row.status == ConversationStatus.ACTIVE and row.agent_id == to_agent_id:
            return conversation_view(row)
        if await lifecycle.move(
            row, ConversationStatus.ACTIVE, EventType.TRANSFERRED, actor, agent_id=to_agent_id
        ):
            return conversation_view(await lifecycle.get_row(conversation_id))
    raise SupportError.CONVERSATION_CHANGED.error()


async def close(
    *, conversation_id: int, actor: str, agent_id: int | None = None, supervisor: bool = False
) -> ConversationView:
    """End an open conversation; the follower's next request for a person opens a new one.
    An agent (`agent_id`) may end a waiting one or their own, a `supervisor` any."""
    for _ in range(_ATTEMPTS):
        if agent_id is None:
            row = await lifecycle.get_row(conversation_id)
        else:
            row = await speaker_row(conversation_id, agent_id, supervisor=supervisor, take_waiting=False)
        if row.status == ConversationStatus.CLOSED:
            raise SupportError.CONVERSATION_CLOSED.error()
        if await lifecycle.move(row, ConversationStatus.CLOSED, EventType.CLOSED, actor):
            return conversation_view(await lifecycle.get_row(conversation_id))
    raise SupportError.CONVERSATION_CHANGED.error()


async def close_idle_conversations(*, idle_minutes: int = IDLE_MINUTES, limit: int = 200) -> int:
    """Close open conversations idle for `idle_minutes` (the scheduler runs this); how many. One
    that fails is recorded and retried by a later run; the others are closed meanwhile."""
    cutoff = clock.now() - timedelta(minutes=idle_minutes)
    put_off = await jobs.put_off(job=CLOSE_IDLE, item_kind="conversation")
    rows = (
        await Conversation.filter(status__in=OPEN_STATUSES, last_activity_at__lte=cutoff)
        .exclude(id__in=put_off or [0])
        .order_by("last_activity_at")
        .limit(limit)
    )

    async def close(row: Conversation) -> bool:
        # A message arriving meanwhile moves last_activity_at past the cutoff: then it stays open.
        return await lifecycle.move(
            row,
            ConversationStatus.CLOSED,
            EventType.EXPIRED,
            "system:scheduler",
            idle_cutoff=cutoff,
            params={"idle_minutes": idle_minutes},
        )

    return await jobs.each_item(
        job=CLOSE_IDLE, item_kind="conversation", items=rows, item_id=lambda row: row.id, handle=close
    )


def _message_type(msg_type: MessageType | str) -> MessageType:
    """A kind we do not read still reaches the agent (its content says what it was)."""
    try:
        return _ALIASES.get(str(msg_type)) or MessageType(msg_type)
    except ValueError:
        return MessageType.OTHER
