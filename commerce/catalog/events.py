"""The catalog's events (topics as stored since before events were typed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.events import Event


@dataclass(frozen=True)
class ProductChanged(Event):
    """A product or its SKUs were created or edited (nobody listens yet: search refreshes by its
    change counter)."""

    topic: ClassVar[str] = "catalog.product_changed"
    product_id: int
