"""/healthz and /readyz as a load balancer asks them: alive whatever the dependencies, ready
only when the database and Redis answer, every migration is applied and the search index is
built; unready, naming why, when Redis stops or the schema is a migration behind.

Readiness is checked on a database `shop migrate` made (a SQLite file of its own: the shared
test schema is generated from the models and records no migrations)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from commerce.config import Settings
from commerce.db import APP_LABEL, tortoise_config
from commerce.health import migration_files
from commerce.migrate import migrate_database
from shop.app import create_app
from tests.ports import free_port


def _on_sqlite_file(settings: Settings, path: Path) -> Settings:
    return settings.model_copy(update={"database_url": f"sqlite://{path}"})


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory) -> Path:
    """A database file `shop migrate` brought up to date, made once (it takes seconds)."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    asyncio.run(migrate_database(Settings(database_url=f"sqlite://{path}", shop_data_dir=path.parent)))
    return path


@pytest.fixture
async def migrated(
    wired_settings: Settings, migrated_file: Path, tmp_path: Path, empty_redis: None
) -> Settings:
    """Settings on a copy of the migrated database."""
    shutil.copy(migrated_file, tmp_path / "migrated.sqlite3")
    return _on_sqlite_file(wired_settings, tmp_path / "migrated.sqlite3")


async def test_healthz_answers_without_asking_any_dependency(aiohttp_client, migrated):
    # given an app whose Redis is a closed port
    settings = migrated.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    client = await aiohttp_client(create_app(settings, mount_simulator=False))
    # when a liveness probe asks
    response = await client.get("/healthz")
    # then the process is alive all the same
    assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_when_every_check_passes(aiohttp_client, migrated):
    client = await aiohttp_client(create_app(migrated, mount_simulator=False))
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "migrations": "ok", "search_index": "ok"},
    }


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """A redis-server of this test's own on a spare port, which the test may stop."""
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server on this machine")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield port, server
    finally:
        server.kill()
        server.wait(timeout=10)


async def test_readyz_turns_unready_when_redis_stops(aiohttp_client, migrated, own_redis):
    # given the app on a Redis server of its own, ready
    port, server = own_redis
    await _wait_for_port(port)
    settings = migrated.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    client = await aiohttp_client(create_app(settings, mount_simulator=False))
    assert (await client.get("/readyz")).status == 200
    # when Redis stops
    server.terminate()
    await asyncio.to_thread(server.wait, 10)
    # then the app is unready, naming Redis only, and still alive
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert body["status"] == "unready" and body["failing"] == ["redis"]
    assert body["checks"]["redis"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert (await client.get("/healthz")).status == 200


async def test_readyz_is_unready_while_a_migration_is_pending(
    aiohttp_client, wired_settings, tmp_path, empty_redis
):
    # given a database migrated up to the migration before the last one
    settings = _on_sqlite_file(wired_settings, tmp_path / "behind.sqlite3")
    *applied, last = migration_files()
    try:
        await migrate(
            config=tortoise_config(settings.resolved_database_url), target=f"{APP_LABEL}.{applied[-1]}"
        )
    finally:
        await Tortoise.close_connections()
    client = await aiohttp_client(create_app(settings, mount_simulator=False))
    # when the balancer asks
    response = await client.get("/readyz")
    # then the worker waits for `shop migrate`
    body = await response.json()
    assert response.status == 503
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == f"1 pending, from {last}"


async def _wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return
    raise AssertionError(f"redis-server did not listen on {port}")
