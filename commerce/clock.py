"""The clock services read: always timezone-aware, UTC. Tests move it; nobody sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """The system clock; FrozenClock replaces it in tests."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


_clock: Clock = Clock()


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _clock.now()


def to_shanghai(moment: datetime) -> datetime:
    """How a stored UTC time is shown to people."""
    return moment.astimezone(SHANGHAI)


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze the clock at `at` for the duration of the block (tests)."""
    global _clock
    previous, _clock = _clock, FrozenClock(at)
    try:
        yield _clock  # type: ignore[misc]
    finally:
        _clock = previous
