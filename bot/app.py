"""The /wechat sub-app: the official account's webhook."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from wechatpy.replies import TextReply

from bot import conversation
from bot.delivery import Once
from bot.keys import CORE, MP
from bot.protocol import MAX_BODY_BYTES, MpProtocol, Push, Refused, Unreadable, dedupe_key
from bot.replay import SignedQueries
from commerce.core import Core
from commerce.metrics import BOT_REPLIES
from commerce.users import followers
from commerce.wechat.errors import OutOfWindow, WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

SUCCESS = "success"


class Webhook:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.protocol = MpProtocol(core.settings)
        self.once: Once | None = None
        self.queries: SignedQueries | None = None

    async def verify(self, request: web.Request) -> web.Response:
        """GET: WeChat checks the server URL; echo echostr when the signature is ours."""
        echostr = request.query.get("echostr", "")
        try:
            self.protocol.check(request.query)
        except Refused:
            return web.Response(status=403, text="forbidden")
        assert self.queries is not None
        if not await self.queries.claim(request.query, "GET", echostr.encode()):
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        """POST: a follower's message or event; the answer within WeChat's 5 seconds."""
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        body = await request.read()
        try:
            push = self.protocol.open(request.query, body)
        except Refused as refused:
            log.warning("official-account push refused: %s", refused)
            return web.Response(status=403, text="forbidden")
        except Unreadable as unreadable:
            log.warning("official-account push ignored: %s", unreadable)
            return web.Response(text=SUCCESS, content_type="text/plain")
        assert self.once is not None and self.queries is not None
        if not await self.queries.claim(request.query, "POST", body):
            log.warning("official-account push refused: its signed query came with another body")
            return web.Response(status=403, text="forbidden")
        message = push.message
        text = await self.once.answer(
            dedupe_key(message),
            lambda: self._reply_text(message),
            lambda late: self._send_custom(message.source, late),
        )
        if not text:
            return web.Response(text=SUCCESS, content_type="text/plain")
        return web.Response(text=self._render(push, text), content_type="application/xml")

    async def _reply_text(self, message) -> str:
        reply = await conversation.answer(self.core, message)
        BOT_REPLIES.labels(
            reply.intent or "other"
        ).inc()  # once per message: duplicates are answered from once
        return reply.text

    def _render(self, push: Push, text: str) -> str:
        xml = TextReply(message=push.message, content=text).render()
        return self.protocol.seal(push, xml)

    async def _send_custom(self, openid: str, text: str) -> None:
        """A late answer, as a customer-service message (within WeChat's window)."""
        follower = await followers.get_follower(openid=openid)
        if follower is not None and not follower.subscribed:
            return  # unfollowed meanwhile: no pushes to them at all
        try:
            await self.core.mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
        except OutOfWindow as closed:
            log.warning("late answer to %s not sent: WeChat's window is closed (%s)", openid, closed.errcode)
        except (WeChatError, WeChatUnavailable) as exc:
            log.warning("late answer to %s not sent: %s", openid, exc)


def create_app(core: Core) -> web.Application:
    app = web.Application()
    hook = Webhook(core)
    app[CORE] = core
    app[MP] = hook
    app.router.add_get("/mp", hook.verify)
    app.router.add_post("/mp", hook.receive)
    app.cleanup_ctx.append(_run_once)
    return app


async def _run_once(app: web.Application) -> AsyncIterator[None]:
    hook = app[MP]
    # The core's Redis exists once the root app's startup ran (it starts before sub-apps).
    hook.once = Once(hook.core.redis)
    hook.queries = SignedQueries(hook.core.redis)
    yield
    await hook.once.close()
