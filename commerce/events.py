"""What every context's events have in common: a frozen dataclass with a stable topic, stored
by the outbox as a JSON payload and rebuilt from it for each subscriber.

A context declares its events in its own `events.py`:

    @dataclass(frozen=True)
    class OrderPlaced(Event):
        topic: ClassVar[str] = "order.created"
        order_id: int

The topic is what is stored: never rename it (rows written under it must still deliver). A
field added later needs a default, so that rows written before it still decode.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self


class Event:
    """The base of every event dataclass (subclasses are `@dataclass(frozen=True)`)."""

    topic: ClassVar[str]
    # Field name -> payload key, where they differ (a key that is a Python keyword: "from").
    payload_keys: ClassVar[Mapping[str, str]] = {}

    def payload(self) -> dict[str, Any]:
        """The JSON-ready payload (enums stored by value)."""
        return {
            self.payload_keys.get(f.name, f.name): _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """Rebuild the event from a stored payload; keys it lacks take the field's default."""
        kinds = _enum_fields(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = cls.payload_keys.get(f.name, f.name)
            if key in payload:
                value = payload[key]
                values[f.name] = kinds[f.name](value) if f.name in kinds and value is not None else value
        return cls(**values)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


@functools.cache
def _enum_fields(cls: type) -> dict[str, type[enum.Enum]]:
    """The fields typed as an enum (`X` or `X | None`), to turn stored values back into members."""
    hints = typing.get_type_hints(cls)
    found: dict[str, type[enum.Enum]] = {}
    for name, hint in hints.items():
        for candidate in (hint, *typing.get_args(hint)):
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                found[name] = candidate
                break
    return found
