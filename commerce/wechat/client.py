"""STUB: our async WeChat API client (being written)."""

from __future__ import annotations


class WeChatClient:
    def __init__(self, *, settings, redis) -> None:
        self.settings = settings
        self.redis = redis

    async def close(self) -> None:
        pass
