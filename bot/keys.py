from __future__ import annotations

from aiohttp import web

from commerce.core import Core

CORE = web.AppKey("core", Core)
MP = web.AppKey("mp_webhook", "Webhook")
