"""One typed Settings object, read once from the environment and passed down."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import secrets
import zlib
from collections import Counter
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WeChatMode(StrEnum):
    SIMULATOR = "simulator"  # the built-in stand-in for WeChat, mounted under /_sim
    LIVE = "live"  # the real WeChat servers; needs real credentials


# Fixed credentials of the simulator: only meaningful to our own stand-in.
SIMULATOR_MINIAPP_APPID = "wxsim0miniapp0001"
SIMULATOR_MINIAPP_SECRET = "sim-miniapp-secret-0000000000001"
SIMULATOR_MP_APPID = "wxsim0official001"
SIMULATOR_MP_SECRET = "sim-official-secret-000000000001"
SIMULATOR_MP_TOKEN = "simofficialtoken0001"
SIMULATOR_MP_AES_KEY = "c2ltdWxhdG9yLW9mZmljaWFsLWFjY291bnQtYWVzazE"  # 43 characters, as WeChat's

LIVE_API_BASE = "https://api.weixin.qq.com"
LIVE_PAY_API_BASE = "https://api.mch.weixin.qq.com"


class ConfigurationError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    shop_data_dir: Path = Field(default=Path("var"))
    database_url: str = ""  # empty: a SQLite file in the data folder
    # The most MySQL connections one process keeps (its pool's maxsize): each `shop serve`
    # worker and each `shop scheduler` has its own pool, so workers x this (plus the
    # schedulers') must stay under the server's max_connections. Ignored on SQLite.
    database_pool_max: int = Field(default=20, ge=1, le=1000)
    redis_url: str = ""  # empty: the embedded stand-in (fakeredis with Lua)
    # The most Redis connections one process opens. A request that finds them all busy waits
    # for one (up to the timeout) rather than failing: a burst of shoppers queues, never 500s.
    redis_pool_max: int = Field(default=100, ge=1, le=10_000)
    redis_pool_timeout_seconds: float = Field(default=10, gt=0, le=120)
    public_base_url: str = "http://127.0.0.1:8080"
    wechat_mode: WeChatMode = WeChatMode.SIMULATOR
    secret_key: str = ""  # empty in simulator mode: generated once into the data folder

    wechat_miniapp_appid: str = ""
    wechat_miniapp_secret: str = ""
    wechat_mp_appid: str = ""
    wechat_mp_secret: str = ""
    wechat_mp_token: str = ""
    # The EncodingAESKey (safe mode). Unset: the simulator's in simulator mode; set empty:
    # none, the webhook then takes plaintext pushes (WeChat's 明文模式) and only those.
    wechat_mp_aes_key: str | None = None
    wechat_pay_mchid: str = ""
    wechat_pay_apiv3_key: str = ""
    wechat_pay_cert_serial_no: str = ""
    wechat_pay_private_key_path: str = ""
    wechat_pay_public_key_id: str = ""
    wechat_pay_public_key_path: str = ""
    # Where our WeChat clients send requests; empty: WeChat itself, or the simulator.
    wechat_api_base: str = ""
    wechat_pay_api_base: str = ""  # the same for WeChat Pay; empty: WeChat Pay, or the simulator

    # Mini-program subscribe messages (订阅消息): where the official account cannot reach a
    # shopper (not a follower, or WeChat's 48-hour window closed), a notice goes as a one-time
    # subscribe message the shopper accepted in the mini-program. Each is a template id added
    # in the mini-program's console, then its keywords' keys in the order of our values (see
    # commerce/users/notice_templates.py). Unset: the simulator's templates in simulator mode;
    # empty: no such fallback.
    wechat_subscribe_group_result: str | None = None
    wechat_subscribe_group_result_keys: str = "thing1,phrase2,thing3"
    wechat_subscribe_pickup_ready: str | None = None
    wechat_subscribe_pickup_ready_keys: str = "thing1,character_string2,thing3"
    wechat_subscribe_review_result: str | None = None  # leader and KOL applications
    wechat_subscribe_review_result_keys: str = "thing1,phrase2,thing3"
    # What subscribe messages open: the released mini-program ("formal"), "trial" or "developer".
    wechat_subscribe_state: Literal["formal", "trial", "developer"] = "formal"

    session_ttl_seconds: int = 7 * 24 * 3600
    # How often a process asks the database whether the catalog changed (its search index
    # then catches up); 0 asks on every search.
    search_refresh_seconds: float = 0.5
    # An unpaid order is cancelled, and its stock released, this long after it was placed.
    order_payment_minutes: int = 30
    # A shipped order completes by itself this long after shipment unless the shopper confirms.
    order_auto_complete_days: int = 10
    # 拼团: an unpaid join holds its seat this long, then the seat goes back to the group.
    group_seat_hold_minutes: int = Field(default=5, ge=1)
    # Reconciliation with WeChat Pay's bills: the daily job runs yesterday's from this hour
    # (Asia/Shanghai); WeChat Pay makes a day's bills after 10:00 the next day.
    reconciliation_hour: int = Field(default=10, ge=0, le=23)
    # After-sales: a request waiting for the merchant is approved by itself this long after it
    # was made; a completed order takes requests this long after it completed.
    aftersales_review_hours: int = Field(default=48, ge=1)
    aftersales_window_days: int = Field(default=7, ge=0)
    # Merchants' settlement statements cover a period: "daily" (an Asia/Shanghai calendar day)
    # or "weekly" (Monday to Sunday); an order is settled once its after-sales window passed.
    settlement_period: Literal["daily", "weekly"] = "weekly"
    # The books: the platform's commission on a sale where its category (or an ancestor) has
    # no rate of its own, and WeChat Pay's fee charged to the merchant, in basis points of what
    # was paid (500 = 5%, 60 = 0.6%); stamped on the order when it is paid.
    commission_default_bps: int = Field(default=500, ge=0, le=10000)
    payment_fee_bps: int = Field(default=60, ge=0, le=10000)
    # Community sales (社区团购): a sale's default cut-off hour (Asia/Shanghai, on its day; a
    # sale may set its own), and the days an arrived order may wait at its point before it is
    # flagged to its leader and the platform as unclaimed.
    community_cutoff_hour: int = Field(default=23, ge=0, le=23)
    community_unclaimed_days: int = Field(default=3, ge=1)
    # Community leaders' commission where neither the product nor its category (or an
    # ancestor) has a rate of its own, in basis points of the line's payable (1000 = 10%).
    leader_commission_default_bps: int = Field(default=1000, ge=0, le=10000)
    # KOL referral (推广): an order goes to the KOL of the shopper's last touch within the
    # window, unless the KOL who first brought them still protects them (the protection period
    # from that first touch takes precedence while it lasts; 0 turns protection off). Two
    # levels pay the KOL who recruited the order's KOL too (never more than two: deeper chains
    # are pyramid selling under Chinese law). New KOLs join this tier unless the reviewer picks.
    referral_window_days: int = Field(default=7, ge=1, le=90)
    referral_protection_days: int = Field(default=30, ge=0, le=365)
    referral_two_levels: bool = False
    # Touches are buffered in Redis and written by the scheduler every 2 seconds (and at
    # shutdown), this many per transaction.
    referral_flush_batch: int = Field(default=5000, ge=1, le=50_000)
    kol_default_tier: str = "标准"
    kol_default_rate_bps: int = Field(default=500, ge=0, le=10000)
    # Fraud signals: a KOL is flagged (their pending earnings held for review) when one of
    # these is reached among their referred customers, counted over the last 30 days.
    fraud_self_referrals: int = Field(default=3, ge=1)  # self-referral attempts
    fraud_accounts_per_address: int = Field(default=3, ge=2)  # referred accounts on one address
    fraud_accounts_per_phone_prefix: int = Field(default=5, ge=2)  # … sharing a 7-digit prefix
    fraud_accounts_per_device: int = Field(default=3, ge=2)  # … touching from one device
    fraud_refund_rate_bps: int = Field(default=5000, ge=1, le=10000)  # refunded / paid orders
    fraud_refund_min_orders: int = Field(default=5, ge=1)  # the rate counts from this many
    fraud_touches_per_ip_minute: int = Field(default=120, ge=1)  # a burst from one address
    # Against stock hoarding (an unpaid order holds its stock until paid or cancelled): the
    # unpaid orders one shopper may hold, the units of one SKU they may hold unpaid, and the
    # orders they may place per window (counted in Redis, so across processes).
    order_max_unpaid_per_shopper: int = Field(default=5, ge=1)
    order_max_unpaid_quantity_per_sku: int = Field(default=10, ge=1)
    order_rate_limit: int = Field(default=10, ge=1)
    order_rate_window_seconds: int = Field(default=60, ge=1)
    # The most one order may cost (fen); dearer ones are refused before anything is reserved.
    # Default ¥10,000,000: the most WeChat Pay's order API takes in one payment (amount.total).
    order_max_payable_fen: int = Field(default=1_000_000_000, ge=1)
    # `shop serve` runs the scheduled jobs itself; with `shop scheduler` processes, set false.
    scheduler_in_process: bool = True
    # On SIGTERM a worker stops accepting, then gives in-flight requests (and the outbox
    # deliveries they make) this long to finish before it closes its connections and exits.
    shutdown_grace_seconds: float = Field(default=20, gt=0, le=600)
    log_level: str = "INFO"
    # text: one readable line per record; json: one JSON object per line, for log shippers.
    log_format: Literal["text", "json"] = "text"
    # /metrics: only from these addresses or networks (comma-separated; behind a reverse proxy
    # the client's address as TRUSTED_PROXIES reveal it), and with `Authorization: Bearer
    # <METRICS_TOKEN>` when a token is set. The default lets only this machine scrape.
    metrics_allow: str = "127.0.0.1/32,::1/128"
    metrics_token: str = ""
    # Product images: stored in the data folder (served at /media/) unless an S3-compatible
    # bucket is named; media_public_base is the address shoppers load them from.
    media_s3_endpoint: str = ""  # e.g. https://cos.ap-shanghai.myqcloud.com; empty: local files
    media_s3_bucket: str = ""
    media_s3_access_key: str = ""
    media_s3_secret_key: str = ""
    media_s3_region: str = "us-east-1"
    media_public_base: str = ""  # empty: {public_base_url}/media
    media_max_bytes: int = 5 * 1024 * 1024
    # The most a customer-service agent may refund on one order without a merchant or the
    # platform (fen).
    agent_refund_limit_fen: int = 50_000
    # The platform's shipping fee for an order of a merchant without a template of its own
    # (fen): a flat fee, free when the goods come to at least the free-from amount (0: never
    # free). The bot's "满 99 元包邮" says this amount.
    shipping_default_fee_fen: int = Field(default=1000, ge=0, le=99_999)
    shipping_default_free_from_fen: int = Field(default=9900, ge=0, le=9_999_999)
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated); empty:
    # the peer address is the client's.
    trusted_proxies: str = ""
    # Payouts to WeChat balance (commerce.payouts): the smallest withdrawal, the most one payee
    # may withdraw per Asia/Shanghai day, the most approved without a person, the amount from
    # which WeChat Pay needs the payee's real name (2,000 yuan), and how long the payee has to
    # confirm the transfer (WeChat Pay closes it after 24 hours), all in fen and hours; the
    # transfer scene (转账场景) the merchant platform granted: 1005 佣金报酬.
    payout_min_fen: int = Field(default=100, ge=10)
    payout_daily_cap_fen: int = Field(default=500_000, ge=1)
    payout_auto_approve_max_fen: int = Field(default=10_000, ge=0)
    payout_real_name_from_fen: int = Field(default=200_000, ge=1, le=200_000)
    payout_confirm_hours: int = Field(default=24, ge=1, le=24)
    payout_transfer_scene_id: str = "1005"

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _live_mode_needs_credentials(self) -> Settings:
        if self.wechat_mode is WeChatMode.LIVE:
            required = {
                "SECRET_KEY": self.secret_key,
                "WECHAT_MINIAPP_APPID": self.wechat_miniapp_appid,
                "WECHAT_MINIAPP_SECRET": self.wechat_miniapp_secret,
                "WECHAT_PAY_MCHID": self.wechat_pay_mchid,
                "WECHAT_PAY_APIV3_KEY": self.wechat_pay_apiv3_key,
                "WECHAT_PAY_CERT_SERIAL_NO": self.wechat_pay_cert_serial_no,
                "WECHAT_PAY_PRIVATE_KEY_PATH": self.wechat_pay_private_key_path,
                "WECHAT_PAY_PUBLIC_KEY_ID": self.wechat_pay_public_key_id,
                "WECHAT_PAY_PUBLIC_KEY_PATH": self.wechat_pay_public_key_path,
            }
            missing = [name for name, value in required.items() if not value]
            if missing:
                raise ConfigurationError("WECHAT_MODE=live needs real credentials; set " + ", ".join(missing))
            problems = _live_mode_problems(self)
            if problems:
                raise ConfigurationError("WECHAT_MODE=live refuses unsafe settings: " + "; ".join(problems))
        return self

    @property
    def simulator(self) -> bool:
        return self.wechat_mode is WeChatMode.SIMULATOR

    @cached_property
    def data_dir(self) -> Path:
        """The data folder, readable by this user alone (it holds keys and the database)."""
        self.shop_data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.shop_data_dir.chmod(0o700)  # one made before (or by another tool) is tightened too
        return self.shop_data_dir

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        database = self.data_dir / "shop.sqlite3"
        # Made here, mode 600, before SQLite would create it readable by everyone (its
        # journal and WAL files take the database file's mode).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return f"sqlite://{database.as_posix()}"

    @property
    def resolved_api_base(self) -> str:
        if self.wechat_api_base:
            return self.wechat_api_base.rstrip("/")
        if self.simulator:
            return f"{self.public_base_url.rstrip('/')}/_sim"
        return LIVE_API_BASE

    @property
    def resolved_pay_api_base(self) -> str:
        if self.wechat_pay_api_base:
            return self.wechat_pay_api_base.rstrip("/")
        if self.simulator:
            return self.resolved_api_base  # the simulator serves WeChat Pay's paths too
        return LIVE_PAY_API_BASE

    @property
    def miniapp_appid(self) -> str:
        return self.wechat_miniapp_appid or (SIMULATOR_MINIAPP_APPID if self.simulator else "")

    @property
    def miniapp_secret(self) -> str:
        return self.wechat_miniapp_secret or (SIMULATOR_MINIAPP_SECRET if self.simulator else "")

    @property
    def mp_appid(self) -> str:
        return self.wechat_mp_appid or (SIMULATOR_MP_APPID if self.simulator else "")

    @property
    def mp_secret(self) -> str:
        return self.wechat_mp_secret or (SIMULATOR_MP_SECRET if self.simulator else "")

    @property
    def mp_token(self) -> str:
        return self.wechat_mp_token or (SIMULATOR_MP_TOKEN if self.simulator else "")

    @property
    def mp_aes_key(self) -> str:
        if self.wechat_mp_aes_key is not None:
            return self.wechat_mp_aes_key
        return SIMULATOR_MP_AES_KEY if self.simulator else ""

    @property
    def mp_webhook_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}/wechat/mp"

    @cached_property
    def signing_key(self) -> str:
        """SECRET_KEY, or in simulator mode one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            write_secret_file(key_file, secrets.token_urlsafe(48).encode())
        return key_file.read_text().strip()


MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_BITS = 100  # by the key's own character statistics; 32 random hex digits give ~110


def _live_mode_problems(settings: Settings) -> list[str]:
    """What makes these live settings unsafe, each naming its setting."""
    problems = []
    key = settings.secret_key
    if len(key) < MIN_SECRET_KEY_LENGTH or _estimated_bits(key) < MIN_SECRET_KEY_BITS or _compresses(key):
        problems.append(
            f"SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if len(settings.wechat_pay_apiv3_key.encode()) != 32:
        problems.append("WECHAT_PAY_APIV3_KEY must be exactly 32 bytes (the APIv3 key set on WeChat Pay)")
    if not settings.redis_url:
        problems.append("REDIS_URL must name a Redis server (sessions, throttles and locks are shared there)")
    if not settings.public_base_url.lower().startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be an https:// address (WeChat calls back over HTTPS only)")
    return problems


def _estimated_bits(value: str) -> float:
    """Shannon entropy of the value's characters times its length: low for a key of few
    distinct or unevenly used characters (a word, 32 identical characters)."""
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


def _compresses(value: str) -> bool:
    """Whether the value shrinks much under compression: a block or word written again and
    again ("abc123abc123...", "passwordpassword..."). Random keys, even hex, keep >80%."""
    raw = value.encode()
    return len(zlib.compress(raw, 9)) - 6 < 0.7 * len(raw)  # 6: zlib's header and checksum


def write_secret_file(path: Path, data: bytes) -> bool:
    """Create a file readable by this user alone from its first byte (mode 600 at creation,
    never loosened and tightened afterwards), unless it exists; whether this call made it.
    Written beside it first and linked into place, so a parallel reader never sees it half
    written."""
    temporary = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails if another process made it first: theirs stands
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; overrides win (tests and CLI flags use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
