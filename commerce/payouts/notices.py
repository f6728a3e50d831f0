"""What the official account tells a payee when their withdrawal ends (after its commit,
shop.subscriptions): in their WeChat balance, or back in their balance with the reason. Sent
within WeChat's 48-hour window only; otherwise the mini-program's withdrawals page says it."""

from __future__ import annotations

import logging

from commerce.money import fen_to_yuan
from commerce.payouts.events import PayoutFinished
from commerce.payouts.states import PayoutStatus
from commerce.users import followers
from commerce.wechat.client import WeChatClient
from commerce.wechat.errors import OutOfWindow

log = logging.getLogger(__name__)

SUCCEEDED = "您的提现 ¥{amount} 已到账微信零钱，请注意查收。"
RETURNED = "您的提现 ¥{amount} 未成功，金额已退回可提现余额。原因：{reason}"
WHY = {
    PayoutStatus.REFUSED: "平台审核未通过：{reason}",
    PayoutStatus.CANCELLED: "未在规定时间内确认收款，或转账已撤销",
    PayoutStatus.FAILED: "微信支付转账失败（{reason}）",
}


def notice_text(event: PayoutFinished) -> str:
    amount = fen_to_yuan(event.amount)
    status = PayoutStatus(event.status)
    if status is PayoutStatus.SUCCEEDED:
        return SUCCEEDED.format(amount=amount)
    why = WHY.get(status, "{reason}").format(reason=event.reason or "未知原因")
    return RETURNED.format(amount=amount, reason=why)


async def tell_payee(event: PayoutFinished, *, mp: WeChatClient) -> None:
    text = notice_text(event)
    for openid in await followers.openids_of_shopper(user_id=event.user_id):
        try:
            await mp.send_custom_message(openid, {"msgtype": "text", "text": {"content": text}})
        except OutOfWindow as closed:
            log.info("payout notice to %s not sent: window closed (%s)", openid, closed.errcode)
