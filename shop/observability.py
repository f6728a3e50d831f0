"""A request id in every response and every log line; JSON lines for log shippers
(LOG_FORMAT=json); secrets and phone numbers kept out of both formats."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from yarl import URL

from commerce.log_context import RequestNote, close_note, open_note

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
NOTE = web.RequestKey("log_note", RequestNote)  # the request's actor, for its access line
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "actor")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):  # the access line brings its own
            record.request_id = request_id_var.get()
        return True


class RedactFilter(logging.Filter):
    """Mask what must not reach a log file whoever wrote the message: mainland mobile
    numbers (kept as 138****5678, as the admin shows them) and `name=value` secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str, log_format: str = "text") -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler(log_format)]
    root.setLevel(level.upper())


def log_handler(log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The service's handler (stderr by default): request ids added, secrets and phones
    masked, text or JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    return handler


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and the
    access fields when the record is an access line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")


def redact_text(text: str) -> str:
    """A log message with phone numbers masked and SECRET_PARAMS' values hidden."""
    text = _PHONE.sub(r"\1****\2", text)
    return _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}=***", text)


def route_of(request: web.BaseRequest) -> str:
    """The matched resource's canonical path (/api/v1/orders/{order_id}), never the raw URL
    (unbounded series, ids in labels); `unmatched` for a 404 that matched nothing."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_id_middleware(request: web.Request, handler):
    """Take a sane incoming X-Request-ID (from a proxy) or make one; echo it back."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    request[NOTE], note_token = open_note()
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    finally:
        close_note(note_token)
        request_id_var.reset(token)


# Credentials, one-time codes, and what signs a WeChat push (a query read from a log could be
# replayed with another body within its five minutes), and who the follower is.
SECRET_PARAMS = frozenset(
    {"secret", "access_token", "js_code", "code", "token"}
    | {"signature", "msg_signature", "nonce", "timestamp", "openid"}
)
# The same names written `name=value` inside a message (a URL or a query someone logged).
_SECRET_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=[^&\s\"',;]+",
    re.IGNORECASE,
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
    """One line per request, carrying the same request id as the handler's log lines; the
    JSON format shows the fields on their own (route, status, duration, actor)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        request_id = response.headers.get(REQUEST_ID_HEADER, "-")
        note = request.get(NOTE)
        path = redact(request.path_qs)
        self.logger.info(
            "%s %s %s %.1fms [%s]",
            request.method,
            path,
            response.status,
            time * 1000,
            request_id,
            extra={
                "request_id": request_id,  # the access line is written after the request's context
                "method": request.method,
                "path": path,
                "route": route_of(request),
                "status": response.status,
                "duration_ms": round(time * 1000, 1),
                "actor": note.actor if note is not None else "",
            },
        )
