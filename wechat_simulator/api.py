"""What every simulated WeChat API does first: count the call, then fail if a test asked it to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from wechat_simulator.keys import STATE
from wechat_simulator.replies import error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ErrcodeReply = Callable[[web.Request, int], web.StreamResponse]
CodedReply = Callable[[web.Request, int, str], web.StreamResponse]

# The names tests use for counting calls and injecting faults.
APIS = (
    "jscode2session",
    "stable_token",
    "token",
    "getuserphonenumber",
    "pay_jsapi",
    "pay_query",
    "pay_close",
    "refund",
    "refund_query",
    "transfer_bills",
    "transfer_query",
    "transfer_cancel",
    "pay_tradebill",
    "pay_fundflowbill",
    "pay_billdownload",
    "upload_shipping_info",
    "custom_send",
    "user_info",
    "menu_create",
    "menu_get",
    "menu_delete",
    "qrcode_create",
    "getwxacodeunlimit",
    "subscribe_send",
)
# The WeChat Pay APIs: they answer errors as {"code", "message"} with an HTTP status.
PAY_APIS = frozenset(
    {"pay_jsapi", "pay_query", "pay_close", "refund", "refund_query"}
    | {"transfer_bills", "transfer_query", "transfer_cancel"}  # merchant transfer (商家转账)
    | {"pay_tradebill", "pay_fundflowbill", "pay_billdownload"}  # the daily bills
)


def wechat_api(
    name: str,
    *,
    text_plain: bool = False,
    errcode_reply: ErrcodeReply | None = None,
    coded_reply: CodedReply | None = None,
) -> Callable[[Handler], Handler]:
    """errcode_reply answers an errcode fault for APIs that do not speak errcodes (WeChat Pay);
    coded_reply answers a fault naming WeChat Pay's error code (with its HTTP status)."""
    if name not in APIS:
        raise ValueError(f"unknown simulated API {name!r}")

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def handle(request: web.Request) -> web.StreamResponse:
            state = request.app[STATE]
            state.calls[name] += 1
            fault = state.take_fault(name)
            if fault is not None and fault.code is not None and coded_reply is not None:
                return coded_reply(request, fault.http_status or 400, fault.code)
            if fault is not None and fault.http_status is not None:
                return web.Response(status=fault.http_status, text="<html>bad gateway</html>")
            if fault is not None and fault.errcode is not None:
                if errcode_reply is not None:
                    return errcode_reply(request, fault.errcode)
                return error(fault.errcode, text_plain=text_plain)
            return await handler(request)

        return handle

    return decorate
