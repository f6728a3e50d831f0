"""What WeChat's servers remember: codes, tokens, who they belong to, and what was asked (and,
in `pay`, WeChat Pay's transactions, refunds and notifications; in `mp`, the official accounts'
followers, menus and QR codes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from wechat_simulator.config import SimulatorConfig
from wechat_simulator.mp_state import MpState
from wechat_simulator.pay_state import PayState

CODE_TTL = timedelta(minutes=5)  # login and phone codes
TOKEN_TTL = timedelta(seconds=7200)
EARLY_RENEWAL = timedelta(minutes=5)  # normal-mode stable_token renews this long before expiry
OLD_CLASSIC_GRACE = timedelta(minutes=5)  # a replaced classic token keeps working this long
FORCE_REFRESH_GAP = timedelta(seconds=30)  # closer forced refreshes do not refresh
FORCE_REFRESHES_PER_DAY = 20
BEIJING = timedelta(hours=8)  # WeChat's quotas are per Beijing day
_PRUNE_ABOVE = 10_000
_KNOWN_USERS = 100_000


@dataclass
class Grant:
    """A single-use code handed to a mini-program (login, or phone number when phone is set)."""

    appid: str
    user: str
    expires_at: datetime
    phone: str = ""
    used: bool = False


@dataclass
class Token:
    value: str
    appid: str
    kind: str  # "stable" or "classic": the two kinds are independent of each other
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass
class AppTokens:
    stable: Token | None = None
    classic: Token | None = None
    issued: int = 0  # stable tokens ever issued: tests assert "refreshed once"
    classic_issued: int = 0
    forced: int = 0
    last_forced_at: datetime | None = None
    forced_day: date | None = None
    forced_that_day: int = 0


@dataclass
class Fault:
    """A failure a test asked for: WeChat's errcode, or an HTTP status from its gateway; for
    WeChat Pay, an HTTP status with one of its error codes (429 FREQUENCY_LIMITED), signed."""

    errcode: int | None = None
    http_status: int | None = None
    code: str | None = None


@dataclass
class SubscribeMessage:
    """A subscribe message (订阅消息) WeChat delivered to a mini-program user."""

    msgid: int
    appid: str
    touser: str
    template_id: str
    page: str
    data: dict[str, str]  # keyword key -> value
    miniprogram_state: str
    at: datetime


@dataclass
class Subscriptions:
    """One-time subscriptions: each acceptance lets the app send that user one message of that
    template; and the messages sent."""

    accepted: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (appid, openid, template)
    messages: list[SubscribeMessage] = field(default_factory=list)
    sent: int = 0  # every message ever sent: the next msgid

    def record(self, message: SubscribeMessage) -> None:
        if len(self.messages) >= _PRUNE_ABOVE:
            del self.messages[: _PRUNE_ABOVE // 2]  # the oldest are forgotten
        self.messages.append(message)


@dataclass
class SimulatorState:
    config: SimulatorConfig
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # value -> token, every one issued
    apps: dict[str, AppTokens] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)  # API name -> calls received
    wxacodes: list[dict] = field(default_factory=list)  # mini-program codes issued: appid, scene, page
    faults: dict[str, list[Fault]] = field(default_factory=dict)  # API name -> failures to come
    identity_salt: bytes = b"wechat-simulator"
    pay: PayState = field(default_factory=PayState)  # WeChat Pay: transactions, refunds, shipping
    mp: MpState = field(default_factory=MpState)  # official accounts: followers, menus, QR codes
    openid_users: dict[str, str] = field(default_factory=dict)  # every openid handed out -> its user
    subscribe: Subscriptions = field(default_factory=Subscriptions)  # subscribe messages (订阅消息)

    def now(self) -> datetime:
        return self.config.now() if self.config.now is not None else datetime.now(UTC)

    def openid(self, appid: str, user: str) -> str:
        """Stable per (app, user), shaped like WeChat's: 28 characters starting with "o"."""
        openid = "o" + _digest(self.identity_salt, f"openid:{appid}:{user}")[:27]
        if len(self.openid_users) < _KNOWN_USERS:
            self.openid_users[openid] = user  # who paid, when WeChat Pay names the payer's openid
        return openid

    def unionid(self, user: str) -> str:
        """Stable per user across every app of the same open-platform account."""
        return "o" + _digest(self.identity_salt, f"unionid:{user}")[:27]

    def app(self, appid: str) -> AppTokens:
        return self.apps.setdefault(appid, AppTokens())

    def issue_grant(self, appid: str, user: str, phone: str = "") -> str:
        if len(self.grants) > _PRUNE_ABOVE:
            self._prune()
        code = secrets.token_hex(16)
        self.grants[code] = Grant(appid=appid, user=user, expires_at=self.now() + CODE_TTL, phone=phone)
        return code

    def issue_token(self, appid: str, kind: str = "stable") -> Token:
        now = self.now()
        token = Token(secrets.token_urlsafe(96), appid, kind, now, now + TOKEN_TTL)
        if len(self.tokens) > _PRUNE_ABOVE:
            self._prune()
        self.tokens[token.value] = token
        app = self.app(appid)
        if kind == "stable":
            app.stable = token
            app.issued += 1
        else:
            if app.classic is not None:
                app.classic.expires_at = min(app.classic.expires_at, now + OLD_CLASSIC_GRACE)
            app.classic = token
            app.classic_issued += 1
        return token

    def take_fault(self, api: str) -> Fault | None:
        pending = self.faults.get(api)
        if not pending:
            return None
        fault = pending.pop(0)
        if not pending:
            del self.faults[api]
        return fault

    def _prune(self) -> None:
        """Forget what has expired: an expired code or token is refused as unknown anyway."""
        now = self.now()
        self.grants = {code: g for code, g in self.grants.items() if g.expires_at > now}
        self.tokens = {value: t for value, t in self.tokens.items() if t.expires_at > now and not t.revoked}


def beijing_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) + BEIJING).date()


def _digest(salt: bytes, text: str) -> str:
    raw = hmac.new(salt, text.encode(), hashlib.sha256).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[b % 64] for b in raw)
