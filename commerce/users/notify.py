"""Telling a shopper something: by the official account where it can, otherwise by a
subscribe message they accepted in the mini-program, otherwise not at all (the mini-program's
pages show the same state).

The official account reaches a shopper who follows it, within WeChat's 48 hours after their
last action there. Many shoppers never followed it, or bought days ago: for the notices that
matter (their group's result, their order waiting at the pickup point) a one-time subscribe
message is the fallback, spending one of the acceptances they gave (commerce.users.subscriptions).

A notice told while an outbox event is delivered is told once per delivery, shopper and text:
when the handler fails on a later shopper (WeChat unreachable) and the whole event is
delivered again, those already told are not told twice, nor is a second acceptance spent.
Redis keeps the mark: "sending" while the call is under way (another delivery of the same
event waits for it), "sent" for a week after. A process killed in between lets the "sending"
mark lapse, so that notice goes again (at least once, never lost).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from commerce import outbox
from commerce.users import followers, subscriptions
from commerce.users.models import User
from commerce.users.notice_templates import NoticeTemplate
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import NotSubscribed, OutOfWindow, WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)


class Channel(StrEnum):
    OFFICIAL_ACCOUNT = "official_account"
    SUBSCRIBE_MESSAGE = "subscribe_message"
    NONE = "none"  # not told: the mini-program shows it
    ALREADY_TOLD = "already_told"  # by an earlier attempt to deliver the same event


SENDING_SECONDS = 120  # longer than the calls of one notice can take (their timeouts)
TOLD_SECONDS = 7 * 86_400  # longer than the outbox keeps retrying an event in practice
_SENT = b"sent"


class NoticeUnderWay(Exception):
    """Another delivery of the same event is telling this shopper right now: try later."""


@dataclass(frozen=True)
class SubscribeNotice:
    """The same notice as a subscribe message: its template, its values in the template's
    order (notice_templates.NOTICES), and the mini-program page it opens."""

    notice: str
    values: tuple[str, ...]
    page: str


@dataclass
class ShopperNotifier:
    mp: WeChatClient  # the official account's calls
    miniapp: WeChatClient  # the mini-program's calls
    templates: dict[str, NoticeTemplate]  # by notice; those without a template have no fallback
    redis: Any  # redis.asyncio.Redis: the marks of notices told within an event's delivery
    miniprogram_state: str = "formal"

    async def tell(self, user_id: int, text: str, *, otherwise: SubscribeNotice | None = None) -> Channel:
        delivery = outbox.current_delivery()
        if delivery is None:
            return await self._tell(user_id, text, otherwise)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        mark = f"notice:{delivery}:{user_id}:{digest}"
        if not await self.redis.set(mark, b"sending", nx=True, ex=SENDING_SECONDS):
            if await self.redis.get(mark) == _SENT:
                return Channel.ALREADY_TOLD
            raise NoticeUnderWay(mark)
        try:
            channel = await self._tell(user_id, text, otherwise)
        except BaseException:
            await self.redis.delete(mark)  # not told: the next delivery tells them
            raise
        await self.redis.set(mark, _SENT, ex=TOLD_SECONDS)
        return channel

    async def _tell(self, user_id: int, text: str, otherwise: SubscribeNotice | None) -> Channel:
        if await self._by_official_account(user_id, text):
            return Channel.OFFICIAL_ACCOUNT
        if otherwise is not None and await self._by_subscribe_message(user_id, otherwise):
            return Channel.SUBSCRIBE_MESSAGE
        return Channel.NONE

    async def _by_official_account(self, user_id: int, text: str) -> bool:
        told = False
        for openid in await followers.openids_of_shopper(user_id=user_id):
            try:
                await self.mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
                told = True
            except OutOfWindow as closed:
                log.info("notice to follower %s not sent: window closed (%s)", openid, closed.errcode)
        return told

    async def _by_subscribe_message(self, user_id: int, notice: SubscribeNotice) -> bool:
        template = self.templates.get(notice.notice)
        openid = await User.filter(id=user_id).first().values_list("openid", flat=True)
        if template is None or openid is None:
            return False
        if not await subscriptions.take(user_id=user_id, template_id=template.template_id):
            log.info("notice %s to shopper %s not sent: no subscription left", notice.notice, user_id)
            return False
        try:
            await self.miniapp.send_subscribe_message(
                openid,
                template.template_id,
                template.data(notice.values),
                page=notice.page,
                state=self.miniprogram_state,
            )
        except NotSubscribed:
            await subscriptions.forget(user_id=user_id, template_id=template.template_id)
            log.info("notice %s to shopper %s refused: WeChat holds no subscription", notice.notice, user_id)
            return False
        except WeChatUnavailable:
            await subscriptions.give_back(user_id=user_id, template_id=template.template_id)
            raise  # the outbox delivers the event again later
        except WeChatError as refused:  # our template or data is wrong: trying again cannot help
            await subscriptions.give_back(user_id=user_id, template_id=template.template_id)
            log.error("notice %s to shopper %s refused by WeChat: %s", notice.notice, user_id, refused)
            return False
        return True
