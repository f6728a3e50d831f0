"""How a conversation moves: a conditional update on the status and agent read before it,
and an event row saying who moved it, from what to what, and when; once committed, the news
goes out to live listeners."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from commerce import clock
from commerce.audit import services as audit
from commerce.lifecycle import Lifecycle, Transition
from commerce.support import live
from commerce.support.errors import SupportError
from commerce.support.models import Conversation, ConversationEvent
from commerce.support.states import ALLOWED_TRANSITIONS, ConversationStatus, EventType
from commerce.transactions import unit_of_work, write_transaction

KEEP = object()  # move(): leave the agent as it is
# Only closed allows nothing: a move from it is refused as closed.
CONVERSATION: Lifecycle[ConversationStatus] = Lifecycle(
    model=Conversation, transitions=ALLOWED_TRANSITIONS, refusal=SupportError.CONVERSATION_CLOSED.error
)
STATUS_TEXT = {
    ConversationStatus.WAITING: "待接入",
    ConversationStatus.ACTIVE: "处理中",
    ConversationStatus.CLOSED: "已结束",
}


@unit_of_work
async def move(
    row: Conversation,
    new: ConversationStatus,
    event: EventType,
    actor: str,
    *,
    agent_id: int | object | None = KEEP,
    idle_cutoff: datetime | None = None,
    params: dict | None = None,
) -> bool:
    """Move the conversation from the status and agent `row` shows to `new`; False when
    someone moved it first (nothing changed)."""
    old = ConversationStatus(row.status)
    now = clock.now()
    to_agent = row.agent_id if agent_id is KEEP else agent_id
    changes: dict = {"agent_id": to_agent}
    if new == ConversationStatus.CLOSED:
        changes |= {"open_key": None, "closed_at": now, "closed_by": actor}
    else:
        changes["last_activity_at"] = now  # an agent taking it over counts as activity
    # Moved only from the agent it had (a transfer or claim someone else made first refuses).
    where = Q(agent_id__isnull=True) if row.agent_id is None else Q(agent_id=row.agent_id)
    if idle_cutoff is not None:
        where &= Q(last_activity_at__lte=idle_cutoff)

    async def record(conn, _: Transition[ConversationStatus]) -> None:
        await record_event(conn, row, event, actor, to=new, to_agent=to_agent, params=params)

    async with write_transaction() as conn:
        moved = await CONVERSATION.try_move(
            conn, row.id, old, new, actor=actor, changes=changes, where=where, record=record
        )
        if moved is not None and actor.startswith("staff:"):  # the audit log holds every change staff make
            await audit.record(
                actor=actor,
                action=f"conversation.{event.value}",
                object_type="conversation",
                object_id=row.id,
                summary=f"会话 #{row.id}：{STATUS_TEXT[old]} → {STATUS_TEXT[new]}",
                before={"status": old.value, "agent_id": row.agent_id},
                after={"status": new.value, "agent_id": to_agent},
                connection=conn,
            )
    if moved is not None:
        await live.publish(event.value, row.id)  # committed: listeners may read it now
    return moved is not None


async def record_event(
    conn,
    row: Conversation,
    event: EventType,
    actor: str,
    *,
    to: ConversationStatus,
    to_agent: int | object | None = None,
    params: dict | None = None,
) -> None:
    opening = event == EventType.OPENED
    await ConversationEvent.create(
        conversation_id=row.id,
        type=event,
        actor=actor,
        from_status="" if opening else ConversationStatus(row.status).value,
        to_status=to.value,
        from_agent_id=None if opening else row.agent_id,
        to_agent_id=to_agent,
        params=params or {},
        created_at=clock.now(),
        using_db=conn,
    )


async def get_row(conversation_id: int) -> Conversation:
    row = await Conversation.get_or_none(id=conversation_id)
    if row is None:
        raise SupportError.CONVERSATION_NOT_FOUND.error()
    return row


async def refusal(conversation_id: int) -> Exception:
    if await Conversation.exists(id=conversation_id):
        return SupportError.CONVERSATION_CLOSED.error()
    return SupportError.CONVERSATION_NOT_FOUND.error()
