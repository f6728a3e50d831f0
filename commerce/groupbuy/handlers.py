"""What follows a group's end, after its commit (shop.subscriptions): each member hears of it
from the official account, or else by the subscribe message they accepted when they joined
(commerce.users.notify); otherwise the mini-program's order page says it. Idempotent enough
for the outbox's repeats: a repeat says the same true thing again."""

from __future__ import annotations

from commerce.groupbuy.events import GroupFailed, GroupMemberMoved, GroupSucceeded
from commerce.groupbuy.models import Group, GroupDeal, GroupSeat
from commerce.groupbuy.states import SeatStatus
from commerce.users.notice_templates import GROUP_RESULT
from commerce.users.notify import ShopperNotifier, SubscribeNotice

SUCCEEDED_TEXT = "您参加的拼团「{title}」已成团，商家将尽快发货。"
FAILED_TEXT = "很遗憾，您参加的拼团「{title}」未在时限内成团，货款将全额原路退回。"
MOVED_TEXT = "您参加的拼团「{title}」已满员，已为您开了一个新团，邀请好友参团吧。"
# The subscribe message's note (a thing keyword: at most 20 characters).
SUCCEEDED_NOTE = "商家将尽快发货"
FAILED_NOTE = "货款将全额原路退回"
MOVED_NOTE = "已为您开新团，邀请好友参团吧"


async def tell_members(event: GroupSucceeded | GroupFailed, *, notifier: ShopperNotifier) -> None:
    group = await Group.get_or_none(id=event.group_id)
    if group is None:
        return
    title = (await GroupDeal.get(id=group.deal_id)).title
    succeeded = isinstance(event, GroupSucceeded)
    text = (SUCCEEDED_TEXT if succeeded else FAILED_TEXT).format(title=title)
    seats = await GroupSeat.filter(
        group_id=group.id, status__in=(SeatStatus.PAID, SeatStatus.REFUNDED)
    ).values_list("user_id", "order_id")
    order_of_member = dict(sorted(seats, key=lambda seat: seat[1] or 0))  # one notice each
    values = (title, "拼团成功", SUCCEEDED_NOTE) if succeeded else (title, "拼团失败", FAILED_NOTE)
    for user_id in sorted(order_of_member):
        await notifier.tell(user_id, text, otherwise=_as_subscribe_message(values, order_of_member[user_id]))


async def tell_moved(event: GroupMemberMoved, *, notifier: ShopperNotifier) -> None:
    group = await Group.get_or_none(id=event.group_id)
    if group is None:
        return
    title = (await GroupDeal.get(id=group.deal_id)).title
    otherwise = _as_subscribe_message((title, "已开新团", MOVED_NOTE), event.order_id)
    await notifier.tell(event.user_id, MOVED_TEXT.format(title=title), otherwise=otherwise)


def _as_subscribe_message(values: tuple[str, str, str], order_id: int | None) -> SubscribeNotice:
    page = f"pages/order/index?id={order_id}" if order_id else "pages/index/index"
    return SubscribeNotice(GROUP_RESULT, values, page=page)
