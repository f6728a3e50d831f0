"""The orders context's events (topics as stored since before events were typed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event
from commerce.orders.states import OrderStatus


@dataclass(frozen=True)
class OrderPlaced(Event):
    """A shopper placed an order (stock reserved, waiting for payment)."""

    topic: ClassVar[str] = "order.created"
    order_id: int


@dataclass(frozen=True)
class OrderStatusChanged(Event):
    """An order moved along its lifecycle (not announced: a refused refund's way back to shipped)."""

    topic: ClassVar[str] = "order.status_changed"
    payload_keys: ClassVar[dict[str, str]] = {"from_status": "from", "to_status": "to"}
    order_id: int
    from_status: OrderStatus
    to_status: OrderStatus
