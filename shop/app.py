"""The app factory: the core, started and stopped with the app, and the edges mounted on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

import admin_web
import bot
import miniprogram_api
from commerce import outbox
from commerce.config import Settings
from commerce.core import Core
from commerce.media.storage import local_media_root, uses_s3
from commerce.referrals import touches as referral_touches
from commerce.users import notice_templates
from scheduler import running_scheduler
from shop import monitoring
from shop.observability import request_id_middleware
from shop.subscriptions import subscribers
from wechat_simulator import SimulatorConfig, create_simulator_app
from wechat_simulator.config import OfficialAccount
from wechat_simulator.pay_keys import provision_merchant

log = logging.getLogger(__name__)
CORE = web.AppKey("core", Core)
BOT = web.AppKey("bot", web.Application)  # the /wechat sub-app (tests reach its webhook)


def create_app(settings: Settings, *, mount_simulator: bool | None = None) -> web.Application:
    """The whole service. The simulator is mounted in simulator mode unless told otherwise
    (tests run it as a server of its own)."""
    settings = with_simulated_merchant(settings)
    core = Core(settings, subscribers)
    # Large enough for the admin's uploads (images, catalog files); each edge limits its own bodies.
    app = web.Application(
        middlewares=[monitoring.metrics_middleware, request_id_middleware], client_max_size=12 * 1024**2
    )
    app[CORE] = core
    monitoring.add_routes(app, core)  # /healthz, /readyz, /metrics
    app.cleanup_ctx.append(_run_core)
    app.cleanup_ctx.append(_flush_referral_touches_at_exit)
    app.cleanup_ctx.append(_run_outbox_relay)
    if settings.scheduler_in_process:
        app.cleanup_ctx.append(_run_scheduler)
    app.add_subapp("/api/v1", miniprogram_api.create_app(core))
    app.add_subapp("/pay/wechat", miniprogram_api.create_pay_callbacks_app(core))
    app[BOT] = bot.create_app(core)
    app.add_subapp("/wechat", app[BOT])
    app.add_subapp("/admin", admin_web.create_app(core))
    if not uses_s3(settings):
        # Product images kept in the data folder; with a bucket, shoppers load them from there.
        app.router.add_static("/media", local_media_root(settings), follow_symlinks=False)
        app.on_response_prepare.append(_media_headers)
    if settings.simulator if mount_simulator is None else mount_simulator:
        app.add_subapp("/_sim", create_simulator_app(simulator_config(settings)))
    return app


def simulator_config(settings: Settings) -> SimulatorConfig:
    """The simulator knows our apps' credentials, as WeChat would."""
    return SimulatorConfig(
        apps={
            settings.miniapp_appid: settings.miniapp_secret,
            settings.mp_appid: settings.mp_secret,
        },
        official_accounts=(
            OfficialAccount(
                appid=settings.mp_appid,
                token=settings.mp_token,
                aes_key=settings.mp_aes_key,
                webhook_url=settings.mp_webhook_url,
                # As the shop is set up: encrypted with its EncodingAESKey, plaintext without one.
                mode="safe" if settings.mp_aes_key else "plain",
            ),
        ),
        data_dir=settings.data_dir / "simulator",
        pay_merchant_dir=settings.data_dir / "wechatpay",
        # Now and then WeChat Pay repeats a notification from another server; so do we.
        duplicate_notify_rate=0.2,
        # The subscribe-message templates the shop's notices use, as added in the console.
        subscribe_templates={
            template.template_id: template.keys for template in notice_templates.configured(settings).values()
        },
    )


def with_simulated_merchant(settings: Settings) -> Settings:
    """In simulator mode without WeChat Pay credentials: the simulated merchant's, generated
    into the data folder on first use (as a merchant downloads them from WeChat Pay)."""
    if not settings.simulator or settings.wechat_pay_mchid:
        return settings
    merchant = provision_merchant(settings.data_dir / "simulator", settings.data_dir / "wechatpay")
    return settings.model_copy(
        update={
            "wechat_pay_mchid": merchant.mchid,
            "wechat_pay_apiv3_key": merchant.apiv3_key,
            "wechat_pay_cert_serial_no": merchant.cert_serial_no,
            "wechat_pay_private_key_path": str(merchant.private_key_path),
            "wechat_pay_public_key_id": merchant.public_key_id,
            "wechat_pay_public_key_path": str(merchant.public_key_path),
        }
    )


async def _media_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Images are named by their content's hash: cacheable for good, and never sniffed as
    anything but the image type their name says."""
    if request.path.startswith("/media/") and response.status == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"


async def _run_core(app: web.Application) -> AsyncIterator[None]:
    await app[CORE].start()
    yield
    await app[CORE].close()


async def _flush_referral_touches_at_exit(app: web.Application) -> AsyncIterator[None]:
    """The touches still buffered are written before the core stops (the embedded Redis lives
    in this process only)."""
    yield
    core = app[CORE]
    try:
        await referral_touches.flush_all(
            core.redis,
            protection_days=core.settings.referral_protection_days,
            batch=core.settings.referral_flush_batch,
        )
    except Exception:  # a failed batch stays in Redis for the next process (a real Redis)
        log.exception("referral touches not flushed at shutdown")


async def _run_scheduler(app: web.Application) -> AsyncIterator[None]:
    async with running_scheduler(app[CORE]):
        yield


async def _run_outbox_relay(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run_relay(stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
