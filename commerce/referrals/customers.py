"""What the touches say about one customer (ReferralCustomer): the KOL who first brought them,
protecting them for the protection period, and their last touch. `touched` is the one place
that moves it, for one touch or for a flush of many; a KOL's own touches never bind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce.db import execute, fetch_rows, insert
from commerce.referrals.states import TouchChannel


@dataclass(frozen=True)
class CustomerTouch:
    user_id: int
    kol_id: int
    channel: TouchChannel
    at: datetime


async def touched(conn: Any, touch: CustomerTouch, *, protection_days: int) -> bool:
    """Record a signed-in shopper's touch on their customer row (in the caller's transaction):
    the first touch makes the row (and the KOL their protector for protection_days); a later
    one moves the last touch forward only (a touch flushed late never rewinds it). True when
    this touch made the shopper a new customer of the KOL."""
    moved = await execute(
        "UPDATE `referral_customer` SET `last_kol_id` = ?, `last_channel` = ?, `last_at` = ?"
        " WHERE `user_id` = ? AND `last_at` <= ?",
        [touch.kol_id, touch.channel.value, touch.at, touch.user_id, touch.at],
        connection=conn,
    )
    if moved:
        return False
    if await fetch_rows(
        "SELECT 1 AS `one` FROM `referral_customer` WHERE `user_id` = ?", [touch.user_id], connection=conn
    ):
        return False  # known, with a later touch already
    try:
        await _first(conn, touch, protection_days)
    except IntegrityError:  # their first touch arrived at the same moment elsewhere: a later one
        await execute(
            "UPDATE `referral_customer` SET `last_kol_id` = ?, `last_channel` = ?, `last_at` = ?"
            " WHERE `user_id` = ? AND `last_at` <= ?",
            [touch.kol_id, touch.channel.value, touch.at, touch.user_id, touch.at],
            connection=conn,
        )
        return False
    return True


async def _first(conn: Any, touch: CustomerTouch, protection_days: int) -> None:
    await insert(
        "referral_customer",
        {
            "user_id": touch.user_id,
            "first_kol_id": touch.kol_id,
            "first_channel": touch.channel.value,
            "first_at": touch.at,
            "protected_until": touch.at + timedelta(days=protection_days),
            "last_kol_id": touch.kol_id,
            "last_channel": touch.channel.value,
            "last_at": touch.at,
        },
        connection=conn,
    )
