"""The payouts context's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class PayoutApproved(Event):
    """A payout was approved (by a person or by the small-amount rule): it goes to WeChat Pay."""

    topic: ClassVar[str] = "payout.approved"
    payout_id: int


@dataclass(frozen=True)
class PayoutStatusChanged(Event):
    """A payout moved (approved, refused, waiting for the payee, paid, failed, cancelled)."""

    topic: ClassVar[str] = "payout.status_changed"
    payout_id: int
    payee_user_id: int
    from_status: str  # "" when just asked
    to_status: str
