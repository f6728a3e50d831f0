"""The community context's events: a leader's application and review, a shopper's binding, a
batch's arrival at its point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class LeaderApplied(Event):
    """A shopper applied to be a leader (or applied again after a refusal)."""

    topic: ClassVar[str] = "leader.applied"
    leader_id: int
    user_id: int


@dataclass(frozen=True)
class LeaderApproved(Event):
    """The platform approved a leader: their point is open, they may bind shoppers."""

    topic: ClassVar[str] = "leader.approved"
    leader_id: int
    user_id: int


@dataclass(frozen=True)
class LeaderRefused(Event):
    """The platform refused an application, with a reason the applicant is told."""

    topic: ClassVar[str] = "leader.refused"
    leader_id: int
    user_id: int
    reason: str


@dataclass(frozen=True)
class LeaderSuspended(Event):
    """The platform suspended a leader: their point is closed, no new bindings."""

    topic: ClassVar[str] = "leader.suspended"
    leader_id: int
    user_id: int
    reason: str


@dataclass(frozen=True)
class LeaderReinstated(Event):
    """A suspended leader is approved again: their point is open again."""

    topic: ClassVar[str] = "leader.reinstated"
    leader_id: int
    user_id: int


@dataclass(frozen=True)
class ShopperBound(Event):
    """A shopper bound to a leader, or switched to another (previous_leader_id)."""

    topic: ClassVar[str] = "leader.shopper_bound"
    user_id: int
    leader_id: int
    previous_leader_id: int | None
    source: str


@dataclass(frozen=True)
class BatchArrived(Event):
    """A batch is at its leader's point: its orders are to be made ready for pickup."""

    topic: ClassVar[str] = "community.batch_arrived"
    batch_id: int
    actor: str = "system"  # who marked it arrived: the orders' readiness is theirs
