"""The group-buy context's events (commerce.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class GroupSucceeded(Event):
    """The group filled (or reached its minimum at the deadline): its orders are paid now."""

    topic: ClassVar[str] = "group.succeeded"
    group_id: int


@dataclass(frozen=True)
class GroupFailed(Event):
    """The deadline passed first: each paid member is refunded in full through after-sales."""

    topic: ClassVar[str] = "group.failed"
    group_id: int


@dataclass(frozen=True)
class GroupMemberMoved(Event):
    """A payer found their group full or failed and was placed in a new group of the deal."""

    topic: ClassVar[str] = "group.member_moved"
    group_id: int  # the new group
    user_id: int
    order_id: int
