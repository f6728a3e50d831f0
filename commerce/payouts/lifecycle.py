"""The payout's lifecycle (commerce.lifecycle): every move is a conditional update from
ALLOWED_TRANSITIONS and a `payout_event` row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.payouts.errors import PayoutError
from commerce.payouts.models import Payout, PayoutEvent
from commerce.payouts.states import ALLOWED_TRANSITIONS, PayoutEventType, PayoutStatus


async def record(
    conn,
    payout_id: int,
    type_: PayoutEventType,
    actor: str,
    *,
    frm: str = "",
    to: str = "",
    params: Mapping[str, Any] | None = None,
) -> None:
    """An append-only timeline row."""
    table = PayoutEvent._meta.db_table
    await append_event_row(conn, table, ("payout_id", payout_id), type_, actor, frm=frm, to=to, params=params)


async def _record_move(conn, moved: Transition[PayoutStatus]) -> None:
    frm = moved.frm.value if moved.frm is not None else str(moved.params.get("from", ""))
    await record(
        conn, moved.object_id, PayoutEventType.STATUS_CHANGED, moved.actor, frm=frm, to=moved.to.value,
        params=moved.params,
    )  # fmt: skip


# Zero rows: approved, refused, paid or returned by someone (or WeChat Pay) first.
PAYOUT: Lifecycle[PayoutStatus] = Lifecycle(
    model=Payout,
    transitions=ALLOWED_TRANSITIONS,
    refusal=PayoutError.ALREADY_HANDLED.error,
    record=_record_move,
)
