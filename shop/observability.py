"""A request id in every response and every log line."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from yarl import URL

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    """Take a sane incoming X-Request-ID (from a proxy) or make one; echo it back."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        request_id_var.reset(token)


# Credentials, one-time codes, and what signs a WeChat push (a query read from a log could be
# replayed with another body within its five minutes), and who the follower is.
SECRET_PARAMS = frozenset(
    {"secret", "access_token", "js_code", "code", "token"}
    | {"signature", "msg_signature", "nonce", "timestamp", "openid"}
)


def redact(path_qs: str) -> str:
    """The path and query with the values of SECRET_PARAMS replaced: the query is read as the
    app reads it (names in percent-escapes too), so no spelling slips through."""
    try:
        url = URL(path_qs)
    except ValueError:  # unreadable: keep nothing of the query
        return path_qs.partition("?")[0] + ("?***" if "?" in path_qs else "")
    if not url.query:
        return path_qs
    query = [(name, "***" if name.lower() in SECRET_PARAMS else value) for name, value in url.query.items()]
    return f"{url.raw_path}?{urlencode(query, safe='*')}"


class AccessLogger(AbstractAccessLogger):
    """One line per request, carrying the same request id as the handler's log lines."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms [%s]",
            request.method,
            redact(request.path_qs),
            response.status,
            time * 1000,
            response.headers.get(REQUEST_ID_HEADER, "-"),
        )
