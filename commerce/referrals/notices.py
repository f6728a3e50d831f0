"""What a KOL hears about their application, after its commit (shop.subscriptions): approved
(or invited), refused (with the reason), suspended (with the reason), reinstated. By the
official account, or else by the subscribe message they accepted when applying
(commerce.users.notify); otherwise the mini-program's KOL page shows it. A repeat of the outbox
says it again: harmless."""

from __future__ import annotations

from commerce.referrals.events import KolReviewed
from commerce.referrals.states import KolStatus
from commerce.users.notice_templates import REVIEW_RESULT
from commerce.users.notify import ShopperNotifier, SubscribeNotice

APPROVED = "恭喜！您已成为平台推广员。打开小程序「推广中心」即可获取您的推广链接、公众号二维码和小程序码。"
REFUSED = "很抱歉，您的推广员申请未通过。原因：{reason}。您可以在小程序「推广中心」修改资料后重新申请。"
SUSPENDED = (
    "您的推广员资格已被暂停，暂停期间推广链接和二维码不再计入推广。原因：{reason}。如有疑问请联系平台客服。"
)
REINSTATED = "您的推广员资格已恢复，推广链接和二维码重新生效。"


def notice_text(event: KolReviewed) -> str:
    status = KolStatus(event.status)
    if status is KolStatus.REFUSED:
        return REFUSED.format(reason=event.reason)
    if status is KolStatus.SUSPENDED:
        return SUSPENDED.format(reason=event.reason)
    return REINSTATED if event.from_status == KolStatus.SUSPENDED.value else APPROVED


def review_result(event: KolReviewed) -> tuple[str, str, str]:
    """The subscribe message's values: the application, its result, and the reason or next step."""
    status = KolStatus(event.status)
    if status is KolStatus.REFUSED:
        return ("推广员申请", "未通过", event.reason)
    if status is KolStatus.SUSPENDED:
        return ("推广员资格", "已暂停", event.reason)
    if event.from_status == KolStatus.SUSPENDED.value:
        return ("推广员资格", "已恢复", "推广链接和二维码重新生效")
    return ("推广员申请", "已通过", "打开推广中心获取推广链接")


async def tell_kol(event: KolReviewed, *, notifier: ShopperNotifier) -> None:
    otherwise = SubscribeNotice(REVIEW_RESULT, review_result(event), page="pages/index/index")
    await notifier.tell(event.user_id, notice_text(event), otherwise=otherwise)
