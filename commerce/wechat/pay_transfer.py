"""WeChat Pay's merchant transfer (商家转账, 2025), on our WeChat Pay client.

POST /v3/fund-app/mch-transfer/transfer-bills starts a transfer to a user's WeChat balance;
the answer's `state` is ACCEPTED, PROCESSING, WAIT_USER_CONFIRM (with `package_info`, which
the mini-program hands to wx.requestMerchantTransfer), TRANSFERING, SUCCESS, FAIL, CANCELING
or CANCELLED. A transfer not confirmed within 24 hours is closed by WeChat Pay and the money
goes back. WeChat Pay's rule for an unknown outcome (a timeout, a 5xx): ask again with the
same out_bill_no (or query it) until a final state is known; a new number would pay twice.
The name of the payee is required from 2,000 yuan and travels encrypted with WeChat Pay's
public key (RSA-OAEP), the Wechatpay-Serial header naming that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from wechatpayv3.utils import rsa_encrypt

from commerce.wechat.pay import (
    NotificationMalformed,
    WeChatPayClient,
    WeChatPayRefused,
    WeChatPayUnavailable,
)

TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
NOTIFY_EVENT = "MCHTRANSFER.BILL.FINISHED"
FINAL_STATES = frozenset({"SUCCESS", "FAIL", "CANCELLED"})
STATES = frozenset(
    {
        "ACCEPTED",
        "PROCESSING",
        "WAIT_USER_CONFIRM",
        "TRANSFERING",
        "SUCCESS",
        "FAIL",
        "CANCELING",
        "CANCELLED",
    }
)
# WeChat Pay's threshold for the payee's real name (user_name): 2,000 yuan and above.
REAL_NAME_FROM_FEN = 200_000
# How long the payee has to confirm (WeChat Pay closes the bill after that).
CONFIRM_HOURS = 24
# The scene "佣金报酬" (commissions and rewards) and what it reports, as the merchant platform
# grants it; the report is not shown to the payee.
SCENE_COMMISSION = "1005"
PERCEPTION = "劳务报酬"
_TEXT_FIELDS = (
    "out_bill_no", "transfer_bill_no", "state", "package_info", "fail_reason", "mch_id", "openid",
    "create_time", "update_time",
)  # fmt: skip


@dataclass(frozen=True)
class TransferBill:
    """A transfer bill as WeChat Pay answers or notifies it."""

    out_bill_no: str
    transfer_bill_no: str
    state: str
    package_info: str = ""
    fail_reason: str = ""
    amount: int | None = None  # in notifications and queries
    mch_id: str = ""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def read_bill(body: dict[str, Any]) -> TransferBill:
    """A bill from WeChat Pay's JSON, its fields checked for WeChat Pay's types."""
    for name in _TEXT_FIELDS:
        if name in body and not isinstance(body[name], str):
            raise NotificationMalformed(f"transfer field {name} is not text")
    amount = body.get("transfer_amount")
    if amount is not None and type(amount) is not int:
        raise NotificationMalformed("transfer_amount is not an integer")
    state = str(body.get("state", ""))
    if state not in STATES or not body.get("out_bill_no"):
        raise NotificationMalformed(f"not a transfer bill (state {state[:24]!r})")
    return TransferBill(
        out_bill_no=str(body["out_bill_no"]),
        transfer_bill_no=str(body.get("transfer_bill_no", "")),
        state=state,
        package_info=str(body.get("package_info", "")),
        fail_reason=str(body.get("fail_reason", "")),
        amount=amount,
        mch_id=str(body.get("mch_id", "")),
    )


def encrypt_sensitive(pay: WeChatPayClient, text: str) -> str:
    """A sensitive field (the payee's name) as WeChat Pay takes it: RSA-OAEP with its public
    key, base64. Only WeChat Pay can read it back."""
    return rsa_encrypt(text, pay._public_key)


async def transfer(
    pay: WeChatPayClient,
    *,
    out_bill_no: str,
    openid: str,
    amount: int,
    remark: str,
    user_name_cipher: str | None,
    scene_id: str = SCENE_COMMISSION,
) -> TransferBill:
    """Start (or, with the same out_bill_no and the same fields, ask again about) a transfer.
    Raises WeChatPayUnavailable when the outcome is unknown: try again with the same number."""
    payload: dict[str, Any] = {
        "appid": pay.credentials.appid,
        "out_bill_no": out_bill_no,
        "transfer_scene_id": scene_id,
        "openid": openid,
        "transfer_amount": amount,
        "transfer_remark": remark[:32],
        "notify_url": transfer_notify_url(pay),
        "user_recv_perception": PERCEPTION,
        "transfer_scene_report_infos": [
            {"info_type": "岗位类型", "info_content": "推广员"},
            {"info_type": "报酬说明", "info_content": "推广佣金提现"},
        ],
    }
    if user_name_cipher:
        payload["user_name"] = user_name_cipher
    return _bill(await pay._request("POST", TRANSFER_PATH, payload))


async def query(pay: WeChatPayClient, out_bill_no: str) -> TransferBill | None:
    """The bill as WeChat Pay knows it; None when it knows none (NOT_FOUND)."""
    try:
        return _bill(await pay._request("GET", f"{TRANSFER_PATH}/out-bill-no/{quote(out_bill_no)}"))
    except WeChatPayRefused as refused:
        if refused.code == "NOT_FOUND":
            return None
        raise


async def cancel(pay: WeChatPayClient, out_bill_no: str) -> TransferBill:
    """Cancel a bill the payee has not confirmed: CANCELING, then CANCELLED (notified)."""
    return _bill(await pay._request("POST", f"{TRANSFER_PATH}/out-bill-no/{quote(out_bill_no)}/cancel", {}))


def transfer_notify_url(pay: WeChatPayClient) -> str:
    return pay.notify_url.removesuffix("/notify") + "/transfer-notify"


def _bill(body: dict[str, Any]) -> TransferBill:
    try:
        return read_bill(body)
    except NotificationMalformed as exc:
        raise WeChatPayUnavailable(f"transfer bill: {exc}") from None
