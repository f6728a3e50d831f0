"""The app factory: the core, started and stopped with the app, and the edges mounted on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

import miniprogram_api
from commerce import outbox
from commerce.config import SIMULATOR_MP_APPID, SIMULATOR_MP_SECRET, Settings
from commerce.core import Core
from scheduler import create_scheduler
from shop.observability import request_id_middleware
from wechat_simulator import SimulatorConfig, create_simulator_app

CORE = web.AppKey("core", Core)


def create_app(settings: Settings, *, mount_simulator: bool | None = None) -> web.Application:
    """The whole service. The simulator is mounted in simulator mode unless told otherwise
    (tests run it as a server of its own)."""
    core = Core(settings)
    app = web.Application(middlewares=[request_id_middleware], client_max_size=2 * 1024**2)
    app[CORE] = core
    app.cleanup_ctx.append(_run_core)
    app.cleanup_ctx.append(_run_outbox_relay)
    if settings.scheduler_in_process:
        app.cleanup_ctx.append(_run_scheduler)
    app.add_subapp("/api/v1", miniprogram_api.create_app(core))
    if settings.simulator if mount_simulator is None else mount_simulator:
        app.add_subapp("/_sim", create_simulator_app(simulator_config(settings)))
    return app


def simulator_config(settings: Settings) -> SimulatorConfig:
    """The simulator knows our apps' credentials, as WeChat would."""
    return SimulatorConfig(
        apps={
            settings.miniapp_appid: settings.miniapp_secret,
            SIMULATOR_MP_APPID: SIMULATOR_MP_SECRET,
        },
        data_dir=settings.data_dir / "simulator",
    )


async def _run_core(app: web.Application) -> AsyncIterator[None]:
    await app[CORE].start()
    yield
    await app[CORE].close()


async def _run_scheduler(app: web.Application) -> AsyncIterator[None]:
    scheduler = create_scheduler(app[CORE])
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)


async def _run_outbox_relay(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run_relay(stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
