"""The after-sales context's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class AfterSaleStatusChanged(Event):
    """A request moved (asked, approved, refused, received, refunded, cancelled): the shopper
    is told; later the books read refunds from here."""

    topic: ClassVar[str] = "aftersale.status_changed"
    aftersale_id: int
    order_id: int
    user_id: int
    from_status: str  # "" when just asked
    to_status: str
