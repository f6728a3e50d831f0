from aiohttp import web

from commerce.core import Core

CORE = web.AppKey("core", Core)
