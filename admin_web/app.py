"""The /admin sub-app."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from admin_web import (
    audit,
    batches,
    community_sales,
    finance,
    group_deals,
    jobs,
    kol_commissions,
    kol_flags,
    kol_funnels,
    kols,
    leader_commissions,
    leaders,
    merchants,
    orders,
    pages,
    payouts,
    pickup_points,
    pickups,
    product_import,
    products,
    reconciliation,
    shipping,
    signin,
    staff,
    statements,
    support,
    support_live,
    users,
)
from admin_web.keys import CORE
from admin_web.navigation import navigation_for
from admin_web.security import headers_middleware, session_middleware
from commerce.catalog import import_jobs
from commerce.core import Core
from commerce.errors import CommerceError, ErrorKind

log = logging.getLogger(__name__)

STATUS_BY_KIND = {ErrorKind.NOT_FOUND: 404, ErrorKind.FORBIDDEN: 403, ErrorKind.UNAUTHENTICATED: 401}


@web.middleware
async def error_middleware(request: web.Request, handler):
    """A refusal is a page that says why; anything unexpected is logged, never shown."""
    try:
        return await handler(request)
    except CommerceError as error:
        status = STATUS_BY_KIND.get(error.kind, 400)
        return _error_page(request, status, error.message)
    except web.HTTPException as exc:
        if exc.status in (403, 404):
            return _error_page(request, exc.status, exc.text if exc.status == 403 else "页面不存在")
        raise
    except Exception:
        log.exception("admin page failed: %s %s", request.method, request.path)
        return _error_page(request, 500, "服务器开小差了，请稍后再试")


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    return aiohttp_jinja2.render_template(
        "error.html", request, {"status": status, "message": message}, status=status
    )


async def _stop_imports(_: web.Application) -> None:
    """Imports running here stop with the process (their pages then say 已中断; rows already
    imported stay)."""
    await import_jobs.cancel_running_imports()


def create_app(core: Core) -> web.Application:
    app = web.Application(middlewares=[headers_middleware, error_middleware, session_middleware])
    app[CORE] = core
    app.on_shutdown.append(support_live.close_streams)  # live inboxes reconnect to another process
    app.on_shutdown.append(_stop_imports)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[navigation_for],
    )
    app.router.add_get("/login", signin.login_form)
    app.router.add_post("/login", signin.login)
    app.router.add_post("/logout", signin.logout)
    app.router.add_get("", pages.dashboard)
    app.router.add_get("/", pages.dashboard)
    app.router.add_get("/merchants", merchants.list_page)
    app.router.add_post("/merchants", merchants.create)
    app.router.add_get("/merchants/{id}", merchants.detail)
    app.router.add_post("/merchants/{id}/staff", merchants.create_staff)
    app.router.add_post("/merchants/{id}/status", merchants.change_status)
    app.router.add_get("/audit", audit.audit_page)
    app.router.add_get("/jobs", jobs.jobs_page)
    staff.add_routes(app.router)
    product_import.add_routes(app.router)  # before products: /products/import is not an id
    products.add_routes(app.router)
    orders.add_routes(app.router)
    app.router.add_get("/users", users.search)
    app.router.add_get("/users/{id}", users.profile)
    app.router.add_post("/users/{id}/reveal-phone", users.reveal)
    support.add_routes(app.router)
    shipping.add_routes(app.router)
    pickups.add_routes(app.router)
    pickup_points.add_routes(app.router)
    group_deals.add_routes(app.router)
    community_sales.add_routes(app.router)
    batches.add_routes(app.router)
    statements.add_routes(app.router)
    finance.add_routes(app.router)  # before /{section}: /finance is a page now
    leader_commissions.add_routes(app.router)
    kol_commissions.add_routes(app.router)
    payouts.add_routes(app.router)
    reconciliation.add_routes(app.router)
    leaders.add_routes(app.router)
    kols.add_routes(app.router)
    kol_funnels.add_routes(app.router)
    kol_flags.add_routes(app.router)
    app.router.add_static("/static", Path(__file__).with_name("static"))
    app.router.add_get("/{section}", pages.section)
    return app
