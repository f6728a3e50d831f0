from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from commerce.core import Core

if TYPE_CHECKING:
    pass

CORE = web.AppKey("core", Core)
MP = web.AppKey("mp_webhook", "Webhook")
