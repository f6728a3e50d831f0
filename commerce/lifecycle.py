"""One way to move anything along its lifecycle (orders, refunds, conversations; later
fulfilments, after-sales requests, groups, commissions, campaign recipients).

A move, inside the caller's transaction: the transition is checked against the context's
ALLOWED_TRANSITIONS; one conditional UPDATE from the expected status (plus any further
condition) sets the new one; zero rows means someone moved first (or the row is not where the
caller thought): refuse, never overwrite. Then an append-only event row (the context's own
writer) and, if given, an outbox event for after the commit.

Each context declares one `Lifecycle` and keeps its own readable functions around it:

    ORDER = Lifecycle(model=Order, transitions=ALLOWED_TRANSITIONS,
                      refusal=OrderError.INVALID_TRANSITION.error, record=_record_move)
    moved = await ORDER.move(conn, order_id, OrderStatus.PAID, OrderStatus.SHIPPED, actor=actor,
                             event=OrderStatusChanged(order_id, OrderStatus.PAID, OrderStatus.SHIPPED))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model

from commerce import clock, outbox
from commerce.db import insert
from commerce.events import Event

S = TypeVar("S", bound=Enum)


@dataclass(frozen=True)
class Transition(Generic[S]):
    """What the event row writer is told about a move that happened."""

    object_id: int
    frm: S | None  # None when the move allowed several statuses and did not learn which
    to: S
    actor: str
    params: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class Moved(Generic[S]):
    transition: Transition[S]
    outbox: outbox.OutboxEvent | None  # the caller delivers it after its commit


EventWriter = Callable[[Any, Transition[Any]], Awaitable[None]]


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    model: type[Model]
    transitions: Mapping[S, Collection[S]]  # the context's ALLOWED_TRANSITIONS
    refusal: Callable[[], Exception]  # the context's "invalid transition" error
    record: EventWriter | None = None  # writes the append-only event row (conn, transition)
    status_field: str = "status"
    stamp_field: str | None = "updated_at"  # set to the time of the move, if the model has it
    key_field: str = "id"

    def check(self, frm: S | Collection[S], to: S) -> None:
        """Refuse a transition the table does not allow (from any of the given statuses)."""
        for status in _statuses(frm):
            if to not in self.transitions.get(status, ()):
                raise self.refusal()

    async def move(
        self,
        conn: Any,
        object_id: int,
        frm: S | Collection[S],
        to: S,
        *,
        actor: str,
        params: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
        where: Q | None = None,
        event: Event | None = None,
        record: EventWriter | None = None,
    ) -> Moved[S]:
        """Move the row or raise the refusal (not allowed, or someone moved first)."""
        moved = await self.try_move(
            conn,
            object_id,
            frm,
            to,
            actor=actor,
            params=params,
            changes=changes,
            where=where,
            event=event,
            record=record,
        )
        if moved is None:
            raise self.refusal()
        return moved

    async def try_move(
        self,
        conn: Any,
        object_id: int,
        frm: S | Collection[S],
        to: S,
        *,
        actor: str,
        params: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
        where: Q | None = None,
        event: Event | None = None,
        record: EventWriter | None = None,
    ) -> Moved[S] | None:
        """Move the row; None when it was not in an expected status (nothing written).

        `changes` are further columns set by the same UPDATE; `where` a further condition
        (the agent a conversation had, a refund's failure code); `record` writes this move's
        event row instead of the lifecycle's writer.
        """
        self.check(frm, to)
        statuses = _statuses(frm)
        at = clock.now()
        values: dict[str, Any] = {self.status_field: to, **(changes or {})}
        if self.stamp_field is not None:
            values.setdefault(self.stamp_field, at)
        expected = (
            {self.status_field: statuses[0]} if len(statuses) == 1 else {f"{self.status_field}__in": statuses}
        )
        query = self.model.filter(**{self.key_field: object_id}, **expected)
        if where is not None:
            query = query.filter(where)
        if not await query.using_db(conn).update(**values):
            return None
        transition = Transition(
            object_id=object_id,
            frm=statuses[0] if len(statuses) == 1 else None,
            to=to,
            actor=actor,
            params=dict(params or {}),
            at=at,
        )
        writer = record or self.record
        if writer is not None:
            await writer(conn, transition)
        emitted = await outbox.emit(event, connection=conn) if event is not None else None
        return Moved(transition=transition, outbox=emitted)


async def append_event_row(
    conn: Any,
    table: str,
    owner: tuple[str, int],
    type_: Enum,
    actor: str,
    *,
    frm: str = "",
    to: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """A row of a context's append-only timeline (type, from, to, actor, params, time), for
    the tables that share that shape; `owner` is the column naming the object, and its id."""
    await insert(
        table,
        {
            owner[0]: owner[1],
            "type": type_.value,
            "from_status": frm,
            "to_status": to,
            "actor": actor[:64],
            "params": dict(params or {}),
            "created_at": clock.now(),
        },
        connection=conn,
    )


def _statuses(frm: Any) -> list[Any]:
    return [frm] if isinstance(frm, Enum) else list(frm)
