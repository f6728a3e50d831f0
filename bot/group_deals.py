"""「拼团」: the groups a follower can join now, each a mini-program link to its share page."""

from __future__ import annotations

from bot import links
from commerce.config import Settings
from commerce.groupbuy import queries
from commerce.money import fen_to_yuan

GROUP_WORDS = {"拼团", "参团", "我要拼团", "拼团活动", "开团"}
SHOWN = 5
HEADER = "正在拼的团，点击即可参团："
NONE = "暂时没有正在拼的团，去小程序看看其他好物吧：{link}"


async def open_groups_text(settings: Settings, *, user_id: int | None) -> str:
    """The open groups, but those the follower (a shopper, when known) is in already."""
    groups = await queries.open_groups(limit=SHOWN, not_of_user=user_id)
    if not groups:
        return NONE.format(link=links.home(settings))
    lines = [HEADER]
    cards = {}
    for group in groups:
        if group.deal_id not in cards:
            cards[group.deal_id] = await queries.deal_card(deal_id=group.deal_id)
        card = cards[group.deal_id]
        price = min((sku.group_price for sku in card.skus), default=0)
        hours, rest = divmod(group.seconds_left, 3600)
        label = f"{card.title} ¥{fen_to_yuan(price)} 还差{group.seats_left}人 剩{hours}小时{rest // 60}分"
        lines.append(links.group(settings, queries.share_path(group.id), label))
    return "\n".join(lines)
