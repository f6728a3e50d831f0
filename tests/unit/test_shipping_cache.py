"""The shipping templates each process holds are a cache of the database kept current across
processes by a version in Redis: a template saved through one process is what every other
charges next. Two caches on one Redis stand for two `shop serve` processes; a dict stands for
the database."""

from __future__ import annotations

import asyncio

import fakeredis

from commerce.shipping.cache import CHECK_EVERY_SECONDS, VersionedCache


def _processes(
    check_every: float = 0.0,
) -> tuple[VersionedCache[int], VersionedCache[int], fakeredis.FakeAsyncRedis]:
    """Two processes on one Redis (checking the version on every lookup unless told)."""
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    first, second = VersionedCache[int](check_every=check_every), VersionedCache[int]()
    first.connect(redis)
    second.connect(redis)
    return first, second, redis


class Database:
    def __init__(self) -> None:
        self.fees = {7: 1000}
        self.reads = 0

    async def load(self, merchant_id: int) -> int:
        self.reads += 1
        return self.fees[merchant_id]


async def test_a_save_in_one_process_is_read_by_the_others_next_lookup():
    # given a process that priced merchant 7's delivery twice (the database read once)
    first, second, _ = _processes()
    database = Database()
    assert [await first.get(7, database.load) for _ in range(2)] == [1000, 1000]
    assert database.reads == 1
    # when another process saves a new fee and announces it after its commit
    database.fees[7] = 600
    await second.changed()
    # then the first process charges the new fee from its next lookup on
    assert await first.get(7, database.load) == 600
    assert await first.get(7, database.load) == 600
    assert database.reads == 2


async def test_a_save_reaches_the_other_processes_within_the_check_interval():
    # given a process holding merchant 7's fee, checking the version at most every 50 ms
    first, second, _ = _processes(check_every=CHECK_EVERY_SECONDS)
    database = Database()
    assert await first.get(7, database.load) == 1000
    # when another process saves a new fee and the interval passes
    database.fees[7] = 600
    await second.changed()
    await asyncio.sleep(CHECK_EVERY_SECONDS * 1.5)
    # then the first process charges the new fee
    assert await first.get(7, database.load) == 600


async def test_an_emptied_redis_drops_what_every_process_held():
    # given a process holding a fee read under a version that Redis then forgets (a flush, a
    # restart without persistence), while the database changed without an announcement
    first, second, redis = _processes()
    database = Database()
    await second.changed()
    assert await first.get(7, database.load) == 1000
    database.fees[7] = 0
    await redis.flushdb()
    # then its next lookup reads the database again
    assert await first.get(7, database.load) == 0


async def test_a_lookup_read_before_a_save_is_not_kept_after_it():
    # given a lookup that read the old fee while another process saved and announced a new one
    first, second, _ = _processes()
    database = Database()

    async def load_racing_a_save(merchant_id: int) -> int:
        fee = await database.load(merchant_id)
        database.fees[7] = 600
        await second.changed()
        return fee

    assert await first.get(7, load_racing_a_save) == 1000
    # then the next lookup does not trust it: the new fee is charged
    assert await first.get(7, database.load) == 600


async def test_without_redis_every_lookup_reads_the_database():
    cache, database = VersionedCache[int](), Database()
    assert [await cache.get(7, database.load) for _ in range(3)] == [1000] * 3
    assert database.reads == 3
