"""From a follower's message or event to the bot's answer, through the commerce core.

A follower talking to an agent is left to the agent: their messages go to the conversation.
Otherwise text is a command (帮助, 订单, 物流, 售后, 优惠, 人工), a FAQ question, or — by default — a
product search; a second miss in a row hands the follower to a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot import group_deals, leaders, links, referrals, texts
from commerce.aftersales import queries as aftersales
from commerce.aftersales.states import OPEN as OPEN_AFTERSALES
from commerce.catalog import queries as catalog
from commerce.core import Core
from commerce.errors import CommerceError
from commerce.money import fen_to_yuan
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus
from commerce.shipping.fees import free_shipping_text
from commerce.support import conversations as support
from commerce.support.faq import match_faq
from commerce.users import followers
from commerce.wechat.errors import WeChatError, WeChatUnavailable

HELP_WORDS = {"帮助", "菜单", "help", "?", "？", "功能"}
HANDOFF_WORDS = {"客服", "人工", "人工客服", "转人工", "在线客服", "联系客服"}
ORDER_WORDS = {"订单", "我的订单", "查订单", "订单查询"}
COUPON_WORDS = {"优惠", "优惠券", "领券", "红包"}
# Asking about one's refunds; a question ("怎么退货") is left to the FAQ.
AFTERSALE_WORDS = {
    "售后",
    "我的售后",
    "售后进度",
    "查售后",
    "申请售后",
    "退款",
    "我的退款",
    "退款进度",
    "查退款",
    "申请退款",
    "退货",
    "退货退款",
    "申请退货",
    "退换货",
}
AFTERSALES_SHOWN = 5
_SEARCH_PREFIX = re.compile(r"^(搜索|搜|找|查找|我要买|我想买|买)\s*(.*)$")
_LOGISTICS = re.compile(r"^(物流|快递|查物流|查快递)\s*([0-9A-Za-z_-]*)$")
MISS_TTL_SECONDS = 30 * 60
SEARCH_RESULTS = 5


@dataclass(frozen=True)
class Reply:
    text: str = ""  # empty: nothing to say (WeChat is answered "success")
    intent: str = ""  # what the bot understood (shop_bot_replies), set where it decides


def _as(intent: str, reply: Reply) -> Reply:
    """The reply labelled with the intent, unless a deeper step knew better (a search that
    handed the follower to an agent)."""
    return reply if reply.intent else replace(reply, intent=intent)


SILENT = Reply()


async def answer(core: Core, message: Any) -> Reply:
    """The bot's answer to one push (already verified and de-duplicated)."""
    openid = message.source
    if message.type == "event":
        return _as("event", await _event(core, message))
    conversation = await support.active_conversation(openid=openid)
    if conversation is not None:  # an agent has this follower: the bot keeps out of it
        try:
            await support.record_incoming(
                conversation_id=conversation.id,
                msg_type=message.type,
                content=_describe(message),
                wechat_msg_id=str(message.id),
            )
            return _as("agent", SILENT)
        except CommerceError:  # closed a moment ago: the bot answers as it would anyway
            pass
    if message.type == "text":
        return await _text(core, openid, (message.content or "").strip(), message)
    if message.type == "voice":
        recognition = (getattr(message, "recognition", None) or "").strip("。 ")
        if not recognition:
            return Reply(texts.VOICE_UNKNOWN, intent="voice_unknown")
        return await _text(core, openid, recognition, message)
    if message.type == "location":
        try:
            latitude, longitude = float(message.location_x), float(message.location_y)
        except (TypeError, ValueError):
            return Reply(texts.HELP, intent="help")
        await followers.record_location(
            openid=openid, latitude=latitude, longitude=longitude, label=message.label or ""
        )
        return Reply(texts.LOCATION.format(label=message.label or "未知位置"), intent="location")
    if message.type == "image":
        return Reply(texts.IMAGE, intent="image")
    if message.type == "link":
        return Reply(texts.LINK, intent="link")
    return Reply(texts.HELP, intent="help")


async def _text(core: Core, openid: str, text: str, message: Any) -> Reply:
    word = text.lower()
    if not word or word in HELP_WORDS:
        return Reply(texts.HELP, intent="help")
    if word in HANDOFF_WORDS:
        return _as("handoff", await _hand_off(core, openid, message, reason="keyword"))
    if word in ORDER_WORDS:
        return _as("orders", await _recent_orders(core, openid))
    if word in AFTERSALE_WORDS:
        return _as("aftersales", await _aftersales(core, openid))
    if word in COUPON_WORDS:
        return Reply(_coupons(core), intent="coupons")
    if word in group_deals.GROUP_WORDS:
        shopper = await _shopper(core, openid)
        user_id = shopper.user_id if shopper is not None else None
        return Reply(await group_deals.open_groups_text(core.settings, user_id=user_id), intent="groups")
    if logistics := _LOGISTICS.match(text):
        return _as("logistics", await _logistics(core, openid, logistics.group(2)))
    if searched := _SEARCH_PREFIX.match(text):
        query = searched.group(2).strip()
        if not query:
            return Reply(texts.EMPTY_SEARCH, intent="search")
        return _as("search", await _search(core, openid, query, message))
    faq = await match_faq(text)
    if faq is not None:
        await _hit(core, openid)
        return Reply(faq.answer, intent="faq")
    # Not understood: searched for as it is (a miss may hand the follower to an agent).
    return _as("search_fallback", await _search(core, openid, text, message))


def _coupons(core: Core) -> str:
    """No coupons yet; the platform's free-delivery promise, as its shipping settings make it."""
    free_shipping = free_shipping_text(core.settings)
    return texts.COUPONS_FREE_SHIPPING.format(free_shipping=free_shipping) if free_shipping else texts.COUPONS


async def _search(core: Core, openid: str, query: str, message: Any) -> Reply:
    page = await catalog.list_products(core.search, text=query[:100], page_size=SEARCH_RESULTS)
    if not page.items:
        if await _missed(core, openid) >= 2:
            return await _hand_off(core, openid, message, reason="faq_miss", text=texts.HANDOFF_AFTER_MISSES)
        return Reply(texts.NOT_FOUND.format(query=query[:30]))
    await _hit(core, openid)
    lines = [texts.SEARCH_HEADER]
    for n, card in enumerate(page.items, 1):
        price = fen_to_yuan(card.min_price)
        lines.append(f"{n}. {links.product(core.settings, card.id, card.title)} ¥{price}")
    if page.total > len(page.items):
        lines.append(texts.SEARCH_MORE.format(link=links.search(core.settings, query)))
    return Reply("\n".join(lines))


async def _recent_orders(core: Core, openid: str) -> Reply:
    shopper = await _shopper(core, openid)
    if shopper is None:
        return Reply(texts.NEED_LOGIN.format(link=links.home(core.settings)))
    page = await orders.list_orders(shopper=shopper, page_size=5)
    if not page.items:
        return Reply(texts.NO_ORDERS.format(link=links.home(core.settings)))
    lines = [texts.ORDERS_HEADER]
    for order in page.items:
        status = texts.STATUS_TEXT.get(order.status.value, order.status.value)
        label = f"{order.order_no} {status} ¥{fen_to_yuan(order.payable)}"
        lines.append(links.order(core.settings, order.id, label))
    return Reply("\n".join(lines))


async def _aftersales(core: Core, openid: str) -> Reply:
    """The follower's open after-sales requests, and how to ask for one."""
    shopper = await _shopper(core, openid)
    if shopper is None:
        return Reply(texts.NEED_LOGIN.format(link=links.home(core.settings)))
    how = texts.AFTERSALES_HOW.format(link=links.aftersales(core.settings))
    recent = await aftersales.list_mine(shopper=shopper, page_size=50)
    still_open = [a for a in recent if a.status in OPEN_AFTERSALES][:AFTERSALES_SHOWN]
    if not still_open:
        return Reply(texts.NO_AFTERSALES.format(link=links.aftersales(core.settings)))
    lines = [texts.AFTERSALES_HEADER]
    for a in still_open:
        label = f"{a.aftersale_no} {a.status_label} ¥{fen_to_yuan(a.amount)}"
        lines.append(links.aftersale(core.settings, a.id, label))
    lines.append(how)
    return Reply("\n".join(lines))


async def _logistics(core: Core, openid: str, order_no: str) -> Reply:
    shopper = await _shopper(core, openid)
    if shopper is None:
        return Reply(texts.NEED_LOGIN.format(link=links.home(core.settings)))
    if order_no:
        try:
            chosen = [await orders.get_order_by_no(shopper=shopper, order_no=order_no)]
        except CommerceError:
            return Reply(texts.ORDER_NOT_FOUND.format(order_no=order_no[:32]))
    else:
        chosen = (await orders.list_orders(shopper=shopper, status=OrderStatus.SHIPPED, page_size=3)).items
        if not chosen:
            return Reply(texts.NO_SHIPMENTS)
    lines = []
    for order in chosen:
        status = texts.STATUS_TEXT.get(order.status.value, order.status.value)
        line = f"订单 {order.order_no}：{status}"
        if order.tracking_no:
            line += f"，{order.carrier} {order.tracking_no}"
        lines.append(links.order(core.settings, order.id, line))
    return Reply("\n".join(lines))


async def _hand_off(
    core: Core, openid: str, message: Any, *, reason: str, text: str = texts.HANDOFF
) -> Reply:
    shopper = await _shopper(core, openid)
    conversation, _ = await support.open_conversation(
        openid=openid, user_id=shopper.user_id if shopper else None, reason=reason
    )
    await support.record_incoming(
        conversation_id=conversation.id,
        msg_type=message.type,
        content=_describe(message),
        wechat_msg_id=str(getattr(message, "id", "") or ""),
    )
    await support.record_bot_answer(conversation_id=conversation.id, text=text)
    await core.redis.delete(_miss_key(openid))
    return Reply(text, intent="handoff")


async def _event(core: Core, message: Any) -> Reply:
    openid, event = message.source, message.event
    if event in ("subscribe", "subscribe_scan"):
        scene = str(getattr(message, "scene_id", "") or "") if event == "subscribe_scan" else ""
        new = await followers.record_follow(openid=openid, unionid=await _unionid(core, openid), scene=scene)
        if leaders.is_leader_scene(scene):
            return await _leader_scene(core, openid, scene)
        if referrals.is_kol_scene(scene):
            return await _kol_scene(core, openid, scene, followed=True)
        return Reply(texts.WELCOME if new else texts.WELCOME_BACK)
    if event == "unsubscribe":
        await followers.record_unfollow(openid=openid)
        return SILENT
    if event == "scan":
        await followers.record_scan(openid=openid, scene=str(message.scene_id or ""))
        if leaders.is_leader_scene(str(message.scene_id or "")):
            return await _leader_scene(core, openid, str(message.scene_id))
        if referrals.is_kol_scene(str(message.scene_id or "")):
            return await _kol_scene(core, openid, str(message.scene_id), followed=False)
        return Reply(texts.WELCOME_BACK)
    if event == "click":
        return await _menu(core, message)
    if event == "templatesendjobfinish":
        await followers.record_template_report(
            openid=openid, msg_id=str(message.id), status=str(message.status or "")
        )
        return SILENT
    if event == "location":
        try:
            latitude, longitude = float(message.latitude), float(message.longitude)
        except (TypeError, ValueError):
            return SILENT
        await followers.record_location(openid=openid, latitude=latitude, longitude=longitude, label="")
        return SILENT
    return SILENT  # VIEW and the rest need no answer


async def _leader_scene(core: Core, openid: str, scene: str) -> Reply:
    """Through a leader's QR code: bound to that leader (or remembered until sign-in)."""
    return Reply(
        await leaders.bind_by_scene(openid=openid, scene=scene, shopper_of=lambda o: _shopper(core, o))
    )


async def _kol_scene(core: Core, openid: str, scene: str, *, followed: bool) -> Reply:
    """Through a KOL's QR code: a touch for the follower (or remembered until sign-in)."""
    return Reply(
        await referrals.touch_by_scene(
            openid=openid,
            scene=scene,
            followed=followed,
            shopper_of=lambda o: _shopper(core, o),
            protection_days=core.settings.referral_protection_days,
        )
    )


MENU_KEYS = {
    "MENU_ORDERS": "订单",
    "MENU_LOGISTICS": "物流",
    "MENU_AFTERSALES": "售后",
    "MENU_SERVICE": "人工",
    "MENU_HELP": "帮助",
}


async def _menu(core: Core, message: Any) -> Reply:
    key = str(message.key or "")
    if key == "MENU_COUPONS":
        return Reply(_coupons(core))
    if key.startswith("MENU_SEARCH_"):
        return await _search(core, message.source, key.removeprefix("MENU_SEARCH_"), message)
    if key in MENU_KEYS:
        return await _text(core, message.source, MENU_KEYS[key], message)
    return Reply(texts.UNKNOWN_MENU)


async def _shopper(core: Core, openid: str):
    shopper = await followers.shopper_of(openid=openid)
    if shopper is not None:
        return shopper
    follower = await followers.get_follower(openid=openid)
    if follower is not None and follower.unionid:
        return None  # known unionid, no mini-program user yet
    unionid = await _unionid(core, openid)
    if unionid:
        await followers.set_unionid(openid=openid, unionid=unionid)
        return await followers.shopper_of(openid=openid)
    return None


async def _unionid(core: Core, openid: str) -> str | None:
    """The follower's unionid from WeChat (None when unknown or WeChat is unavailable)."""
    try:
        info = await core.mp.get_user_info(openid)
    except (WeChatError, WeChatUnavailable):
        return None
    unionid = info.get("unionid")
    return unionid if isinstance(unionid, str) and unionid else None


async def _missed(core: Core, openid: str) -> int:
    key = _miss_key(openid)
    misses = await core.redis.incr(key)
    await core.redis.expire(key, MISS_TTL_SECONDS)
    return int(misses)


async def _hit(core: Core, openid: str) -> None:
    await core.redis.delete(_miss_key(openid))


def _miss_key(openid: str) -> str:
    return f"mp:misses:{openid}"


def _describe(message: Any) -> str:
    """A message as an agent reads it in the conversation."""
    kind = message.type
    if kind == "text":
        return message.content
    if kind == "image":
        return f"[图片] {message.image}"
    if kind == "voice":
        return f"[语音] {getattr(message, 'recognition', '') or ''}".strip()
    if kind == "location":
        return f"[位置] {message.label or ''} ({message.location_x}, {message.location_y})"
    if kind == "link":
        return f"[链接] {message.title} {message.url}"
    return f"[{kind}]"
