"""What WeChat remembers of its official accounts: the followers, the windows in which an account
may write to a follower (客服消息), every message exchanged, the menu and the parametric QR codes.

WeChat's customer-service windows, per follower (the most generous open one is charged):
  the follower sends a message            5 messages within 48 hours of it
  a menu CLICK, subscribing, scanning     3 messages within 1 minute of it
  the follower pays (WeChat Pay)          any number within 48 hours
Each interaction opens its own kind afresh; unsubscribing closes them all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from wechat_simulator.config import OfficialAccount

if TYPE_CHECKING:
    from wechat_simulator.state import SimulatorState

# kind -> (how long it stays open, how many messages it allows; None: no limit)
WINDOWS: dict[str, tuple[timedelta, int | None]] = {
    "message": (timedelta(hours=48), 5),
    "event": (timedelta(minutes=1), 3),
    "payment": (timedelta(hours=48), None),
}
MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link")
WINDOW_EVENTS = ("subscribe", "SCAN", "CLICK")
KEPT_MESSAGES = 500  # per follower, the oldest are forgotten


def original_id(appid: str) -> str:
    """The account's original id (原始 ID), the ToUserName of every push: stable per appid."""
    return "gh_" + hashlib.sha256(f"original-id:{appid}".encode()).hexdigest()[:12]


@dataclass
class Window:
    kind: str
    opened_at: datetime
    expires_at: datetime
    limit: int | None
    used: int = 0

    def open(self, now: datetime) -> bool:
        return self.expires_at > now

    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "opened_at": self.opened_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining(),
        }


@dataclass
class Follower:
    appid: str
    openid: str
    user: str
    subscribed: bool | None = None  # None: nothing said yet (a follower from before, say)
    subscribed_at: datetime | None = None
    qr_scene: int | str | None = None  # the scene of the QR code subscribed through
    windows: dict[str, Window] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    custom_sent: int = 0

    def open_window(self, kind: str, now: datetime) -> None:
        lasts, limit = WINDOWS[kind]
        self.windows[kind] = Window(kind, now, now + lasts, limit)

    def open_windows(self, now: datetime) -> list[Window]:
        return [w for w in self.windows.values() if w.open(now)]

    def charge(self, now: datetime) -> int:
        """Spend one customer-service message: 0, or WeChat's refusal (45015 no window open,
        45047 open but used up). Charged to the most generous window: no limit first, then
        the most left, then the one open longest."""
        if self.subscribed is False:
            return 45015
        windows = self.open_windows(now)
        if not windows:
            return 45015
        usable = [w for w in windows if w.limit is None or w.used < w.limit]
        if not usable:
            return 45047
        best = max(usable, key=lambda w: (w.limit is None, w.remaining() or 0, w.expires_at))
        best.used += 1
        return 0

    def record(self, direction: str, now: datetime, msgtype: str, body: dict[str, Any]) -> None:
        """direction: "in" (from the follower), "reply" (the webhook's answer), "custom"."""
        self.messages.append(
            {"direction": direction, "at": now.isoformat(), "msgtype": msgtype, "body": body}
        )
        del self.messages[:-KEPT_MESSAGES]

    def view(self, now: datetime) -> dict[str, Any]:
        return {
            "user": self.user,
            "openid": self.openid,
            "subscribed": self.subscribed,
            "messages": len(self.messages),
            "custom_sent": self.custom_sent,
            "windows": [w.view() for w in self.open_windows(now)],
        }


@dataclass
class QrCode:
    ticket: str
    appid: str
    action_name: str
    scene: int | str
    url: str
    created_at: datetime
    expires_at: datetime | None  # None: permanent

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    def view(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "appid": self.appid,
            "action_name": self.action_name,
            "scene": self.scene,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


@dataclass
class MpState:
    followers: dict[tuple[str, str], Follower] = field(default_factory=dict)  # (appid, openid) ->
    menus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # appid -> buttons, as created
    qrcodes: dict[str, QrCode] = field(default_factory=dict)  # ticket -> QR code

    def follower(self, state: SimulatorState, appid: str, user: str) -> Follower:
        openid = state.openid(appid, user)
        found = self.followers.get((appid, openid))
        if found is None:
            found = self.followers[(appid, openid)] = Follower(appid, openid, user)
        return found

    def qrcode_for(self, appid: str, scene: str, now: datetime) -> QrCode | None:
        """The newest live QR code of the account with that scene (id or string)."""
        matching = [
            q for q in self.qrcodes.values() if q.appid == appid and str(q.scene) == scene and q.live(now)
        ]
        return max(matching, key=lambda q: q.created_at) if matching else None

    def snapshot(self, state: SimulatorState) -> dict[str, Any]:
        """Everything, for GET /mp/state."""
        now = state.now()
        return {
            "now": now.isoformat(),
            "accounts": {
                account.appid: {
                    "original_id": original_id(account.appid),
                    "webhook_url": account.webhook_url,
                    "mode": account.mode,
                    "menu": self.menus.get(account.appid),
                    "followers": {
                        f.openid: f.view(now) for f in self.followers.values() if f.appid == account.appid
                    },
                    "qrcodes": [q.view() for q in self.qrcodes.values() if q.appid == account.appid],
                    "custom_sent": sum(
                        f.custom_sent for f in self.followers.values() if f.appid == account.appid
                    ),
                }
                for account in state.config.official_accounts
            },
        }


def official_account(state: SimulatorState, appid: str) -> OfficialAccount | None:
    return next((a for a in state.config.official_accounts if a.appid == appid), None)


def record_payment(state: SimulatorState, payer_openid: str) -> None:
    """A WeChat Pay transaction was paid: the payer (known by the openid WeChat gave one of the
    apps) may now be written to by every official account for 48 hours, without limit."""
    user = state.openid_users.get(payer_openid)
    if user is None:
        return
    now = state.now()
    for account in state.config.official_accounts:
        state.mp.follower(state, account.appid, user).open_window("payment", now)
