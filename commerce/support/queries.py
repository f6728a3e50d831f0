"""Conversations as agents see them: the inbox and one conversation's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max

from commerce import clock
from commerce.errors import CommonError
from commerce.support.errors import SupportError
from commerce.support.models import Conversation, ConversationEvent, ConversationMessage
from commerce.support.states import ConversationStatus, Direction, EventType, MessageType

PREVIEW_CHARS = 40
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ConversationView:
    id: int
    openid: str
    user_id: int | None
    status: ConversationStatus
    agent_id: int | None
    reason: str
    opened_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    closed_by: str


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    direction: Direction
    msg_type: MessageType
    content: str
    wechat_msg_id: str
    agent_id: int | None
    delivery: str  # "" (incoming), "sent" or "failed: <reason>"
    created_at: datetime


@dataclass(frozen=True)
class EventView:
    type: EventType
    actor: str
    from_status: str
    to_status: str
    from_agent_id: int | None
    to_agent_id: int | None
    params: dict
    created_at: datetime


@dataclass(frozen=True)
class ConversationItem:
    """A row of the inbox."""

    conversation: ConversationView
    waiting_seconds: int | None  # how long a waiting one has waited for an agent
    last_message: MessageView | None
    preview: str  # the last message, shortened


@dataclass(frozen=True)
class ConversationPage:
    items: list[ConversationItem]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class ConversationDetail:
    conversation: ConversationView
    messages: list[MessageView]  # oldest first
    events: list[EventView]  # oldest first


async def list_conversations(
    *,
    status: ConversationStatus | str | None = None,
    agent_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> ConversationPage:
    """Conversations, the most recently active first."""
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    query = Conversation.all()
    if status is not None:
        try:
            query = query.filter(status=ConversationStatus(status))
        except ValueError:
            raise CommonError.INVALID_REQUEST.error(f"没有这种会话状态：{status}") from None
    if agent_id is not None:
        query = query.filter(agent_id=agent_id)
    total = await query.count()
    rows = await query.order_by("-last_activity_at", "-id").offset((page - 1) * page_size).limit(page_size)
    last = await _last_messages([row.id for row in rows])
    now = clock.now()
    items = []
    for row in rows:
        message = last.get(row.id)
        waiting = (
            max(0, int((now - row.opened_at).total_seconds()))
            if row.status == ConversationStatus.WAITING
            else None
        )
        items.append(
            ConversationItem(
                conversation=conversation_view(row),
                waiting_seconds=waiting,
                last_message=message,
                preview=_preview(message.content) if message else "",
            )
        )
    return ConversationPage(items=items, total=total, page=page, page_size=page_size)


async def read_conversation(*, conversation_id: int, message_limit: int = 500) -> ConversationDetail:
    """One conversation with its messages (the newest `message_limit`) and its history."""
    row = await Conversation.get_or_none(id=conversation_id)
    if row is None:
        raise SupportError.CONVERSATION_NOT_FOUND.error()
    messages = (
        await ConversationMessage.filter(conversation_id=conversation_id).order_by("-id").limit(message_limit)
    )
    events = await ConversationEvent.filter(conversation_id=conversation_id).order_by("id")
    return ConversationDetail(
        conversation=conversation_view(row),
        messages=[message_view(message) for message in reversed(messages)],
        events=[event_view(event) for event in events],
    )


async def _last_messages(conversation_ids: list[int]) -> dict[int, MessageView]:
    if not conversation_ids:
        return {}
    newest = (
        await ConversationMessage.filter(conversation_id__in=conversation_ids)
        .annotate(last_id=Max("id"))
        .group_by("conversation_id")
        .values_list("last_id", flat=True)
    )
    messages = await ConversationMessage.filter(id__in=list(newest))
    return {message.conversation_id: message_view(message) for message in messages}


def _preview(content: str) -> str:
    flat = " ".join(content.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def conversation_view(row: Conversation) -> ConversationView:
    return ConversationView(
        id=row.id,
        openid=row.openid,
        user_id=row.user_id,
        status=ConversationStatus(row.status),
        agent_id=row.agent_id,
        reason=row.reason,
        opened_at=row.opened_at,
        last_activity_at=row.last_activity_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
    )


def message_view(row: ConversationMessage) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,  # type: ignore[attr-defined]
        direction=Direction(row.direction),
        msg_type=MessageType(row.msg_type),
        content=row.content,
        wechat_msg_id=row.wechat_msg_id,
        agent_id=row.agent_id,
        delivery=row.delivery,
        created_at=row.created_at,
    )


def event_view(row: ConversationEvent) -> EventView:
    return EventView(
        type=EventType(row.type),
        actor=row.actor,
        from_status=row.from_status,
        to_status=row.to_status,
        from_agent_id=row.from_agent_id,
        to_agent_id=row.to_agent_id,
        params=dict(row.params or {}),
        created_at=row.created_at,
    )
