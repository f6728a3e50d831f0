"""STUB: the in-memory catalog search index (being written)."""

from __future__ import annotations


class CatalogSearch:
    def __init__(self, *, redis) -> None:
        self.redis = redis

    def subscribe_to_outbox(self) -> None:
        pass

    async def rebuild(self) -> None:
        pass
