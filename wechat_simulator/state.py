"""What WeChat's servers remember: codes, tokens, and who they belong to."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wechat_simulator.config import SimulatorConfig

LOGIN_CODE_TTL = timedelta(minutes=5)
TOKEN_TTL = timedelta(seconds=7200)
EARLY_RENEWAL = timedelta(minutes=5)  # normal-mode stable_token renews this long before expiry
FORCE_REFRESH_GAP = timedelta(seconds=30)


@dataclass
class Grant:
    """A single-use code handed to a mini-program (login or phone number)."""

    appid: str
    user: str
    expires_at: datetime
    phone: str = ""
    used: bool = False


@dataclass
class Token:
    value: str
    appid: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass
class AppTokens:
    stable: Token | None = None
    last_forced_at: datetime | None = None
    issued: int = 0  # how many tokens were ever issued: tests assert "refreshed once"


@dataclass
class SimulatorState:
    config: SimulatorConfig
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # value -> token, every one issued
    apps: dict[str, AppTokens] = field(default_factory=dict)
    identity_salt: bytes = b"wechat-simulator"

    def now(self) -> datetime:
        return self.config.now()

    def openid(self, appid: str, user: str) -> str:
        """Stable per (app, user), shaped like WeChat's: 28 characters starting with "o"."""
        return "o" + _digest(self.identity_salt, f"openid:{appid}:{user}")[:27]

    def unionid(self, user: str) -> str:
        """Stable per user across every app of the same open-platform account."""
        return "o" + _digest(self.identity_salt, f"unionid:{user}")[:27]

    def issue_grant(self, appid: str, user: str, phone: str = "") -> str:
        code = secrets.token_hex(16)
        self.grants[code] = Grant(appid=appid, user=user, expires_at=self.now() + LOGIN_CODE_TTL, phone=phone)
        return code

    def issue_token(self, appid: str) -> Token:
        now = self.now()
        token = Token(secrets.token_urlsafe(96), appid, now, now + TOKEN_TTL)
        self.tokens[token.value] = token
        app = self.apps.setdefault(appid, AppTokens())
        app.stable = token
        app.issued += 1
        return token


def _digest(salt: bytes, text: str) -> str:
    raw = hmac.new(salt, text.encode(), hashlib.sha256).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[b % 64] for b in raw)
