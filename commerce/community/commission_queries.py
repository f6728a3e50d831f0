"""Reads of leaders' commissions: a leader's earnings (pending, earned, withdrawn, reversed,
with their commissions) and the finance pages (commissions by filter, totals per leader)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Sum

from commerce.community.commission_models import LeaderCommission
from commerce.community.commission_states import CommissionStatus
from commerce.community.errors import CommissionError, LeaderError
from commerce.community.models import Leader
from commerce.payouts import queries as payouts
from commerce.payouts.queries import PayoutView

RECENT = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class CommissionView:
    id: int
    order_id: int
    order_no: str
    leader_id: int
    leader_name: str
    sale_id: int
    basis: int  # fen: the lines' payable
    amount: int  # accrued
    refunded: int
    reversed: int
    earned: int
    status: CommissionStatus
    accrued_at: datetime
    earned_at: datetime | None

    @property
    def left(self) -> int:
        """What is still the leader's: accrued less reversed."""
        return self.amount - self.reversed


@dataclass(frozen=True)
class Earnings:
    leader_id: int
    pending: int  # accrued, not earned yet, less refunds' reversals (leader_pending)
    earned: int  # earned over time (moved to the withdrawable balance)
    reversed: int  # taken back by refunds
    withdrawn: int  # paid to the leader's WeChat balance
    available: int  # withdrawable now (payee_payable: commissions and any other credit)
    in_transit: int  # withdrawals asked and not yet paid or returned
    commissions: list[CommissionView]
    withdrawals: list[PayoutView]


def _view(row: LeaderCommission, names: dict[int, str]) -> CommissionView:
    return CommissionView(
        row.id,
        row.order_id,
        row.order_no,
        row.leader_id,
        names.get(row.leader_id, ""),
        row.sale_id,
        row.basis,
        row.amount,
        row.refunded,
        row.reversed,
        row.earned,
        CommissionStatus(row.status),
        row.accrued_at,
        row.earned_at,
    )


async def _names(leader_ids: set[int]) -> dict[int, str]:
    if not leader_ids:
        return {}
    return dict(await Leader.filter(id__in=sorted(leader_ids)).values_list("id", "name"))


async def leader_id_of(user_id: int) -> int:
    """The leader the shopper is (any status: a suspended leader still sees what is owed)."""
    found = await Leader.filter(user_id=user_id).values_list("id", flat=True)
    if not found:
        raise LeaderError.NOT_FOUND.error()
    return int(found[0])


async def earnings(*, user_id: int) -> Earnings:
    """The signed-in leader's earnings; a shopper who is no leader: not found."""
    leader_id = await leader_id_of(user_id)
    totals = await _totals(LeaderCommission.filter(leader_id=leader_id))
    rows = await LeaderCommission.filter(leader_id=leader_id).order_by("-id").limit(RECENT)
    names = await _names({leader_id})
    wallet = await payouts.wallet(user_id=user_id)
    return Earnings(
        leader_id=leader_id,
        pending=totals.pending,
        earned=totals.earned,
        reversed=totals.reversed,
        withdrawn=await payouts.withdrawn(user_id=user_id),
        available=wallet.owed,
        in_transit=wallet.in_transit,
        commissions=[_view(r, names) for r in rows],
        withdrawals=wallet.payouts,
    )


@dataclass(frozen=True)
class Totals:
    leader_id: int
    leader_name: str
    orders: int
    accrued: int
    reversed: int
    pending: int
    earned: int


def _summed(leader_id: int, name: str, rows: list[dict]) -> Totals:
    """A leader's totals from their sums by status."""
    sums = {CommissionStatus(row["status"]): row for row in rows}

    def of(status: CommissionStatus, key: str) -> int:
        return int((sums.get(status) or {}).get(key) or 0)

    statuses = list(CommissionStatus)
    return Totals(
        leader_id=leader_id,
        leader_name=name,
        orders=sum(of(s, "n") for s in statuses),
        accrued=sum(of(s, "amount") for s in statuses),
        reversed=sum(of(s, "reversed_") for s in statuses),
        pending=of(CommissionStatus.PENDING, "amount") - of(CommissionStatus.PENDING, "reversed_"),
        earned=of(CommissionStatus.EARNED, "earned_"),
    )


async def _sums_by_leader(query) -> dict[int, list[dict]]:
    """One grouped query: each leader's count and sums per status."""
    by_leader: dict[int, list[dict]] = {}
    for row in (
        await query.group_by("leader_id", "status")
        .annotate(n=Count("id"), amount=Sum("amount"), reversed_=Sum("reversed"), earned_=Sum("earned"))
        .values("leader_id", "status", "n", "amount", "reversed_", "earned_")
    ):
        by_leader.setdefault(int(row["leader_id"]), []).append(row)
    return by_leader


async def _totals(query) -> Totals:
    """One leader's sums."""
    rows = [row for found in (await _sums_by_leader(query)).values() for row in found]
    return _summed(0, "", rows)


async def totals_per_leader() -> list[Totals]:
    """Every leader with a commission: orders, accrued, reversed, pending, earned; by name."""
    by_leader = await _sums_by_leader(LeaderCommission.all())
    names = await _names(set(by_leader))
    result = [_summed(leader_id, names.get(leader_id, ""), rows) for leader_id, rows in by_leader.items()]
    return sorted(result, key=lambda t: (t.leader_name, t.leader_id))


@dataclass(frozen=True)
class CommissionPage:
    items: list[CommissionView]
    total: int
    page: int
    page_size: int


EXPORT_MAX = 10_000


async def staff_list(
    *,
    status: str | None = None,
    leader_id: int | None = None,
    order_no: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CommissionPage:
    """Commissions newest first, by status, leader or order number."""
    query = _filtered(status, leader_id, order_no)
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    total = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    names = await _names({r.leader_id for r in rows})
    return CommissionPage([_view(r, names) for r in rows], total, page, page_size)


async def staff_export(
    *, status: str | None = None, leader_id: int | None = None, order_no: str | None = None
) -> list[CommissionView]:
    """What the list shows, every page (at most EXPORT_MAX, newest first)."""
    rows = await _filtered(status, leader_id, order_no).order_by("-id").limit(EXPORT_MAX)
    names = await _names({r.leader_id for r in rows})
    return [_view(r, names) for r in rows]


def _filtered(status: str | None, leader_id: int | None, order_no: str | None):
    query = LeaderCommission.all()
    if status:
        try:
            query = query.filter(status=CommissionStatus(status))
        except ValueError:
            raise CommissionError.NOT_FOUND.error() from None
    if leader_id is not None:
        query = query.filter(leader_id=leader_id)
    if order_no:
        query = query.filter(order_no=order_no.strip())
    return query
