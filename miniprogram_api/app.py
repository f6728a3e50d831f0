"""The /api/v1 sub-app: routes, validation, auth and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from commerce.core import Core
from miniprogram_api.auth import authenticate
from miniprogram_api.errors import error_middleware
from miniprogram_api.keys import CORE
from miniprogram_api.openapi import add_docs_routes, build_openapi
from miniprogram_api.routes import (
    account,
    aftersales,
    catalog,
    community_sales,
    groups,
    kol_earnings,
    kol_funnel,
    kols,
    leader_earnings,
    leaders,
    orders,
    referrals,
    shopping,
    subscriptions,
    wallet,
)
from miniprogram_api.routing import Endpoint

PREFIX = "/api/v1"
ROUTERS = [
    account.router,
    catalog.router,
    shopping.router,
    orders.router,
    aftersales.router,
    wallet.router,
    groups.router,
    leaders.router,
    community_sales.router,
    leader_earnings.router,
    referrals.router,
    kols.router,
    kol_earnings.router,
    kol_funnel.router,
    subscriptions.router,
]


def create_app(core: Core) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[CORE] = core
    endpoints: list[Endpoint] = []
    for router in ROUTERS:
        router.install(app, authenticate)
        endpoints += router.endpoints
    add_docs_routes(app, build_openapi(endpoints, prefix=PREFIX), prefix=PREFIX)
    return app
