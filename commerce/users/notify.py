"""Telling a shopper something: by the official account where it can, otherwise by a
subscribe message they accepted in the mini-program, otherwise not at all (the mini-program's
pages show the same state).

The official account reaches a shopper who follows it, within WeChat's 48 hours after their
last action there. Many shoppers never followed it, or bought days ago: for the notices that
matter (their group's result, their order waiting at the pickup point) a one-time subscribe
message is the fallback, spending one of the acceptances they gave (commerce.users.subscriptions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

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
    miniprogram_state: str = "formal"

    async def tell(self, user_id: int, text: str, *, otherwise: SubscribeNotice | None = None) -> Channel:
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
