from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PUSH_MODES = ("safe", "compatible", "plain")
# A subscribe-message template's keyword keys: the kind of value (thing, phrase, ...) and a number.
SUBSCRIBE_KEY = re.compile(
    r"^(thing|number|letter|symbol|character_string|time|date|amount|phone_number|car_number|name"
    r"|phrase|enum)([1-9][0-9]*)$"
)


@dataclass(frozen=True)
class OfficialAccount:
    """An official account's server configuration, as its owner entered it in WeChat's console."""

    appid: str  # must also be in SimulatorConfig.apps (with its secret)
    token: str  # signs every message WeChat pushes to the webhook
    aes_key: str  # the 43-character EncodingAESKey of safe mode
    webhook_url: str  # where WeChat pushes followers' messages and events
    # How WeChat sends pushes, as chosen in its console: "safe" encrypted (安全模式), "compatible"
    # the plaintext elements and the encrypted one side by side (兼容模式), "plain" (明文模式).
    mode: str = "safe"

    def __post_init__(self) -> None:
        if self.mode not in PUSH_MODES:
            raise ValueError(f"mode must be one of {', '.join(PUSH_MODES)}")


@dataclass(frozen=True)
class SimulatorConfig:
    apps: dict[str, str]  # appid -> secret, as registered with WeChat
    data_dir: Path  # where the simulator keeps files: WeChat Pay's keys under data_dir / "pay"
    # The simulator's clock: tests pass a callable they move; None is the real UTC time.
    now: Callable[[], datetime] | None = None
    # Official accounts whose followers the simulator plays (the chat page, /mp control).
    official_accounts: tuple[OfficialAccount, ...] = ()
    # WeChat Pay. The merchant's side of the keys (apiclient_key.pem, pub_key.pem, merchant.json)
    # is written here; None is data_dir / "merchant".
    pay_merchant_dir: Path | None = None
    refund_delay_seconds: float = 0.2  # a refund stays PROCESSING this long, then ends
    notify_retry_scale: float = 1.0  # WeChat's retry schedule (15 s, 15 s, 30 s, 3 min, ...) times this
    duplicate_notify_rate: float = 0.0  # share of notifications sent twice, about a second apart
    notify_timeout_seconds: float = 5.0  # a callback not answered within this is a failure
    # Official accounts: WeChat waits this long for the webhook's answer to a push, then tries
    # again (three attempts in all), after mp_retry_delay_seconds more.
    mp_reply_timeout_seconds: float = 5.0
    mp_retry_delay_seconds: float = 0.0
    # The published mini-program's pages: a code for another page is refused when check_path.
    miniapp_pages: tuple[str, ...] = (
        "pages/index/index",
        "pages/product/index",
        "pages/order/index",
        "pages/group/index",
    )
    # Subscribe-message templates (订阅消息) the mini-program's owner added in WeChat's console:
    # template id -> its keyword keys, e.g. {"tmpl-group-result": ("thing1", "phrase2", "thing3")}.
    subscribe_templates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.duplicate_notify_rate <= 1.0:
            raise ValueError("duplicate_notify_rate must be within 0..1")
        if self.notify_retry_scale < 0 or self.refund_delay_seconds < 0 or self.notify_timeout_seconds <= 0:
            raise ValueError("delays must not be negative")
        if self.mp_reply_timeout_seconds <= 0 or self.mp_retry_delay_seconds < 0:
            raise ValueError("delays must not be negative")
        for account in self.official_accounts:
            if account.appid not in self.apps:
                raise ValueError(f"official account {account.appid} is not among the apps")
        for template_id, keys in self.subscribe_templates.items():
            if not template_id or not keys or len(set(keys)) != len(keys):
                raise ValueError(f"subscribe template {template_id!r} needs distinct keyword keys")
            for key in keys:
                if not SUBSCRIBE_KEY.match(key):
                    raise ValueError(f"subscribe template {template_id!r}: {key!r} is not a keyword key")

    @property
    def merchant_dir(self) -> Path:
        return self.pay_merchant_dir or self.data_dir / "merchant"

    @property
    def pay_appids(self) -> tuple[str, ...]:
        """The mini-programs the simulated merchant is bound to: every app registered."""
        return tuple(self.apps)
