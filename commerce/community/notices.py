"""What an applicant hears about their application, after its commit (shop.subscriptions):
approved, refused (with the reason), suspended, reinstated. By the official account, or else by
the subscribe message they accepted when applying (commerce.users.notify); otherwise the
mini-program's leader page says it. A repeat of the outbox says it again: harmless."""

from __future__ import annotations

from commerce.community.events import LeaderApproved, LeaderRefused, LeaderReinstated, LeaderSuspended
from commerce.users.notice_templates import REVIEW_RESULT
from commerce.users.notify import ShopperNotifier, SubscribeNotice

APPROVED = "恭喜！您的团长申请已通过，自提点已开放。打开小程序「团长中心」即可分享您的团长码，邀请邻居下单。"
REFUSED = "很抱歉，您的团长申请未通过。原因：{reason}。您可以在小程序「团长中心」修改资料后重新申请。"
SUSPENDED = "您的团长资格已被暂停，自提点暂停接单。原因：{reason}。如有疑问请联系平台客服。"
REINSTATED = "您的团长资格已恢复，自提点重新开放接单。"

ReviewEvent = LeaderApproved | LeaderRefused | LeaderSuspended | LeaderReinstated


def notice_text(event: ReviewEvent) -> str:
    if isinstance(event, LeaderRefused):
        return REFUSED.format(reason=event.reason)
    if isinstance(event, LeaderSuspended):
        return SUSPENDED.format(reason=event.reason)
    return REINSTATED if isinstance(event, LeaderReinstated) else APPROVED


def review_result(event: ReviewEvent) -> tuple[str, str, str]:
    """The subscribe message's values: the application, its result, and the reason or next step."""
    if isinstance(event, LeaderRefused):
        return ("团长申请", "未通过", event.reason)
    if isinstance(event, LeaderSuspended):
        return ("团长资格", "已暂停", event.reason)
    if isinstance(event, LeaderReinstated):
        return ("团长资格", "已恢复", "自提点重新开放接单")
    return ("团长申请", "已通过", "打开团长中心分享团长码")


async def tell_applicant(event: ReviewEvent, *, notifier: ShopperNotifier) -> None:
    otherwise = SubscribeNotice(REVIEW_RESULT, review_result(event), page="pages/index/index")
    await notifier.tell(event.user_id, notice_text(event), otherwise=otherwise)
