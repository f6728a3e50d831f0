"""One error middleware: every failure becomes {"error": {"code", "message"}} with a 4xx/5xx."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from commerce.errors import CommerceError, CommonError, ErrorCode, ErrorKind
from miniprogram_api.keys import CORE

log = logging.getLogger(__name__)

STATUS_BY_KIND = {
    ErrorKind.INVALID: 400,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAVAILABLE: 503,
}

# aiohttp's own refusals (unknown route, wrong method, body too large), in our format.
HTTP_ERRORS = {
    404: ("not_found", "找不到您要的内容"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请使用 application/json 格式"),
}


def error_response(status: int, code: str, message: str, details: Any | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return web.json_response({"error": body}, status=status, dumps=dumps)


def commerce_error_response(error: CommerceError) -> web.Response:
    details = error.details.get("fields") if error.details else None
    return error_response(STATUS_BY_KIND[error.kind], error.code, error.message, details)


def code_response(code: ErrorCode, message: str | None = None) -> web.Response:
    return commerce_error_response(code.error(message))


MAX_BODY_BYTES = 1024**2  # the API takes small JSON; the admin's uploads need the app's larger limit
# Where a shopper uploads an image: the media size limit, plus the multipart envelope.
UPLOAD_PATHS = frozenset({"/api/v1/aftersales/photos", "/api/v1/leader/photos"})
MULTIPART_OVERHEAD = 64 * 1024


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        limit = _body_limit(request)
        if (request.content_length or 0) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
        return await handler(request)
    except CommerceError as error:
        return commerce_error_response(error)
    except web.HTTPException as exc:
        if exc.status in HTTP_ERRORS:
            code, message = HTTP_ERRORS[exc.status]
            response = error_response(exc.status, code, message)
            if "Allow" in exc.headers:  # a 405 says which methods would do
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        # The X-Request-ID header (set by the root app) ties this answer to the log line.
        return error_response(500, "internal_error", "服务器开小差了，请稍后再试")


def _body_limit(request: web.Request) -> int:
    if request.path in UPLOAD_PATHS:
        return request.app[CORE].settings.media_max_bytes + MULTIPART_OVERHEAD
    return MAX_BODY_BYTES


def dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


__all__ = ["CommonError", "code_response", "dumps", "error_middleware", "error_response"]
