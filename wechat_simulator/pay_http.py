"""How WeChat Pay (APIv3) talks: it checks the merchant's Authorization on every request, signs
every answer with the platform key, answers errors as {"code", "message"} with an HTTP status,
and refuses malformed parameters with PARAM_ERROR."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from wechatpayv3.utils import rsa_sign

from wechat_simulator.api import Handler, wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.pay_keys import PlatformKeys

SIGN_TYPE = "WECHATPAY2-SHA256-RSA2048"
CLOCK_SKEW = 300  # seconds a request's timestamp may be off WeChat's clock
_AUTH_FIELDS = re.compile(r'(\w+)="([^"]*)"')
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signed_headers(keys: PlatformKeys, now: datetime, body: str) -> dict[str, str]:
    """WeChat's signature headers over an answer's or a notification's exact body text."""
    timestamp, nonce = str(int(now.timestamp())), secrets.token_hex(16).upper()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": keys.public_key_id,
        "Wechatpay-Signature-Type": SIGN_TYPE,
        "Wechatpay-Signature": rsa_sign(keys.platform_private_key, f"{timestamp}\n{nonce}\n{body}\n"),
    }


def pay_reply(request: web.Request, status: int, body: dict[str, Any] | None) -> web.Response:
    """A signed answer; 204 and other bodiless answers are signed over the empty body."""
    state = request.app[STATE]
    text = "" if body is None else dumps(body)
    headers = signed_headers(state.pay.keys, state.now(), text)
    headers["Request-ID"] = secrets.token_hex(16).upper()
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)


def pay_error(request: web.Request, status: int, code: str, message: str) -> web.Response:
    return pay_reply(request, status, {"code": code, "message": message})


def system_error(request: web.Request, errcode: int = 0) -> web.Response:
    """What WeChat Pay answers when it fails (an errcode fault asked by a test, or a bug)."""
    return pay_error(request, 500, "SYSTEM_ERROR", "系统错误")


def coded_error(request: web.Request, status: int, code: str) -> web.Response:
    """A refusal a test asked for, as WeChat Pay words it (FREQUENCY_LIMITED, ORDERPAID, ...)."""
    return pay_error(request, status, code, f"模拟的微信支付错误：{code}")


def pay_api(name: str) -> Callable[[Handler], Handler]:
    """A WeChat Pay API: counted and faulted like every API, then the Authorization checked
    before anything else (401 SIGN_ERROR)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def handle(request: web.Request) -> web.StreamResponse:
            if not await _signed_by_merchant(request):
                return pay_error(request, 401, "SIGN_ERROR", "签名错误")
            return await handler(request)

        return wechat_api(name, errcode_reply=system_error, coded_reply=coded_error)(handle)

    return decorate


async def _signed_by_merchant(request: web.Request) -> bool:
    """Whether the merchant signed this request just now. The signed path is the one at WeChat's
    root: a prefix the simulator is mounted under (/_sim) may or may not be signed."""
    state = request.app[STATE]
    keys = state.pay.keys
    scheme, _, params = request.headers.get("Authorization", "").partition(" ")
    fields = dict(_AUTH_FIELDS.findall(params))
    mchid, nonce, signature = fields.get("mchid"), fields.get("nonce_str"), fields.get("signature")
    timestamp, serial_no = fields.get("timestamp", ""), fields.get("serial_no", "")
    if scheme != SIGN_TYPE or mchid != keys.mchid or not nonce or not signature:
        return False
    if serial_no.upper() != keys.cert_serial_no or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(int(timestamp) - state.now().timestamp()) > CLOCK_SKEW:
        return False
    try:
        body = (await request.read()).decode("utf-8")
        raw = base64.b64decode(signature, validate=True)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return False
    path = request.raw_path
    paths = {path, path[path.find("/v3/") :]} if "/v3/" in path else {path}
    for signed_path in paths:
        message = f"{request.method}\n{signed_path}\n{timestamp}\n{nonce}\n{body}\n".encode()
        with contextlib.suppress(InvalidSignature):
            keys.merchant_public_key.verify(raw, message, PKCS1v15(), SHA256())
            return True
    return False


class ParamError(Exception):
    """A parameter WeChat Pay refuses: 400 PARAM_ERROR with this message."""


def need_dict(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise ParamError(f"{name} 缺失或格式错误")
    return value


def need_text(
    body: dict[str, Any], name: str, *, max_len: int = 128, pattern: re.Pattern[str] | None = None
) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ParamError(f"{name} 缺失或格式错误")
    if pattern is not None and not pattern.match(value):
        raise ParamError(f"{name} 格式错误")
    return value


def optional_text(body: dict[str, Any], name: str, *, max_len: int = 128) -> str:
    if body.get(name) is None:
        return ""
    value = body[name]
    if not isinstance(value, str) or len(value) > max_len:
        raise ParamError(f"{name} 格式错误")
    return value


def need_amount(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if type(value) is not int or not 1 <= value <= 100_000_000_000:
        raise ParamError(f"{name} 应为不小于 1 的整数（分）")
    return value


def need_currency(body: dict[str, Any], *, required: bool) -> None:
    currency = body.get("currency")
    if (currency is not None or required) and currency != "CNY":
        raise ParamError("currency 应为 CNY")


def need_url(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    if body.get(name) is None and not required:
        return ""
    value = need_text(body, name, max_len=255)
    if not _URL.match(value):
        raise ParamError(f"{name} 应为 http(s) 地址")
    return value
