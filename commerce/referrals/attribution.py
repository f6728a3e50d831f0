"""Which KOL an order is attributed to, by the rule in the settings (shown to KOLs in words):

1. The KOL who first brought the customer, while their protection period lasts.
2. Otherwise the customer's last touch, if it is within the attribution window.
3. Never a KOL on their own order (no attribution at all: a self-referral is refused).
4. With two levels on, the KOL who recruited that KOL earns the second level (never more).

The checkout resolves it once (the `ReferralStep` pricing step, over the checkout's context) and
declares it as a claim of kind "referral" on each merchant's order; committing the order
stamps it on the order and its lines (ReferralAttribution, ReferralAttributionLine) in the
order's transaction. At payment it is frozen: later touches never change it. An order
cancelled unpaid voids it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from commerce import clock
from commerce.config import Settings
from commerce.db import execute, fetch_rows, insert, insert_many, model_row
from commerce.pricing.pipeline import Claim, OrderDraft, PricingContext
from commerce.referrals import buffer
from commerce.referrals.models import Kol, ReferralAttribution, ReferralAttributionLine, ReferralCustomer
from commerce.referrals.states import AttributionRule, AttributionStatus, KolStatus, TouchChannel

KIND = "referral"


@dataclass(frozen=True)
class Rules:
    window_days: int
    protection_days: int
    two_levels: bool

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            settings.referral_window_days, settings.referral_protection_days, settings.referral_two_levels
        )

    def in_words(self) -> list[str]:
        """The rules as a KOL reads them (zh-CN)."""
        words = []
        if self.protection_days:
            words.append(
                f"新客户首次通过您的推广进入后 {self.protection_days} 天内为您的保护期客户，"
                "期间的订单归属于您，其他推广员的链接不会抢走。"
            )
        words.append(f"保护期外，订单归属于客户下单前 {self.window_days} 天内最后一次点击的推广员。")
        words.append("订单在付款时锁定归属，付款后的点击不影响已付款订单。")
        words.append("您本人的订单不计佣金。")
        if self.two_levels:
            words.append("由您邀请成为推广员的人带来的订单，您可获得二级佣金（仅限两级）。")
        return words


@dataclass(frozen=True)
class Attributed:
    kol_id: int
    parent_kol_id: int | None
    rule: AttributionRule
    channel: TouchChannel
    touched_at: datetime


async def resolve(*, user_id: int, now: datetime, rules: Rules) -> Attributed | None:
    """The attribution an order placed now by this shopper takes; None when no KOL earns.
    Touches still in the Redis buffer count too (a checkout right after a touch): the latest
    buffered touch, when newer than the row's, is the last touch; a shopper without a row yet
    is protected by their earliest buffered touch, as the flush will write it."""
    customer = await ReferralCustomer.get_or_none(user_id=user_id)
    pending = await buffer.pending_of(user_id)
    if customer is None and pending is None:
        return None
    if customer is not None:
        first = (customer.first_kol_id, customer.first_channel, customer.first_at)
        protected_until = customer.protected_until
        last = (customer.last_kol_id, customer.last_channel, customer.last_at)
        if pending is not None and pending[1].at > customer.last_at:
            last = (pending[1].kol_id, pending[1].channel, pending[1].at)
    else:
        assert pending is not None
        first = (pending[0].kol_id, pending[0].channel, pending[0].at)
        protected_until = pending[0].at + timedelta(days=rules.protection_days)
        last = (pending[1].kol_id, pending[1].channel, pending[1].at)
    if protected_until > now and first[2] <= now:
        candidate = (first[0], AttributionRule.PROTECTED, first[1], first[2])
    elif last[2] > now - timedelta(days=rules.window_days):
        candidate = (last[0], AttributionRule.LAST_TOUCH, last[1], last[2])
    else:
        return None
    kol_id, rule, channel, at = candidate
    kol = await Kol.get_or_none(id=kol_id, status=KolStatus.APPROVED)
    if kol is None or kol.user_id == user_id:
        return None
    parent = None
    if rules.two_levels and kol.parent_kol_id is not None:
        up = await Kol.get_or_none(id=kol.parent_kol_id, status=KolStatus.APPROVED)
        parent = up.id if up is not None and up.user_id != user_id else None
    return Attributed(kol.id, parent, rule, TouchChannel(channel), at)


@dataclass
class ReferralStep:
    """The last pricing step: it changes no price; it declares the checkout's attribution as a
    claim on each order (resolved once per checkout)."""

    rules: Rules
    _resolved: tuple[Attributed | None] | None = None

    async def apply(self, context: PricingContext, draft: OrderDraft) -> None:
        if not draft.lines:
            return
        if self._resolved is None:
            self._resolved = (await resolve(user_id=context.user_id, now=context.now, rules=self.rules),)
        (found,) = self._resolved
        if found is not None:
            draft.claims.append(
                Claim(
                    KIND,
                    str(found.kol_id),
                    1,
                    {
                        "user_id": context.user_id,
                        "parent_kol_id": found.parent_kol_id,
                        "rule": found.rule.value,
                        "channel": found.channel.value,
                        "touched_at": found.touched_at.isoformat(),
                    },
                )
            )


# --- the claim kind (registered in commerce.orders.claims) -------------------------------


async def take(conn, claims: Sequence[Claim]) -> bool:
    """Nothing to take: an attribution is no scarce thing."""
    return True


async def release(conn, claims: Sequence[Claim]) -> None:
    """Nothing was taken (the order's void attribution is written by `recorded`'s twin below)."""


def on_refund(claim, refunded) -> int:
    return 0  # a refund reverses commission in proportion; the attribution stands


async def recorded(conn, taken: Sequence[tuple[int, Claim]]) -> None:
    """Stamp each order and its lines with its attribution, in the checkout's transaction."""
    now = clock.now()
    for order_id, claim in taken:
        attribution_id = await insert(
            "referral_attribution",
            model_row(
                ReferralAttribution,
                {
                    "order_id": order_id,
                    "user_id": claim.data["user_id"],
                    "kol_id": int(claim.ref),
                    "parent_kol_id": claim.data.get("parent_kol_id"),
                    "rule": claim.data["rule"],
                    "channel": claim.data["channel"],
                    "touched_at": datetime.fromisoformat(claim.data["touched_at"]),
                    "status": AttributionStatus.PLACED,
                    "placed_at": now,
                    "frozen_at": None,
                },
            ),
            connection=conn,
        )
        lines = await fetch_rows(
            "SELECT `id` FROM `order_line` WHERE `order_id` = ? ORDER BY `id`", [order_id], connection=conn
        )
        await insert_many(
            "referral_attribution_line",
            [
                model_row(
                    ReferralAttributionLine,
                    {
                        "attribution_id": attribution_id,
                        "order_line_id": line["id"],
                        "kol_id": int(claim.ref),
                        "parent_kol_id": claim.data.get("parent_kol_id"),
                    },
                )
                for line in lines
            ],
            connection=conn,
        )


async def void_unpaid(conn, *, order_id: int) -> int:
    """An order cancelled before payment: its attribution is void (a conditional update)."""
    return await execute(
        "UPDATE `referral_attribution` SET `status` = ? WHERE `order_id` = ? AND `status` = ?",
        [AttributionStatus.VOID.value, order_id, AttributionStatus.PLACED.value],
        connection=conn,
    )
