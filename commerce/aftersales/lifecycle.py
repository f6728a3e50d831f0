"""The after-sales request's lifecycle (commerce.lifecycle): every move is a conditional update
from ALLOWED_TRANSITIONS, an `aftersale_event` row and an AfterSaleStatusChanged event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce import outbox
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.aftersales.states import ALLOWED_TRANSITIONS, AfterSaleEventType, AfterSaleStatus
from commerce.lifecycle import Lifecycle, Transition, append_event_row


async def record(
    conn,
    aftersale_id: int,
    type_: AfterSaleEventType,
    actor: str,
    *,
    frm: str = "",
    to: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """An append-only timeline row."""
    table = AfterSaleEvent._meta.db_table
    await append_event_row(
        conn, table, ("aftersale_id", aftersale_id), type_, actor, frm=frm, to=to, params=params
    )


# Zero rows: reviewed, withdrawn or received by someone else first.
AFTERSALE: Lifecycle[AfterSaleStatus] = Lifecycle(
    model=AfterSale,
    transitions=ALLOWED_TRANSITIONS,
    refusal=AfterSaleError.ALREADY_HANDLED.error,
)


async def move(
    conn,
    row: AfterSale,
    frm: AfterSaleStatus,
    to: AfterSaleStatus,
    *,
    actor: str,
    params: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    type_: AfterSaleEventType = AfterSaleEventType.STATUS_CHANGED,
    must: bool = True,
) -> outbox.OutboxEvent | None:
    """Move the request from `frm` and announce it, its timeline row of type `type_` (a return
    sent, received, or a plain status change). Someone moved first: ALREADY_HANDLED, or None
    when not `must`. The caller delivers the returned event after its commit."""

    async def record_as(c, moved: Transition[AfterSaleStatus]) -> None:
        await record(c, moved.object_id, type_, moved.actor, frm=frm.value, to=to.value, params=moved.params)

    call = AFTERSALE.move if must else AFTERSALE.try_move
    moved = await call(
        conn,
        row.id,
        frm,
        to,
        actor=actor,
        params=params,
        changes=changes,
        record=record_as,
        event=AfterSaleStatusChanged(
            aftersale_id=row.id, order_id=row.order_id, user_id=row.user_id, from_status=frm, to_status=to
        ),
    )
    return moved.outbox if moved is not None else None
