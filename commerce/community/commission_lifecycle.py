"""The lifecycle of a leader's commission (pending → earned | reversed) and its timeline rows."""

from __future__ import annotations

from typing import Any

from commerce.community.commission_models import LeaderCommission
from commerce.community.commission_states import COMMISSION_TRANSITIONS, CommissionEventType, CommissionStatus
from commerce.community.errors import CommissionError
from commerce.lifecycle import Lifecycle, Transition, append_event_row

SYSTEM = "system:leader_commissions"


async def _record_move(conn: Any, moved: Transition[CommissionStatus]) -> None:
    await append_event_row(
        conn,
        "leader_commission_event",
        ("commission_id", moved.object_id),
        CommissionEventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm.value if moved.frm else "",
        to=moved.to.value,
        params=moved.params,
    )


COMMISSION = Lifecycle(
    model=LeaderCommission,
    transitions=COMMISSION_TRANSITIONS,
    refusal=CommissionError.INVALID_TRANSITION.error,
    record=_record_move,
)


async def append_event(conn: Any, commission_id: int, type_: CommissionEventType, params: dict) -> None:
    await append_event_row(
        conn, "leader_commission_event", ("commission_id", commission_id), type_, SYSTEM, params=params
    )
