"""What WeChat Pay remembers: transactions, refunds, the notifications it sent and the shipping
information uploaded, and how it shows them (the JSON its APIs answer)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from wechat_simulator.pay_keys import PlatformKeys

PREPAY_TTL = timedelta(hours=2)
BEIJING_TZ = timezone(timedelta(hours=8))
TRADE_STATE_DESC = {
    "NOTPAY": "订单未支付",
    "SUCCESS": "支付成功",
    "CLOSED": "订单已关闭",
    "REFUND": "订单发生过退款",
}
RECEIVED_ACCOUNT = "支付用户零钱"


def rfc3339(moment: datetime) -> str:
    """WeChat's times: RFC 3339 in Beijing time, e.g. 2026-11-24T20:00:00+08:00."""
    return moment.astimezone(BEIJING_TZ).isoformat(timespec="seconds")


def parse_rfc3339(text: object) -> datetime | None:
    """An RFC 3339 time with its offset, or None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


@dataclass
class Prepay:
    prepay_id: str
    issued_at: datetime


@dataclass
class Transaction:
    appid: str
    mchid: str
    out_trade_no: str
    description: str
    notify_url: str
    total: int
    openid: str
    attach: str
    time_expire: datetime | None
    created_at: datetime
    prepays: list[Prepay] = field(default_factory=list)
    state: str = "NOTPAY"  # NOTPAY, SUCCESS or CLOSED; REFUND is shown once a refund succeeded
    transaction_id: str = ""
    success_time: datetime | None = None
    refunds: list[str] = field(default_factory=list)  # out_refund_no, oldest first

    @property
    def paid(self) -> bool:
        return self.state == "SUCCESS"


@dataclass
class Refund:
    refund_id: str
    out_refund_no: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    reason: str
    notify_url: str
    created_at: datetime
    outcome: str  # how it will end: SUCCESS, ABNORMAL or CLOSED
    status: str = "PROCESSING"  # PROCESSING, SUCCESS, ABNORMAL or CLOSED
    success_time: datetime | None = None


@dataclass
class Attempt:
    at: datetime
    server: int  # which WeChat server sent it: copies and duplicates come from others
    status: int | None  # the HTTP status answered, None for no answer
    error: str = ""


@dataclass
class Notification:
    id: str
    event_type: str
    subject: str  # "transaction" or "refund"
    key: str  # out_trade_no or out_refund_no
    url: str
    body: str  # the exact JSON text sent every time
    created_at: datetime
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False
    retrying: bool = False
    gave_up: bool = False
    lost: bool = False  # to be lost on its first sending (POST /pay/lose-notifications)


@dataclass
class ShippingUpload:
    at: datetime
    transaction_id: str
    logistics_type: int
    delivery_mode: int
    is_all_delivered: bool | None
    shipping_list: list[dict[str, Any]]
    upload_time: str
    reupload: bool


@dataclass
class PayState:
    platform: PlatformKeys | None = None  # set when the app is created
    transactions: dict[str, Transaction] = field(default_factory=dict)  # out_trade_no -> transaction
    prepays: dict[str, str] = field(default_factory=dict)  # prepay_id -> out_trade_no
    paid: dict[str, str] = field(default_factory=dict)  # transaction_id -> out_trade_no
    refunds: dict[str, Refund] = field(default_factory=dict)  # out_refund_no -> refund
    notifications: dict[str, Notification] = field(default_factory=dict)  # id -> notification
    last_notice: dict[str, str] = field(default_factory=dict)  # "subject:key" -> notification id
    refund_outcomes: list[str] = field(default_factory=list)  # how the next refunds end
    notifications_to_lose: int = 0  # the next notifications made are lost
    shipping: dict[str, list[ShippingUpload]] = field(default_factory=dict)  # transaction_id -> uploads

    @property
    def keys(self) -> PlatformKeys:
        if self.platform is None:
            raise RuntimeError("WeChat Pay keys are not provisioned")
        return self.platform

    def by_transaction_id(self, transaction_id: str) -> Transaction | None:
        out_trade_no = self.paid.get(transaction_id)
        return self.transactions.get(out_trade_no) if out_trade_no else None

    def new_prepay(self, tx: Transaction, now: datetime) -> Prepay:
        prepay = Prepay("wx" + now.astimezone(BEIJING_TZ).strftime("%d%H%M%S") + secrets.token_hex(12), now)
        tx.prepays.append(prepay)
        self.prepays[prepay.prepay_id] = tx.out_trade_no
        return prepay

    def pay(self, tx: Transaction, now: datetime) -> None:
        day = now.astimezone(BEIJING_TZ).strftime("%Y%m%d")
        tx.state, tx.success_time = "SUCCESS", now
        tx.transaction_id = "4200" + _digits(6) + day + _digits(10)
        self.paid[tx.transaction_id] = tx.out_trade_no

    def next_refund_outcome(self) -> str:
        return self.refund_outcomes.pop(0) if self.refund_outcomes else "SUCCESS"

    def new_refund_id(self, now: datetime) -> str:
        return "50" + _digits(11) + now.astimezone(BEIJING_TZ).strftime("%Y%m%d") + _digits(8)

    def refunded(self, tx: Transaction) -> int:
        """What was asked back so far; only closed refunds gave the money back to refund."""
        return sum(r.refund for no in tx.refunds if (r := self.refunds[no]).status != "CLOSED")

    def trade_state(self, tx: Transaction) -> str:
        if tx.paid and any(self.refunds[no].status == "SUCCESS" for no in tx.refunds):
            return "REFUND"
        return tx.state

    def transaction_view(self, tx: Transaction) -> dict[str, Any]:
        """A transaction as the query API answers it (and as the payment notification carries it)."""
        state = self.trade_state(tx)
        view: dict[str, Any] = {
            "appid": tx.appid,
            "mchid": tx.mchid,
            "out_trade_no": tx.out_trade_no,
            "trade_type": "JSAPI",
            "trade_state": state,
            "trade_state_desc": TRADE_STATE_DESC[state],
            "attach": tx.attach,
            "payer": {"openid": tx.openid},
            "amount": {"total": tx.total, "currency": "CNY", "payer_currency": "CNY"},
        }
        if tx.transaction_id:
            view["transaction_id"] = tx.transaction_id
            view["bank_type"] = "OTHERS"
            view["amount"]["payer_total"] = tx.total
        if tx.success_time is not None:
            view["success_time"] = rfc3339(tx.success_time)
        return view

    def refund_view(self, refund: Refund) -> dict[str, Any]:
        """A refund as the refund APIs answer it."""
        view: dict[str, Any] = {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": refund.transaction_id,
            "out_trade_no": refund.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": RECEIVED_ACCOUNT,
            "create_time": rfc3339(refund.created_at),
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": refund.total,
                "refund": refund.refund,
                "payer_total": refund.total,
                "payer_refund": refund.refund,
                "settlement_refund": refund.refund,
                "settlement_total": refund.total,
                "discount_refund": 0,
                "currency": "CNY",
                "refund_fee": 0,
            },
            "promotion_detail": [],
        }
        if refund.success_time is not None:
            view["success_time"] = rfc3339(refund.success_time)
        return view

    def refund_notice(self, refund: Refund) -> dict[str, Any]:
        """What a refund notification carries (decrypted)."""
        notice: dict[str, Any] = {
            "mchid": self.keys.mchid,
            "out_trade_no": refund.out_trade_no,
            "transaction_id": refund.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_status": refund.status,
            "user_received_account": RECEIVED_ACCOUNT,
            "amount": {
                "total": refund.total,
                "refund": refund.refund,
                "payer_total": refund.total,
                "payer_refund": refund.refund,
            },
        }
        if refund.success_time is not None:
            notice["success_time"] = rfc3339(refund.success_time)
        return notice

    def snapshot(self) -> dict[str, Any]:
        """Everything, for GET /pay/state."""
        return {
            "merchant": {
                "mchid": self.keys.mchid,
                "cert_serial_no": self.keys.cert_serial_no,
                "public_key_id": self.keys.public_key_id,
            },
            "transactions": {
                no: {
                    **self.transaction_view(tx),
                    "description": tx.description,
                    "notify_url": tx.notify_url,
                    "prepay_ids": [p.prepay_id for p in tx.prepays],
                    "time_expire": rfc3339(tx.time_expire) if tx.time_expire else None,
                    "refunds": list(tx.refunds),
                }
                for no, tx in self.transactions.items()
            },
            "refunds": {no: {**self.refund_view(r), "reason": r.reason} for no, r in self.refunds.items()},
            "notifications": [_notification_view(n) for n in self.notifications.values()],
            "refund_outcomes": list(self.refund_outcomes),
            "shipping": {
                transaction_id: [_upload_view(u) for u in uploads]
                for transaction_id, uploads in self.shipping.items()
            },
        }


def _notification_view(notice: Notification) -> dict[str, Any]:
    return {
        "id": notice.id,
        "event_type": notice.event_type,
        ("out_trade_no" if notice.subject == "transaction" else "out_refund_no"): notice.key,
        "url": notice.url,
        "created_at": rfc3339(notice.created_at),
        "delivered": notice.delivered,
        "retrying": notice.retrying,
        "gave_up": notice.gave_up,
        "attempts": [
            {"at": rfc3339(a.at), "server": a.server, "status": a.status, "error": a.error}
            for a in notice.attempts
        ],
    }


def _upload_view(upload: ShippingUpload) -> dict[str, Any]:
    return {
        "at": rfc3339(upload.at),
        "logistics_type": upload.logistics_type,
        "delivery_mode": upload.delivery_mode,
        "is_all_delivered": upload.is_all_delivered,
        "shipping_list": upload.shipping_list,
        "upload_time": upload.upload_time,
        "reupload": upload.reupload,
    }
