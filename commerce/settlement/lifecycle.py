"""The statement's lifecycle (commerce.lifecycle): every move is a conditional update from
ALLOWED_TRANSITIONS and a `settlement_statement_event` row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.settlement.errors import SettlementError
from commerce.settlement.models import Statement, StatementEvent
from commerce.settlement.states import ALLOWED_TRANSITIONS, StatementEventType, StatementStatus


async def record(
    conn,
    statement_id: int,
    type_: StatementEventType,
    actor: str,
    *,
    frm: str = "",
    to: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """An append-only history row."""
    await append_event_row(
        conn,
        StatementEvent._meta.db_table,
        ("statement_id", statement_id),
        type_,
        actor,
        frm=frm,
        to=to,
        params=params,
    )


async def _record_move(conn, moved: Transition[StatementStatus]) -> None:
    await record(
        conn,
        moved.object_id,
        StatementEventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm.value if moved.frm is not None else "",
        to=moved.to.value,
        params=moved.params,
    )


# Zero rows: approved, paid or carried by someone else first.
STATEMENT: Lifecycle[StatementStatus] = Lifecycle(
    model=Statement,
    transitions=ALLOWED_TRANSITIONS,
    refusal=SettlementError.ALREADY_HANDLED.error,
    record=_record_move,
)
