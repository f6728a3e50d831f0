"""The core's wired adapters: one object the composition root starts, stops and hands to edges.

Who listens to the core's events is the composition root's to say (shop.subscriptions): the
core takes that table as a function of its started adapters and installs it in the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as redis

from commerce import outbox
from commerce.cache import create_redis
from commerce.catalog.search import CatalogSearch
from commerce.config import Settings
from commerce.db import close_db, init_db
from commerce.ledger import queries as ledger
from commerce.referrals import buffer as referral_buffer
from commerce.shipping import templates as shipping_templates
from commerce.support import live as support_live
from commerce.users import notice_templates
from commerce.users.notify import ShopperNotifier
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
    notifier: ShopperNotifier = field(init=False)  # the official account, else subscribe messages
    search: CatalogSearch = field(init=False)
    pay: WeChatPayClient | None = field(init=False, default=None)  # None: WeChat Pay not configured
    sessions: SessionVersions = field(default_factory=SessionVersions)
    _opened: AsyncExitStack = field(init=False, repr=False)

    async def start(self, *, build_search_index: bool = True) -> None:
        """Open every adapter; on a failure part-way, close what was opened before raising, so
        a process (or a test) that failed to start leaves no connection nor global state behind."""
        self._opened = AsyncExitStack()
        try:
            await self._open(self._opened, build_search_index=build_search_index)
        except BaseException:
            await self._opened.aclose()
            raise

    async def _open(self, opened: AsyncExitStack, *, build_search_index: bool) -> None:
        settings = self.settings
        await init_db(settings)
        opened.push_async_callback(close_db)
        self.redis = create_redis(settings)
        opened.push_async_callback(self.redis.aclose)
        self.wechat = WeChatClient(settings=settings, redis=self.redis)
        opened.push_async_callback(self.wechat.close)
        self.mp = WeChatClient(
            settings=settings, redis=self.redis, appid=settings.mp_appid, secret=settings.mp_secret
        )
        opened.push_async_callback(self.mp.close)
        self.notifier = ShopperNotifier(
            mp=self.mp,
            miniapp=self.wechat,
            templates=notice_templates.configured(settings),
            redis=self.redis,
            miniprogram_state=settings.wechat_subscribe_state,
        )
        credentials = PayCredentials.from_settings(settings)
        if credentials is not None:
            self.pay = WeChatPayClient(
                credentials=credentials,
                base_url=settings.resolved_pay_api_base,
                notify_base_url=settings.public_base_url,
            )
            opened.push_async_callback(self.pay.close)
        outbox.install(outbox.Subscriptions(self.subscribers(self)))
        opened.callback(outbox.uninstall)
        ledger.configure(  # what the books charge where a category says nothing
            commission_default_bps=settings.commission_default_bps, payment_fee_bps=settings.payment_fee_bps
        )
        support_live.connect(self.redis)  # conversations' changes reach every process's inbox
        opened.callback(support_live.disconnect, self.redis)
        referral_buffer.connect(self.redis)  # checkouts see touches not flushed yet
        opened.callback(referral_buffer.disconnect, self.redis)
        shipping_templates.connect_cache(self.redis)  # saved templates reach every process's checkout
        opened.callback(shipping_templates.disconnect_cache, self.redis)
        self.search = CatalogSearch(refresh_seconds=settings.search_refresh_seconds)
        if build_search_index:
            await self.search.rebuild()

    async def close(self) -> None:
        """Close every adapter in the reverse order of opening; each is closed even when one
        before it fails, the database last."""
        await self._opened.aclose()


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
