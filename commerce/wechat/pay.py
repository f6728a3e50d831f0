"""Our async client for WeChat Pay APIv3 in public-key mode (微信支付公钥), real or simulated.

wechatpayv3's own async client pins the gateway to api.mch.weixin.qq.com, brings httpx along and
raises bare `Exception`s; we keep its protocol helpers (the Authorization header, RSA signatures,
AES-GCM) — all on `cryptography` — and put them on our aiohttp session with typed errors, the
5-minute timestamp window on everything WeChat Pay sends us, and our clock.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from wechatpayv3.utils import (
    aes_decrypt,
    build_authorization,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)
from yarl import URL

from commerce import clock
from commerce.config import Settings
from commerce.metrics import UNAVAILABLE, WECHAT_PAY_CALLS, pay_api
from commerce.wechat import pay_bills
from commerce.wechat.bills import Bill, FundFlowRow, TradeBillRow

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=300, connect=3)  # a busy day's bill is tens of MB
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# WeChat Pay's messages older or newer than this are replays (or a wrong clock): refused.
TIMESTAMP_WINDOW_SECONDS = 300


class WeChatPayUnavailable(Exception):
    """WeChat Pay could not be reached, failed, or answered without a valid signature."""


class WeChatPayRefused(Exception):
    """WeChat Pay answered with an error code (ORDERPAID, ORDER_CLOSED, NOT_ENOUGH, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"WeChat Pay {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class NotificationRejected(Exception):
    """A callback that is not provably from WeChat Pay, or not readable: it changes nothing."""


class NotificationMalformed(NotificationRejected):
    """Signed by WeChat Pay, but no notification we can read (a field of the wrong type)."""


# The fields of a payment or refund resource we read, by the type WeChat Pay documents.
_TEXT_FIELDS = (
    "appid", "mchid", "out_trade_no", "transaction_id", "trade_state", "out_refund_no", "refund_id",
    "refund_status", "status", "success_time",
)  # fmt: skip
_OBJECT_FIELDS = ("amount", "payer")
_AMOUNT_FIELDS = ("total", "payer_total", "refund", "payer_refund")
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds; more would be no time at all


def check_resource_shape(resource: dict[str, Any]) -> None:
    """Every field we read has WeChat Pay's type (text, object, integer fen), so that nothing
    downstream meets a list where it reads an amount: NotificationMalformed otherwise."""
    for name in _TEXT_FIELDS:
        if name in resource and not isinstance(resource[name], str):
            raise NotificationMalformed(f"resource field {name} is not text")
    for name in _OBJECT_FIELDS:
        if name in resource and not isinstance(resource[name], dict):
            raise NotificationMalformed(f"resource field {name} is not an object")
    amount, payer = resource.get("amount", {}), resource.get("payer", {})
    for name in _AMOUNT_FIELDS:
        if name in amount and (type(amount[name]) is not int):
            raise NotificationMalformed(f"resource amount.{name} is not an integer")
    if "openid" in payer and not isinstance(payer["openid"], str):
        raise NotificationMalformed("resource payer.openid is not text")


@dataclass(frozen=True)
class PayCredentials:
    appid: str  # the mini-program paying
    mchid: str
    apiv3_key: str
    cert_serial_no: str
    private_key_pem: str
    public_key_id: str
    public_key_pem: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PayCredentials | None:
        """The merchant's credentials, or None when WeChat Pay is not configured."""
        paths = (settings.wechat_pay_private_key_path, settings.wechat_pay_public_key_path)
        values = (
            settings.wechat_pay_mchid,
            settings.wechat_pay_apiv3_key,
            settings.wechat_pay_cert_serial_no,
            settings.wechat_pay_public_key_id,
            *paths,
        )
        if not all(values):
            return None
        return cls(
            appid=settings.miniapp_appid,
            mchid=settings.wechat_pay_mchid,
            apiv3_key=settings.wechat_pay_apiv3_key,
            cert_serial_no=settings.wechat_pay_cert_serial_no,
            private_key_pem=Path(paths[0]).read_text(),
            public_key_id=settings.wechat_pay_public_key_id,
            public_key_pem=Path(paths[1]).read_text(),
        )


@dataclass(frozen=True)
class Notification:
    id: str
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
    resource: dict[str, Any]  # decrypted: the transaction or the refund


class WeChatPayClient:
    def __init__(self, *, credentials: PayCredentials, base_url: str, notify_base_url: str) -> None:
        self.credentials = credentials
        self._base = base_url.rstrip("/")
        self.notify_url = f"{notify_base_url.rstrip('/')}/pay/wechat/notify"
        self.refund_notify_url = f"{notify_base_url.rstrip('/')}/pay/wechat/refund-notify"
        self._private_key = load_private_key(credentials.private_key_pem)
        self._public_key = load_public_key(credentials.public_key_pem)
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- transactions ---------------------------------------------------------------------

    async def jsapi_prepay(
        self, *, out_trade_no: str, description: str, total: int, openid: str, time_expire: datetime
    ) -> str:
        """A prepay id for wx.requestPayment (valid two hours at WeChat Pay)."""
        body = await self._request(
            "POST",
            "/v3/pay/transactions/jsapi",
            {
                "appid": self.credentials.appid,
                "mchid": self.credentials.mchid,
                "description": description,
                "out_trade_no": out_trade_no,
                "time_expire": clock.to_shanghai(time_expire).isoformat(timespec="seconds"),
                "notify_url": self.notify_url,
                "amount": {"total": total, "currency": "CNY"},
                "payer": {"openid": openid},
            },
        )
        prepay_id = body.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WeChatPayUnavailable("jsapi: no prepay_id in the answer")
        return prepay_id

    async def query_transaction(self, out_trade_no: str) -> dict[str, Any] | None:
        """The transaction as WeChat Pay knows it, or None when it knows none."""
        try:
            return await self._request(
                "GET",
                f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}?mchid={self.credentials.mchid}",
            )
        except WeChatPayRefused as refused:
            if refused.code == "ORDER_NOT_EXIST":
                return None
            raise

    async def close_transaction(self, out_trade_no: str) -> None:
        """Close an unpaid transaction; raises WeChatPayRefused(ORDERPAID) when it was paid."""
        await self._request(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close",
            {"mchid": self.credentials.mchid},
        )

    def payment_params(self, prepay_id: str) -> dict[str, str]:
        """What the mini-program passes to wx.requestPayment, signed with the merchant key."""
        timestamp = str(int(clock.now().timestamp()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        message = f"{self.credentials.appid}\n{timestamp}\n{nonce}\n{package}\n"
        return {
            "appId": self.credentials.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": rsa_sign(self._private_key, message),
        }

    # -- refunds --------------------------------------------------------------------------

    async def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: int, total: int, reason: str
    ) -> dict[str, Any]:
        """Ask for a refund; WeChat Pay treats a repeated out_refund_no as the same refund."""
        return await self._request(
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "reason": reason[:80],
                "notify_url": self.refund_notify_url,
                "amount": {"refund": amount, "total": total, "currency": "CNY"},
            },
        )

    async def query_refund(self, out_refund_no: str) -> dict[str, Any] | None:
        try:
            return await self._request("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no)}")
        except WeChatPayRefused as refused:
            if refused.code == "RESOURCE_NOT_EXISTS":
                return None
            raise

    # -- bills (commerce.wechat.pay_bills) ----------------------------------------------------

    async def trade_bill(self, bill_date: date) -> Bill[TradeBillRow]:
        """The day's trade bill (Asia/Shanghai), hash checked and parsed; BillNotReady before
        WeChat Pay made it, BillTampered when the file is not the one hashed."""
        return await pay_bills.trade_bill(self, bill_date)

    async def fund_flow_bill(self, bill_date: date) -> Bill[FundFlowRow]:
        """The day's fund-flow bill of the basic account, like trade_bill."""
        return await pay_bills.fund_flow_bill(self, bill_date)

    async def download(self, url: str) -> bytes:
        """A file at a download_url WeChat Pay gave: the GET is signed, the answer is not
        (the caller checks the file's hash instead)."""
        try:
            content = await self._download(url)
        except WeChatPayUnavailable:
            WECHAT_PAY_CALLS.labels("bill download", UNAVAILABLE).inc()
            raise
        WECHAT_PAY_CALLS.labels("bill download", "ok").inc()
        return content

    async def _download(self, url: str) -> bytes:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        target = URL(url)
        authorization = build_authorization(
            target.raw_path_qs,
            "GET",
            self.credentials.mchid,
            self.credentials.cert_serial_no,
            self._private_key,
        )
        try:
            headers = {"Authorization": authorization}
            async with self._http.get(target, headers=headers, timeout=DOWNLOAD_TIMEOUT) as response:
                content = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatPayUnavailable(f"bill download: {type(exc).__name__}") from None
        if status != 200:
            raise WeChatPayUnavailable(f"bill download: HTTP {status}")
        return content

    # -- callbacks ------------------------------------------------------------------------

    def open_notification(self, headers: Any, body: bytes) -> Notification:
        """Verify a callback (key id, timestamp window, signature), then decrypt its resource."""
        try:
            text = body.decode("utf-8") if body else ""
        except UnicodeDecodeError:
            raise NotificationRejected("notification: not UTF-8") from None
        self._verify(headers, text, what="notification")
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise NotificationMalformed("unsupported resource algorithm")
            plain = aes_decrypt(
                nonce=str(resource["nonce"]),
                ciphertext=str(resource["ciphertext"]),
                associated_data=str(resource.get("associated_data") or ""),
                apiv3_key=self.credentials.apiv3_key,
            )
            if plain is None:
                raise NotificationRejected("the resource does not decrypt with our APIv3 key")
            decrypted = json.loads(plain)
            if not isinstance(decrypted, dict):
                raise NotificationMalformed("the resource is not a JSON object")
            check_resource_shape(decrypted)
            return Notification(
                id=str(envelope.get("id", "")), event_type=str(envelope["event_type"]), resource=decrypted
            )
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise NotificationMalformed(f"malformed notification: {type(exc).__name__}") from None

    def _verify(self, headers: Any, body: str, *, what: str, check_window: bool = True) -> None:
        def header(name: str) -> str:
            return str(headers.get(name, ""))

        if header("Wechatpay-Signature-Type") not in ("", SIGNATURE_TYPE):
            raise NotificationRejected(f"{what}: unsupported signature type")
        if header("Wechatpay-Serial") != self.credentials.public_key_id:
            raise NotificationRejected(f"{what}: signed with an unknown key")
        timestamp = header("Wechatpay-Timestamp")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise NotificationRejected(f"{what}: no timestamp")
        skew = abs(clock.now().timestamp() - int(timestamp))
        if check_window and skew > TIMESTAMP_WINDOW_SECONDS:
            raise NotificationRejected(f"{what}: timestamp {int(skew)} s off (a replay?)")
        signature = header("Wechatpay-Signature")
        if not signature or not rsa_verify(
            timestamp, header("Wechatpay-Nonce"), body, signature, self._public_key
        ):
            raise NotificationRejected(f"{what}: signature does not verify")

    # -- transport ------------------------------------------------------------------------

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One signed call, counted by API and outcome (shop_wechatpay_calls)."""
        api = pay_api(path)
        try:
            answer = await self._send(method, path, payload)
        except WeChatPayRefused as refused:
            WECHAT_PAY_CALLS.labels(api, refused.code or str(refused.status)).inc()
            raise
        except WeChatPayUnavailable:
            WECHAT_PAY_CALLS.labels(api, UNAVAILABLE).inc()
            raise
        WECHAT_PAY_CALLS.labels(api, "ok").inc()
        return answer

    async def _send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One signed call; the answer's signature is verified before it is believed."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Authorization": build_authorization(
                path,
                method,
                self.credentials.mchid,
                self.credentials.cert_serial_no,
                self._private_key,
                data=body or None,
            ),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Wechatpay-Serial": self.credentials.public_key_id,
        }
        name = path.split("?")[0]
        try:
            async with self._http.request(
                method, self._base + path, data=body.encode() if body else None, headers=headers
            ) as response:
                text = await response.text()
                status = response.status
                answer_headers = response.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeChatPayUnavailable(f"{name}: {type(exc).__name__}") from None
        if status >= 500:
            raise WeChatPayUnavailable(f"{name}: HTTP {status}")
        # Success is believed only when signed; an error answer is checked when it is signed.
        if status < 300 or "Wechatpay-Signature" in answer_headers:
            try:
                # An answer to our own call cannot be a replay: its signature is what counts.
                self._verify(answer_headers, text, what="answer", check_window=False)
            except NotificationRejected as exc:
                raise WeChatPayUnavailable(f"{name}: {exc}") from None
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            raise WeChatPayUnavailable(f"{name}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WeChatPayUnavailable(f"{name}: the answer is not a JSON object")
        if status >= 400:
            refused = WeChatPayRefused(status, str(answer.get("code", "")), str(answer.get("message", "")))
            log.info("WeChat Pay refused %s: %s", name, refused)
            raise refused
        return answer
