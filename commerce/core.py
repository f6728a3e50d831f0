"""The core's wired adapters: one object the composition root starts, stops and hands to edges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as redis

from commerce import outbox
from commerce.cache import create_redis
from commerce.catalog.search import CatalogSearch
from commerce.config import Settings
from commerce.db import close_db, init_db
from commerce.wechat.client import WeChatClient


@dataclass
class Core:
    settings: Settings
    redis: redis.Redis = field(init=False)
    wechat: WeChatClient = field(init=False)
    search: CatalogSearch = field(init=False)

    async def start(self, *, build_search_index: bool = True) -> None:
        await init_db(self.settings)
        self.redis = create_redis(self.settings)
        self.wechat = WeChatClient(settings=self.settings, redis=self.redis)
        self.search = CatalogSearch(refresh_seconds=self.settings.search_refresh_seconds)
        if build_search_index:
            await self.search.rebuild()

    async def close(self) -> None:
        await self.wechat.close()
        await self.redis.aclose()
        outbox.unsubscribe_all()
        await close_db()


@asynccontextmanager
async def open_core(settings: Settings, *, build_search_index: bool = True) -> AsyncIterator[Core]:
    core = Core(settings)
    await core.start(build_search_index=build_search_index)
    try:
        yield core
    finally:
        await core.close()
