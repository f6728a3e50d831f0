"""The shared access token's rules, with WeChat replaced by a scripted fetch function and
Redis by the embedded stand-in: fetched by one caller, renewed early by one, never a refused
token twice, waits bounded, the lock always released."""

import asyncio

import fakeredis
import pytest

from commerce.wechat.errors import WeChatUnavailable
from commerce.wechat.tokens import SAFETY_SECONDS, AccessTokenCache

KEY = "wechat:access_token:wxapp"


class ScriptedWeChat:
    """Answers stable_token from a script of (token, expires_in), or raises what it is given."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls: list[bool] = []  # force_refresh of each call

    async def fetch(self, force_refresh: bool) -> tuple[str, int]:
        self.calls.append(force_refresh)
        await asyncio.sleep(0.01)  # a round trip, so that concurrent callers overlap
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def redis_client():
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


def _cache(redis_client, wechat: ScriptedWeChat, **kw) -> AccessTokenCache:
    return AccessTokenCache(redis_client=redis_client, appid="wxapp", fetch=wechat.fetch, **kw)


async def test_the_token_is_kept_a_minute_less_than_wechat_gives_it(redis_client):
    cache = _cache(redis_client, ScriptedWeChat(("t1", 7200)))
    assert await cache.get() == "t1"
    assert 7200 - SAFETY_SECONDS - 2 <= await redis_client.ttl(KEY) <= 7200 - SAFETY_SECONDS


async def test_a_stampede_fetches_once(redis_client):
    wechat = ScriptedWeChat(("t1", 7200))
    caches = [_cache(redis_client, wechat), _cache(redis_client, wechat)]
    tokens = await asyncio.gather(*(cache.get() for cache in caches for _ in range(20)))
    assert set(tokens) == {"t1"} and wechat.calls == [False]


async def test_in_its_last_minutes_one_caller_renews_while_the_others_use_the_current_token(
    redis_client,
):
    # given a token with four minutes left at WeChat
    wechat = ScriptedWeChat(("old", 240), ("new", 7200))
    cache = _cache(redis_client, wechat)
    assert await cache.get() == "old"
    # when 20 callers want a token at once
    tokens = await asyncio.gather(*(cache.get() for _ in range(20)))
    # then one renewed it and the rest kept using the still-valid one meanwhile
    assert wechat.calls == [False, False]
    assert set(tokens) <= {"old", "new"} and "new" in tokens
    assert await cache.get() == "new"


async def test_a_failed_early_renewal_keeps_the_current_token(redis_client):
    wechat = ScriptedWeChat(("old", 240), WeChatUnavailable("down"))
    cache = _cache(redis_client, wechat)
    await cache.get()
    assert await cache.get() == "old"
    assert await cache.get() == "old"  # and does not ask again at once
    assert len(wechat.calls) == 2


async def test_a_refused_token_is_forgotten_only_if_it_is_still_the_cached_one(redis_client):
    cache = _cache(redis_client, ScriptedWeChat(("t1", 7200)))
    await redis_client.set(KEY, "newer", ex=3600)
    await cache.invalidate("t1")
    assert await redis_client.get(KEY) == b"newer"
    await cache.invalidate("newer")
    assert await redis_client.get(KEY) is None


async def test_replace_forces_a_refresh_when_wechat_still_hands_out_the_refused_token(redis_client):
    wechat = ScriptedWeChat(("t1", 7200), ("t1", 7000), ("t2", 7200))
    cache = _cache(redis_client, wechat)
    await cache.get()
    assert await cache.replace("t1") == "t2"
    assert wechat.calls == [False, False, True]
    assert await cache.get() == "t2"


async def test_replace_uses_a_token_another_process_already_got(redis_client):
    wechat = ScriptedWeChat(("t1", 7200))
    cache = _cache(redis_client, wechat)
    await redis_client.set(KEY, "t2", ex=3600)
    assert await cache.replace("t1") == "t2"
    assert wechat.calls == []


async def test_waiting_for_another_process_is_bounded(redis_client):
    wechat = ScriptedWeChat(("t1", 7200))
    cache = _cache(redis_client, wechat, wait_seconds=0.2)
    # given another process holds the refresh lock and never delivers
    await redis_client.set(f"{KEY}:refreshing", "someone-else", px=60_000)
    with pytest.raises(WeChatUnavailable):
        await cache.get()
    assert wechat.calls == []
    assert await redis_client.get(f"{KEY}:refreshing") == b"someone-else"  # not ours to delete


async def test_a_failed_fetch_releases_the_lock_and_is_remembered_briefly(redis_client):
    wechat = ScriptedWeChat(WeChatUnavailable("down"), ("t1", 7200))
    cache = _cache(redis_client, wechat)
    with pytest.raises(WeChatUnavailable):
        await cache.get()
    assert await redis_client.get(f"{KEY}:refreshing") is None
    with pytest.raises(WeChatUnavailable):  # within the moment a failure is remembered
        await cache.get()
    assert len(wechat.calls) == 1
    await redis_client.delete(f"{KEY}:failed")  # the moment has passed
    assert await cache.get() == "t1"
