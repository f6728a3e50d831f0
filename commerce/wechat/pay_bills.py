"""WeChat Pay's daily bills through our pay client: apply for the day's bill (a signed, verified
answer with the file's SHA1 and a download URL), download the file (a signed GET whose answer
WeChat does not sign), check its hash, then parse it. A file whose hash does not match is
refused whole and never parsed.

    bill = await pay.trade_bill(date(2026, 12, 6))       # Bill[TradeBillRow]
    flows = await pay.fund_flow_bill(date(2026, 12, 6))  # Bill[FundFlowRow]
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import TYPE_CHECKING

from commerce.wechat.bills import Bill, FundFlowRow, TradeBillRow, parse_fund_flow_bill, parse_trade_bill

if TYPE_CHECKING:
    from commerce.wechat.pay import WeChatPayClient

# WeChat Pay's answer while the day's bill is not made yet (it is, after 10:00 the next day).
NOT_READY = "STATEMENT_CREATING"
# ... and for a day without any transaction or refund: an empty bill.
NO_BILL = "NO_STATEMENT_EXIST"


class BillNotReady(Exception):
    """The day's bill does not exist yet (STATEMENT_CREATING): ask again later."""


class BillTampered(Exception):
    """The downloaded file's hash is not the one WeChat Pay announced: never read."""


async def trade_bill(pay: WeChatPayClient, bill_date: date) -> Bill[TradeBillRow]:
    text = await _fetch(pay, f"/v3/bill/tradebill?bill_date={bill_date.isoformat()}&bill_type=ALL")
    return Bill([], {}) if text is None else parse_trade_bill(text)


async def fund_flow_bill(pay: WeChatPayClient, bill_date: date) -> Bill[FundFlowRow]:
    text = await _fetch(pay, f"/v3/bill/fundflowbill?bill_date={bill_date.isoformat()}&account_type=BASIC")
    return Bill([], {}) if text is None else parse_fund_flow_bill(text)


async def _fetch(pay: WeChatPayClient, path: str) -> str | None:
    """The bill's text, hash checked; None when WeChat Pay has no bill for a day without
    movement."""
    from commerce.wechat.pay import WeChatPayRefused, WeChatPayUnavailable

    try:
        answer = await pay._request("GET", path)
    except WeChatPayRefused as refused:
        if refused.code == NOT_READY:
            raise BillNotReady(path) from None
        if refused.code == NO_BILL:
            return None
        raise
    url, hash_type, expected = answer.get("download_url"), answer.get("hash_type"), answer.get("hash_value")
    if not isinstance(url, str) or not isinstance(expected, str) or hash_type != "SHA1":
        raise WeChatPayUnavailable(f"{path.split('?')[0]}: no download_url or SHA1 hash in the answer")
    content = await pay.download(url)
    actual = hashlib.sha1(content).hexdigest()
    if not hmac.compare_digest(actual, expected.lower()):
        raise BillTampered(f"{path.split('?')[0]}: the file's SHA1 {actual} is not {expected}")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise WeChatPayUnavailable("the bill is not UTF-8") from None
