"""WeChat's way of answering: HTTP 200 with a JSON body, errcode and errmsg on failure."""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

ERRORS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    44002: "empty post data",
    47001: "data format error",
}


def ok(body: dict[str, Any]) -> web.Response:
    return web.json_response(body)


def error(errcode: int) -> web.Response:
    rid = secrets.token_hex(6)
    return web.json_response({"errcode": errcode, "errmsg": f"{ERRORS[errcode]} rid: {rid}"})


async def json_body(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when it is not one."""
    try:
        body = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
