"""The funnels, read from the daily roll-ups only (ReferralDaily: one row per KOL, Asia/Shanghai
day and channel), so a KOL with a million touches costs a few hundred rows over a year:

- a KOL's funnel by day or by channel over a date range: touches → new followers → new
  customers (first brought by the KOL) → paid orders → paid GMV → commission (pending,
  earned, reversed), with totals and conversion rates;
- the platform's view of the same figures per KOL (paged, sorted by GMV or another figure) and
  per tier (the KOL's current tier), and its export as CSV or Excel.

The per-KOL query is served by the (kol_id, day, channel) unique index; the platform's by the
(day, kol_id) index (a range of days, grouped by KOL). Rates are basis points (int)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from commerce.catalog.catalog_file import guard_cell
from commerce.db import fetch_rows
from commerce.money import fen_to_yuan
from commerce.referrals.errors import KolError, KolFunnelError
from commerce.referrals.models import Kol, KolTier
from commerce.referrals.rollups import COUNTERS
from commerce.referrals.states import TouchChannel
from commerce.spreadsheets import xlsx_of

MAX_DAYS = 366
MAX_PAGE_SIZE = 100
EXPORT_MAX = 10_000
SORTS = {
    "gmv": "paid_gmv",
    "orders": "orders",
    "touches": "touches",
    "customers": "customers",
    "commission": "commission_pending",
}


@dataclass(frozen=True)
class Figures:
    touches: int = 0
    follows: int = 0
    customers: int = 0
    orders: int = 0
    paid_gmv: int = 0  # fen
    commission_pending: int = 0  # fen accrued
    commission_earned: int = 0
    commission_reversed: int = 0

    @classmethod
    def of(cls, row: dict[str, Any]) -> Figures:
        return cls(**{name: int(row.get(name) or 0) for name in COUNTERS})

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def follow_rate_bps(self) -> int:
        """New followers per touch."""
        return _rate(self.follows, self.touches)

    @property
    def customer_rate_bps(self) -> int:
        """New customers per touch."""
        return _rate(self.customers, self.touches)

    @property
    def order_rate_bps(self) -> int:
        """Paid orders per touch."""
        return _rate(self.orders, self.touches)

    @property
    def orders_per_customer_bps(self) -> int:
        """Paid orders per new customer (may pass 100%: customers order again)."""
        return _rate(self.orders, self.customers)

    @property
    def average_order(self) -> int:
        """Paid GMV per order (fen, rounded down)."""
        return self.paid_gmv // self.orders if self.orders else 0

    def rates(self) -> dict[str, int]:
        return {
            "follow_rate_bps": self.follow_rate_bps,
            "customer_rate_bps": self.customer_rate_bps,
            "order_rate_bps": self.order_rate_bps,
            "orders_per_customer_bps": self.orders_per_customer_bps,
        }


def _rate(part: int, whole: int) -> int:
    return part * 10_000 // whole if whole else 0


@dataclass(frozen=True)
class FunnelRow:
    key: str  # the day (YYYY-MM-DD) or the channel
    figures: Figures


@dataclass(frozen=True)
class KolFunnel:
    kol_id: int
    start: date
    end: date
    by: str  # "day" or "channel"
    rows: list[FunnelRow]
    totals: Figures


def checked_range(start: date, end: date) -> tuple[date, date]:
    """A range of Asia/Shanghai days, both ends included, at most MAX_DAYS long."""
    if end < start or (end - start).days + 1 > MAX_DAYS:
        raise KolFunnelError.INVALID_RANGE.error()
    return start, end


async def kol_id_of(user_id: int) -> int:
    """The KOL the shopper is, in any status (a suspended KOL still sees their figures)."""
    found = await Kol.filter(user_id=user_id).values_list("id", flat=True)
    if not found:
        raise KolError.NOT_APPLIED.error()
    return int(found[0])


_SUMS = ", ".join(f"SUM(`{name}`) AS `{name}`" for name in COUNTERS)


async def kol_funnel(*, kol_id: int, start: date, end: date, by: str = "day") -> KolFunnel:
    """One KOL's funnel over the days from start to end (Asia/Shanghai, included), by day (every
    day of the range, quiet days as zeros) or by channel (every channel)."""
    start, end = checked_range(start, end)
    if by not in ("day", "channel"):
        raise KolFunnelError.INVALID_RANGE.error()
    rows = await fetch_rows(
        f"SELECT `{by}` AS `key`, {_SUMS} FROM `referral_daily`"
        f" WHERE `kol_id` = ? AND `day` >= ? AND `day` <= ? GROUP BY `{by}`",
        [kol_id, start.isoformat(), end.isoformat()],
    )
    found = {_key(row["key"]): Figures.of(row) for row in rows}
    if by == "day":
        keys = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    else:
        keys = [channel.value for channel in TouchChannel]
    result = [FunnelRow(key, found.get(key, Figures())) for key in keys]
    totals = sum((r.figures for r in result), Figures())
    return KolFunnel(kol_id, start, end, by, result, totals)


async def my_funnel(*, user_id: int, start: date, end: date, by: str = "day") -> KolFunnel:
    """The signed-in KOL's own funnel; a shopper who is no KOL: kol_not_applied."""
    return await kol_funnel(kol_id=await kol_id_of(user_id), start=start, end=end, by=by)


def _key(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


# --- the platform's view ---------------------------------------------------------------------


@dataclass(frozen=True)
class KolRow:
    kol_id: int
    name: str
    code: str
    status: str
    tier_id: int | None
    tier_name: str
    figures: Figures


@dataclass(frozen=True)
class KolPage:
    items: list[KolRow]
    total: int  # KOLs with a roll-up in the range
    page: int
    page_size: int
    totals: Figures  # of every KOL in the range, not just this page


@dataclass(frozen=True)
class TierRow:
    tier_id: int | None
    tier_name: str
    kols: int  # KOLs of the tier with a roll-up in the range
    figures: Figures


async def per_kol(
    *, start: date, end: date, sort: str = "gmv", page: int = 1, page_size: int = 50
) -> KolPage:
    """Every KOL with figures in the range, the highest first by `sort` (gmv, orders, touches,
    customers, commission), then by id."""
    start, end = checked_range(start, end)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    rows = await _per_kol_rows(start, end, sort, limit=page_size, offset=(page - 1) * page_size)
    summary = await fetch_rows(
        f"SELECT COUNT(DISTINCT `kol_id`) AS `n`, {_SUMS} FROM `referral_daily`"
        " WHERE `day` >= ? AND `day` <= ?",
        [start.isoformat(), end.isoformat()],
    )
    total = int(summary[0]["n"] or 0) if summary else 0
    return KolPage(rows, total, page, page_size, Figures.of(summary[0]) if summary else Figures())


async def _per_kol_rows(start: date, end: date, sort: str, *, limit: int, offset: int) -> list[KolRow]:
    column = SORTS.get(sort, "paid_gmv")
    rows = await fetch_rows(
        f"SELECT `kol_id`, {_SUMS} FROM `referral_daily` WHERE `day` >= ? AND `day` <= ?"
        f" GROUP BY `kol_id` ORDER BY SUM(`{column}`) DESC, `kol_id` LIMIT {int(limit)} OFFSET {int(offset)}",
        [start.isoformat(), end.isoformat()],
    )
    ids = [int(r["kol_id"]) for r in rows]
    kols = {k.id: k for k in await Kol.filter(id__in=ids)} if ids else {}
    tiers = await _tier_names({k.tier_id for k in kols.values() if k.tier_id is not None})
    result = []
    for row in rows:
        kol = kols.get(int(row["kol_id"]))
        tier_id = kol.tier_id if kol else None
        result.append(
            KolRow(
                int(row["kol_id"]),
                kol.name if kol else "",
                kol.code if kol else "",
                kol.status.value if kol else "",
                tier_id,
                tiers.get(tier_id, "") if tier_id is not None else "",
                Figures.of(row),
            )
        )
    return result


async def per_tier(*, start: date, end: date) -> list[TierRow]:
    """The figures of each tier's KOLs (by their tier now) in the range, the highest GMV first."""
    start, end = checked_range(start, end)
    rows = await fetch_rows(
        "SELECT `k`.`tier_id` AS `tier_id`, COUNT(DISTINCT `d`.`kol_id`) AS `kols`, "
        + ", ".join(f"SUM(`d`.`{name}`) AS `{name}`" for name in COUNTERS)
        + " FROM `referral_daily` `d` JOIN `kol` `k` ON `k`.`id` = `d`.`kol_id`"
        " WHERE `d`.`day` >= ? AND `d`.`day` <= ? GROUP BY `k`.`tier_id`",
        [start.isoformat(), end.isoformat()],
    )
    names = await _tier_names({int(r["tier_id"]) for r in rows if r["tier_id"] is not None})
    result = [
        TierRow(
            int(r["tier_id"]) if r["tier_id"] is not None else None,
            names.get(int(r["tier_id"]), "") if r["tier_id"] is not None else "未分级",
            int(r["kols"] or 0),
            Figures.of(r),
        )
        for r in rows
    ]
    return sorted(result, key=lambda t: (-t.figures.paid_gmv, t.tier_name))


async def _tier_names(tier_ids: set[int]) -> dict[int, str]:
    if not tier_ids:
        return {}
    return dict(await KolTier.filter(id__in=sorted(tier_ids)).values_list("id", "name"))


async def kol_name(kol_id: int) -> tuple[str, str]:
    """A KOL's (name, code) for a page's title; not found when there is no such KOL."""
    found = await Kol.filter(id=kol_id).values_list("name", "code")
    if not found:
        raise KolError.NOT_FOUND.error()
    name, code = found[0]
    return str(name), str(code)


# --- exports ---------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "推广员编号",
    "推广员",
    "推广码",
    "等级",
    "点击",
    "新关注",
    "新客户",
    "付款订单",
    "付款金额",
    "佣金计提",
    "佣金结算",
    "佣金冲回",
    "新客转化率",
    "下单转化率",
]
MONEY = {8, 9, 10, 11}


def _percent(bps: int) -> str:
    return f"{bps / 100:.2f}%"


async def _export_rows(start: date, end: date, sort: str) -> list[list[object]]:
    rows = await _per_kol_rows(*checked_range(start, end), sort, limit=EXPORT_MAX, offset=0)
    return [
        [
            r.kol_id,
            r.name,
            r.code,
            r.tier_name,
            r.figures.touches,
            r.figures.follows,
            r.figures.customers,
            r.figures.orders,
            fen_to_yuan(r.figures.paid_gmv),
            fen_to_yuan(r.figures.commission_pending),
            fen_to_yuan(r.figures.commission_earned),
            fen_to_yuan(r.figures.commission_reversed),
            _percent(r.figures.customer_rate_bps),
            _percent(r.figures.order_rate_bps),
        ]
        for r in rows
    ]


async def export_csv(*, start: date, end: date, sort: str = "gmv") -> bytes:
    """The platform's per-KOL figures over the range (every page, at most EXPORT_MAX), as a CSV
    Excel reads (UTF-8 with a BOM); amounts in yuan."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in await _export_rows(start, end, sort):
        writer.writerow([guard_cell(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


async def export_xlsx(*, start: date, end: date, sort: str = "gmv") -> bytes:
    """The same as an .xlsx (amounts as numbers)."""
    return xlsx_of("推广员漏斗", EXPORT_COLUMNS, await _export_rows(start, end, sort), money_columns=MONEY)
