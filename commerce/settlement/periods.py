"""Settlement periods: Asia/Shanghai calendar days, or weeks starting on Monday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from commerce.clock import SHANGHAI
from commerce.settlement.states import SettlementPeriod


@dataclass(frozen=True)
class Period:
    kind: SettlementPeriod
    first_day: date  # Asia/Shanghai, included
    last_day: date  # included

    @property
    def starts_at(self) -> datetime:
        return _midnight(self.first_day)

    @property
    def ends_at(self) -> datetime:
        """The first moment after it (UTC)."""
        return _midnight(self.last_day + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def period_of(day: date, kind: SettlementPeriod) -> Period:
    """The period holding this Asia/Shanghai day."""
    if kind is SettlementPeriod.DAILY:
        return Period(kind, day, day)
    monday = day - timedelta(days=day.weekday())
    return Period(kind, monday, monday + timedelta(days=6))


def last_ended(now: datetime, kind: SettlementPeriod) -> Period:
    """The latest period that has ended by `now`."""
    today = now.astimezone(SHANGHAI).date()
    current = period_of(today, kind)
    return period_of(current.first_day - timedelta(days=1), kind)
