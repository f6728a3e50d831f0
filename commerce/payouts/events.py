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
