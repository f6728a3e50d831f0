"""What the official account tells a shopper about their after-sales request, driven by the
after-sales event (shop.subscriptions): approved (with where to send a return), refused (with
the merchant's reason), refunded (the amount). Idempotent enough for the outbox's repeats: a
repeat of the same move may say it twice, never something false."""

from __future__ import annotations

import logging
from typing import Any

from bot import texts
from commerce.aftersales import queries as aftersales
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.errors import CommerceError
from commerce.money import fen_to_yuan
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import OutOfWindow

log = logging.getLogger(__name__)

# (from, to) moves the shopper hears of; the shopper's own moves (asking, cancelling, sending
# the goods back) and a refund started after the return arrived are not news to them.
TOLD = {
    ("requested", "awaiting_return"): "approved_return",
    ("requested", "refunding"): "approved_refund",
    ("requested", "refused"): "refused",
    ("returning", "refused"): "refused",
    ("refunding", "refunded"): "refunded",
}


def tells_shopper(event: AfterSaleStatusChanged) -> bool:
    return (str(event.from_status), str(event.to_status)) in TOLD


async def tell_shopper_aftersale(event: AfterSaleStatusChanged, *, mp: WeChatClient) -> None:
    what = TOLD.get((str(event.from_status), str(event.to_status)))
    if what is None:
        return
    try:  # system work: the request whoever's it is
        view = await aftersales.staff_get(aftersale_id=event.aftersale_id, merchant_id=None)
    except CommerceError:
        return
    text = notice_text(what, view)
    for openid in await followers.openids_of_shopper(user_id=event.user_id):
        try:
            await mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
        except OutOfWindow as closed:  # WeChat will not take it now; the mini-program shows it
            log.info("after-sales notice to %s not sent: window closed (%s)", openid, closed.errcode)


def notice_text(what: str, view: Any) -> str:
    facts = {"aftersale_no": view.aftersale_no, "amount": fen_to_yuan(view.amount)}
    if what == "approved_return":
        return texts.AFTERSALE_APPROVED_RETURN.format(address=view.return_address, **facts)
    if what == "approved_refund":
        return texts.AFTERSALE_APPROVED_REFUND.format(**facts)
    if what == "refused":
        return texts.AFTERSALE_REFUSED.format(refusal=view.refusal or "未说明", **facts)
    return texts.AFTERSALE_REFUNDED.format(**facts)
