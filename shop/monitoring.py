"""What load balancers and Prometheus ask at the root: /healthz (the process is alive),
/readyz (it can serve: commerce.health's checks), /metrics in Prometheus' exposition format,
and the middleware that counts requests (several workers: see shop.metrics).
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from commerce import proxies
from commerce.config import Settings
from commerce.core import Core
from commerce.health import SubscriberBacklog, database_pool, outbox_backlog, readiness
from shop.metrics import multiprocess_mode
from shop.observability import route_of

# No `_created` series beside every counter: they double the page and Prometheus' text format
# scrape does not use them.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "shop_http_requests",
    "HTTP requests by method, route (canonical path) and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "shop_http_request_duration_seconds",
    "Time to answer an HTTP request (until the handler returned), by method, route and status.",
    ["method", "route", "status"],
)
# livesum: with several workers, the sum over the workers alive (a dead one's pool is gone).
DB_POOL_IN_USE = Gauge(
    "shop_db_pool_in_use",
    "MySQL pool connections in use, sampled after each request and at scrape (SQLite: no pool).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "shop_db_pool_max",
    "The most connections the MySQL pool may open, over the live workers.",
    multiprocess_mode="livesum",
)


def add_routes(app: web.Application, core: Core, *, serves_search: bool = True) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz_handler(core, serves_search=serves_search))
    app.router.add_get("/metrics", metrics_handler(core))


async def serve_alone(core: Core, *, host: str, port: int) -> web.AppRunner:
    """/healthz, /readyz and /metrics on a port of their own, for a process that serves
    nothing else (`shop scheduler`: its job runs and failures, its pool, the outbox backlog).
    The caller cleans the runner up when it stops."""
    app = web.Application()
    add_routes(app, core, serves_search=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:  # the port is taken or not ours: nothing is left open
        await runner.cleanup()
        raise
    return runner


async def healthz(request: web.Request) -> web.Response:
    """Alive: the event loop answers. No dependency is asked (a database outage must not get
    every worker restarted by an orchestrator)."""
    return web.json_response({"status": "ok"})


def readyz_handler(core: Core, *, serves_search: bool = True):
    async def readyz(request: web.Request) -> web.Response:
        """Ready for traffic: 200 with every check's result, or 503 naming the failing ones."""
        result = await readiness(
            redis_client=core.redis, search=getattr(core, "search", None), serves_search=serves_search
        )
        body = {"status": "ready" if result.ready else "unready", "checks": result.checks}
        if not result.ready:
            body["failing"] = result.failing
        return web.json_response(body, status=200 if result.ready else 503)

    return readyz


@web.middleware
async def metrics_middleware(request: web.Request, handler):
    """Count and time every request of the root app and its sub-apps by matched route."""
    started = time.perf_counter()
    status = 500  # an exception that no error middleware turned into a response
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_of(request)
        labels = (request.method, route, str(status))
        HTTP_REQUESTS.labels(*labels).inc()
        HTTP_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        _sample_pool()


def _sample_pool() -> None:
    pool = database_pool()
    if pool is not None:
        DB_POOL_IN_USE.set(pool.in_use)
        DB_POOL_SIZE.set(pool.max_size)


def metrics_handler(core: Core):
    async def metrics(request: web.Request) -> web.Response:
        _check_access(request, core.settings)
        _sample_pool()
        body = generate_latest(_registry())
        body += generate_latest(_ScrapeTime.registry(await outbox_backlog()))
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


def _registry() -> CollectorRegistry:
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # every worker's files, summed
        return registry
    return REGISTRY


class _ScrapeTime(Collector):
    """Facts the database holds, read at each scrape (the same whichever worker answers)."""

    def __init__(self, backlog: list[SubscriberBacklog]) -> None:
        self._backlog = backlog

    @classmethod
    def registry(cls, backlog: list[SubscriberBacklog]) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(cls(backlog))
        return registry

    def collect(self):
        pending = GaugeMetricFamily(
            "shop_outbox_pending", "Outbox events a subscriber has not handled yet.", labels=["subscriber"]
        )
        age = GaugeMetricFamily(
            "shop_outbox_oldest_pending_age_seconds",
            "Age of the oldest event a subscriber has not handled yet (0: none).",
            labels=["subscriber"],
        )
        for row in self._backlog:
            pending.add_metric([row.subscriber], row.pending)
            age.add_metric([row.subscriber], row.oldest_age_seconds)
        yield pending
        yield age


# --- who may scrape ------------------------------------------------------------------------


def _check_access(request: web.Request, settings: Settings) -> None:
    """From METRICS_ALLOW's addresses only (403), and with the Bearer METRICS_TOKEN when one
    is set (401). A request forwarded by a proxy we do not trust is refused: its peer (often
    127.0.0.1) is not the client."""
    peer = request.remote or ""
    forwarded_for = request.headers.get("X-Forwarded-For", "")
    if forwarded_for.strip() and not proxies.within(peer, proxies.networks(settings.trusted_proxies)):
        raise web.HTTPForbidden(text="forbidden")
    address = proxies.client_address(
        peer=peer, forwarded_for=forwarded_for, trusted_proxies=settings.trusted_proxies
    )
    if not _allowed(address, settings.metrics_allow):
        raise web.HTTPForbidden(text="forbidden")
    if settings.metrics_token:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            raise web.HTTPUnauthorized(text="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _allowed(address: str, metrics_allow: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 on a dual-stack socket
        address = str(ip.ipv4_mapped)
    return proxies.within(address, proxies.networks(metrics_allow))
