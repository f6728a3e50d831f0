"""The referral context's events: a KOL's application and review, an attribution frozen, a
KOL flagged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class KolApplied(Event):
    topic: ClassVar[str] = "kol.applied"
    kol_id: int
    user_id: int


@dataclass(frozen=True)
class KolReviewed(Event):
    """Approved, refused, suspended or reinstated: the KOL is told (reason when there is one)."""

    topic: ClassVar[str] = "kol.reviewed"
    kol_id: int
    user_id: int
    status: str
    reason: str = ""
    from_status: str = ""  # "suspended" when reinstated (approved again)


@dataclass(frozen=True)
class KolFlagged(Event):
    """The fraud signals crossed a threshold: the KOL's pending earnings are held."""

    topic: ClassVar[str] = "kol.flagged"
    kol_id: int
    flag_id: int
