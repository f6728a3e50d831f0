"""The fulfilment context's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event
from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus


@dataclass(frozen=True)
class FulfilmentStatusChanged(Event):
    """A fulfilment moved along its lifecycle (delivered, picked up)."""

    topic: ClassVar[str] = "fulfilment.status_changed"
    payload_keys: ClassVar[dict[str, str]] = {"from_status": "from", "to_status": "to"}
    fulfilment_id: int
    order_id: int
    kind: FulfilmentKind
    from_status: FulfilmentStatus
    to_status: FulfilmentStatus
