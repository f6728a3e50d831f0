"""WeChat Pay's callbacks, mounted at /pay/wechat: payment, refund and transfer notifications.

WeChat Pay reads only the status: 200/204 is success; anything else makes it retry (over 24
hours). A notification that does not verify, or does not match our records, changes nothing
and is answered FAIL; so is an internal failure, which the retry then repairs.
"""

from __future__ import annotations

import logging

from aiohttp import web

from commerce.errors import CommerceError
from commerce.payments import settlement
from commerce.payments.errors import PaymentError
from commerce.payouts import transfers
from commerce.payouts.errors import PayoutError
from miniprogram_api.keys import CORE

log = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 64 * 1024


def create_pay_callbacks_app(core) -> web.Application:
    app = web.Application()
    app[CORE] = core
    app.router.add_post("/notify", payment_notification)
    app.router.add_post("/refund-notify", refund_notification)
    app.router.add_post("/transfer-notify", transfer_notification)
    return app


async def payment_notification(request: web.Request) -> web.Response:
    return await _handle(request, settlement.on_payment_notification)


async def refund_notification(request: web.Request) -> web.Response:
    return await _handle(request, settlement.on_refund_notification)


async def transfer_notification(request: web.Request) -> web.Response:
    return await _handle(request, transfers.on_notification)


_REJECTED = frozenset({PaymentError.NOTIFICATION_REJECTED.code, PayoutError.NOTIFICATION_REJECTED.code})


async def _handle(request: web.Request, apply) -> web.Response:
    # The root app allows larger bodies; a notification is a few hundred bytes.
    if (request.content_length or 0) > MAX_NOTIFICATION_BYTES:
        return _fail(413, "通知内容过大")
    try:
        body = bytearray()
        async for chunk in request.content.iter_chunked(16 * 1024):
            body += chunk
            if len(body) > MAX_NOTIFICATION_BYTES:
                return _fail(413, "通知内容过大")
        await apply(pay=request.app[CORE].pay, headers=request.headers, body=bytes(body))
    except CommerceError as error:
        return _fail(401 if error.code in _REJECTED else 400, error.message)
    except Exception:
        log.exception("WeChat Pay notification failed; WeChat Pay will retry")
        return _fail(500, "处理失败，请重试")
    return web.Response(status=204)


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"code": "FAIL", "message": message}, status=status)
