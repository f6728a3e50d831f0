"""Conversations as agents see them: the inbox and one conversation's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max

from commerce import clock
from commerce.db import fetch_rows
from commerce.errors import CommonError
from commerce.support.errors import SupportError
from commerce.support.models import Conversation, ConversationEvent, ConversationMessage
from commerce.support.states import OPEN_STATUSES, ConversationStatus, Direction, EventType, MessageType

PREVIEW_CHARS = 40
MAX_PAGE_SIZE = 100
# A follower unanswered this long is shown as waiting too long (highlighted in the inbox).
LONG_WAIT_SECONDS = 5 * 60


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
    id: int = 0


@dataclass(frozen=True)
class ConversationItem:
    """A row of the inbox."""

    conversation: ConversationView
    waiting_seconds: int | None  # how long a waiting one has waited for an agent
    last_message: MessageView | None
    preview: str  # the last message, shortened
    # How long the follower's oldest message since an agent last answered has waited (open
    # conversations; the bot's own answers do not count as answers).
    unanswered_seconds: int | None = None

    @property
    def waiting_too_long(self) -> bool:
        return self.unanswered_seconds is not None and self.unanswered_seconds > LONG_WAIT_SECONDS


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
    unanswered_seconds: int | None = None  # as in ConversationItem


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
    unanswered = await unanswered_since([row.id for row in rows if row.status in OPEN_STATUSES])
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
                unanswered_seconds=_seconds_since(unanswered.get(row.id), now),
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
    unanswered = await unanswered_since([row.id]) if row.status in OPEN_STATUSES else {}
    return ConversationDetail(
        conversation=conversation_view(row),
        messages=[message_view(message) for message in reversed(messages)],
        events=[event_view(event) for event in events],
        unanswered_seconds=_seconds_since(unanswered.get(row.id), clock.now()),
    )


async def get_conversation(*, conversation_id: int) -> ConversationView:
    row = await Conversation.get_or_none(id=conversation_id)
    if row is None:
        raise SupportError.CONVERSATION_NOT_FOUND.error()
    return conversation_view(row)


async def messages_after(*, conversation_id: int, after_id: int, limit: int = 200) -> list[MessageView]:
    """The conversation's messages newer than `after_id`, oldest first (what a reconnecting
    live page missed)."""
    rows = (
        await ConversationMessage.filter(conversation_id=conversation_id, id__gt=after_id)
        .order_by("id")
        .limit(limit)
    )
    return [message_view(row) for row in rows]


async def events_after(*, conversation_id: int, after_id: int, limit: int = 100) -> list[EventView]:
    """The conversation's history newer than event `after_id`, oldest first."""
    rows = (
        await ConversationEvent.filter(conversation_id=conversation_id, id__gt=after_id)
        .order_by("id")
        .limit(limit)
    )
    return [event_view(row) for row in rows]


async def latest_ids(*, conversation_id: int) -> tuple[int, int]:
    """The newest message id and event id of a conversation (0 when none): where a live page
    that has seen everything so far stands."""
    message = await ConversationMessage.filter(conversation_id=conversation_id).order_by("-id").first()
    event = await ConversationEvent.filter(conversation_id=conversation_id).order_by("-id").first()
    return (message.id if message else 0), (event.id if event else 0)


async def count_waiting() -> int:
    """Conversations no agent has taken yet."""
    return await Conversation.filter(status=ConversationStatus.WAITING).count()


async def unanswered_since(conversation_ids: list[int]) -> dict[int, datetime]:
    """For each conversation whose follower awaits an answer: when their oldest message since
    an agent's last delivered reply arrived."""
    if not conversation_ids:
        return {}
    marks = ", ".join("?" for _ in conversation_ids)
    rows = await fetch_rows(
        "SELECT m.`conversation_id` AS cid, MIN(m.`id`) AS first_id FROM `support_message` m"
        f" WHERE m.`conversation_id` IN ({marks}) AND m.`direction` = ?"
        " AND m.`id` > COALESCE((SELECT MAX(r.`id`) FROM `support_message` r"
        " WHERE r.`conversation_id` = m.`conversation_id` AND r.`direction` = ?"
        " AND r.`agent_id` IS NOT NULL AND r.`delivery` = ?), 0)"
        " GROUP BY m.`conversation_id`",
        [*conversation_ids, Direction.IN.value, Direction.OUT.value, "sent"],
    )
    first_ids = [int(row["first_id"]) for row in rows]
    if not first_ids:
        return {}
    found = await ConversationMessage.filter(id__in=first_ids).values_list("conversation_id", "created_at")
    return {int(cid): created_at for cid, created_at in found}


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


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


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
        id=row.id,
    )
