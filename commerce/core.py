"""The core's wired adapters: one object the composition root starts, stops and hands to edges.

Who listens to the core's events is the composition root's to say (shop.subscriptions): the
core takes that table as a function of its started adapters and installs it in the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as redis

from commerce import outbox
from commerce.cache import create_redis
from commerce.catalog.search import CatalogSearch
from commerce.config import Settings
from commerce.db import close_db, init_db
from commerce.ledger import queries as ledger
from commerce.shipping import templates as shipping_templates
from commerce.support import live as support_live
from commerce.users.sessions import SessionVersions
from commerce.wechat.client import WeChatClient
from commerce.wechat.pay import PayCredentials, WeChatPayClient

# The subscription table, built from the started core's adapters (pay, mp, wechat).
SubscriberTable = Callable[["Core"], Iterable[outbox.Subscriber]]


def no_subscribers(core: Core) -> list[outbox.Subscriber]:
    """For a command that delivers nothing itself (an import): what it emits waits in the
    outbox for the relay of a process that has the service's table."""
    return []


@dataclass
class Core:
    settings: Settings
    subscribers: SubscriberTable
    redis: redis.Redis = field(init=False)
    wechat: WeChatClient = field(init=False)  # the mini-program's calls
    mp: WeChatClient = field(init=False)  # the official account's calls
    search: CatalogSearch = field(init=False)
    pay: WeChatPayClient | None = field(init=False, default=None)  # None: WeChat Pay not configured
    sessions: SessionVersions = field(default_factory=SessionVersions)

    async def start(self, *, build_search_index: bool = True) -> None:
        await init_db(self.settings)
        self.redis = create_redis(self.settings)
        self.wechat = WeChatClient(settings=self.settings, redis=self.redis)
        settings = self.settings
        self.mp = WeChatClient(
            settings=settings, redis=self.redis, appid=settings.mp_appid, secret=settings.mp_secret
        )
        credentials = PayCredentials.from_settings(self.settings)
        if credentials is not None:
            self.pay = WeChatPayClient(
                credentials=credentials,
                base_url=self.settings.resolved_pay_api_base,
                notify_base_url=self.settings.public_base_url,
            )
        outbox.install(outbox.Subscriptions(self.subscribers(self)))
        ledger.configure(  # what the books charge where a category says nothing
            commission_default_bps=settings.commission_default_bps, payment_fee_bps=settings.payment_fee_bps
        )
        support_live.connect(self.redis)  # conversations' changes reach every process's inbox
        shipping_templates.connect_cache(self.redis)  # saved templates reach every process's checkout
        self.search = CatalogSearch(refresh_seconds=self.settings.search_refresh_seconds)
        if build_search_index:
            await self.search.rebuild()

    async def close(self) -> None:
        support_live.disconnect(self.redis)
        shipping_templates.disconnect_cache(self.redis)
        await self.wechat.close()
        await self.mp.close()
        if self.pay is not None:
            await self.pay.close()
        await self.redis.aclose()
        outbox.uninstall()
        await close_db()


@asynccontextmanager
async def open_core(
    settings: Settings, subscribers: SubscriberTable, *, build_search_index: bool = True
) -> AsyncIterator[Core]:
    core = Core(settings, subscribers)
    await core.start(build_search_index=build_search_index)
    try:
        yield core
    finally:
        await core.close()
