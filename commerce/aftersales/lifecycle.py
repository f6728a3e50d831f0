"""The after-sales request's lifecycle (commerce.lifecycle): every move is a conditional update
from ALLOWED_TRANSITIONS, an `aftersale_event` row and an AfterSaleStatusChanged event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce import clock, outbox
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.aftersales.states import ALLOWED_TRANSITIONS, AfterSaleEventType, AfterSaleStatus
from commerce.db import insert
from commerce.lifecycle import Lifecycle, Transition


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
    await insert(
        AfterSaleEvent._meta.db_table,
        {
            "aftersale_id": aftersale_id,
            "type": type_.value,
            "from_status": frm,
            "to_status": to,
            "actor": actor[:64],
            "params": dict(params or {}),
            "created_at": clock.now(),
        },
        connection=conn,
    )


async def _record_move(conn, moved: Transition[AfterSaleStatus]) -> None:
    await record(
        conn,
        moved.object_id,
        AfterSaleEventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm.value if moved.frm is not None else "",
        to=moved.to.value,
        params=moved.params,
    )


# Zero rows: reviewed, withdrawn or received by someone else first.
AFTERSALE: Lifecycle[AfterSaleStatus] = Lifecycle(
    model=AfterSale,
    transitions=ALLOWED_TRANSITIONS,
    refusal=AfterSaleError.ALREADY_HANDLED.error,
    record=_record_move,
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
) -> outbox.OutboxEvent:
    """Move the request from `frm` (or refuse ALREADY_HANDLED) and announce it; the caller
    delivers the returned event after its commit."""
    moved = await AFTERSALE.move(
        conn,
        row.id,
        frm,
        to,
        actor=actor,
        params=params,
        changes=changes,
        event=AfterSaleStatusChanged(
            aftersale_id=row.id, order_id=row.order_id, user_id=row.user_id, from_status=frm, to_status=to
        ),
    )
    assert moved.outbox is not None
    return moved.outbox
