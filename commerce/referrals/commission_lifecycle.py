"""The lifecycle of a KOL's commission (pending ⇄ held → earned | reversed | voided) and its
timeline rows."""

from __future__ import annotations

from typing import Any

from commerce.lifecycle import Lifecycle, Transition, append_event_row
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.errors import KolCommissionError
from commerce.referrals.states import KOL_COMMISSION_TRANSITIONS, KolCommissionEventType, KolCommissionStatus

SYSTEM = "system:kol_commissions"


async def _record_move(conn: Any, moved: Transition[KolCommissionStatus]) -> None:
    await append_event_row(
        conn,
        "kol_commission_event",
        ("commission_id", moved.object_id),
        KolCommissionEventType.STATUS_CHANGED,
        moved.actor,
        frm=moved.frm.value if moved.frm else "",
        to=moved.to.value,
        params=moved.params,
    )


COMMISSION = Lifecycle(
    model=KolCommission,
    transitions=KOL_COMMISSION_TRANSITIONS,
    refusal=KolCommissionError.INVALID_TRANSITION.error,
    record=_record_move,
)


async def append_event(conn: Any, commission_id: int, type_: KolCommissionEventType, params: dict) -> None:
    await append_event_row(
        conn, "kol_commission_event", ("commission_id", commission_id), type_, SYSTEM, params=params
    )
