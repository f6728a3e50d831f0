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
class PayoutFinished(Event):
    """A payout ended: in the payee's WeChat balance (succeeded), or its money back in their
    balance (refused by staff, failed or cancelled at WeChat Pay) with the reason."""

    topic: ClassVar[str] = "payout.finished"
    payout_id: int
    user_id: int
    amount: int  # fen
    status: str
    reason: str = ""
