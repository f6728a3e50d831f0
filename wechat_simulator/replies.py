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
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40022: "invalid sub button level",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40029: "invalid code",
    40053: "invalid action info, please check document",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    43002: "require POST method",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
    # order-shipping upload (发货信息管理)
    10060001: "支付单不存在",
    10060002: "支付单已完成发货，无法继续发货",
    10060003: "支付单已使用重新发货机会",
    10060004: "支付单处于不可发货的状态",
    10060005: "物流类型有误",
    10060006: "非快递发货时不允许分拆发货",
    10060007: "分拆发货模式下必须填写 is_all_delivered 字段",
    10060008: "商品描述 item_desc 字段不能为空",
    10060009: "商品描述 item_desc 字段太长",
    10060014: "参数错误",
    10060024: "物流信息列表太长",
    10060025: "物流公司编码太长",
    10060026: "物流单号太长",
    10060031: "该笔订单不属于该用户",
}


def ok(body: dict[str, Any], *, text_plain: bool = False) -> web.Response:
    """A success answer. Some WeChat APIs (jscode2session) label their JSON text/plain."""
    if text_plain:
        return web.Response(text=json.dumps(body), content_type="text/plain")
    return web.json_response(body)


def error(errcode: int, *, text_plain: bool = False) -> web.Response:
    rid = secrets.token_hex(6)
    message = ERRORS.get(errcode, "unknown error")
    return ok({"errcode": errcode, "errmsg": f"{message}, rid: {rid}"}, text_plain=text_plain)


async def json_body(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when it is not one."""
    try:
        body = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


async def api_json_object(request: web.Request) -> tuple[dict[str, Any], int]:
    """An API call's JSON object and 0, or {} and WeChat's errcode for it: 44002 for an empty
    body, 47001 for one that is not a JSON object."""
    raw = await request.read()
    if not raw.strip():
        return {}, 44002
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return {}, 47001
    return (body, 0) if isinstance(body, dict) else ({}, 47001)
