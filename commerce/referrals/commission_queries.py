"""Reads of KOLs' commissions: a KOL's earnings (pending, held, earned, reversed, withdrawable)
and their commissions page by page; the platform's list by KOL, status and day, and its export.

A KOL's withdrawals are the payouts of their payee_payable, which is one balance per person:
a KOL who is also a community leader has one balance for both, and a withdrawal does not say
which earnings it took. `withdrawn` is therefore all the person's withdrawals paid; it can be
told apart only once payouts record a source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tortoise.functions import Sum

from commerce import clock
from commerce.payouts import queries as payouts
from commerce.payouts.queries import PayoutView
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.errors import KolCommissionError, KolError
from commerce.referrals.models import Kol
from commerce.referrals.states import KolCommissionStatus

MAX_PAGE_SIZE = 100
EXPORT_MAX = 10_000


@dataclass(frozen=True)
class CommissionView:
    id: int
    order_id: int
    order_no: str
    level: int
    kol_id: int
    kol_name: str
    channel: str
    basis: int  # fen: the lines' paid amount after discounts
    amount: int  # accrued
    refunded: int
    reversed: int  # by refunds, or all that was left when voided
    earned: int
    status: KolCommissionStatus
    accrued_at: datetime
    earned_at: datetime | None

    @property
    def left(self) -> int:
        return self.amount - self.reversed

    @property
    def masked_order_no(self) -> str:
        """What the KOL sees of their customer's order number: its start and end only."""
        no = self.order_no
        return no if len(no) <= 8 else f"{no[:4]}{'*' * (len(no) - 8)}{no[-4:]}"


def _view(row: KolCommission, names: dict[int, str]) -> CommissionView:
    return CommissionView(
        row.id,
        row.order_id,
        row.order_no,
        row.level,
        row.kol_id,
        names.get(row.kol_id, ""),
        row.channel,
        row.basis,
        row.amount,
        row.refunded,
        row.reversed,
        row.earned,
        KolCommissionStatus(row.status),
        row.accrued_at,
        row.earned_at,
    )


async def _names(kol_ids: set[int]) -> dict[int, str]:
    if not kol_ids:
        return {}
    return dict(await Kol.filter(id__in=sorted(kol_ids)).values_list("id", "name"))


async def kol_id_of(user_id: int) -> int:
    """The KOL the shopper is (any status: a suspended KOL still sees what is owed); a shopper
    who never applied: kol_not_applied."""
    found = await Kol.filter(user_id=user_id).values_list("id", flat=True)
    if not found:
        raise KolError.NOT_APPLIED.error()
    return int(found[0])


@dataclass(frozen=True)
class Earnings:
    kol_id: int
    pending: int  # accrued, not earned yet, less reversals: in kol_pending (held ones included)
    held: int  # of pending, held for the fraud review
    earned: int  # earned over time (moved to the withdrawable balance)
    reversed: int  # taken back by refunds, or voided on review
    withdrawn: int  # the person's withdrawals paid to their WeChat balance (see the module's note)
    withdrawable: int  # the person's payee_payable balance
    in_transit: int  # withdrawals asked and not yet paid or returned
    withdrawals: list[PayoutView]


async def earnings(*, user_id: int) -> Earnings:
    """The signed-in KOL's earnings."""
    kol_id = await kol_id_of(user_id)
    sums = {
        KolCommissionStatus(row["status"]): row
        for row in await KolCommission.filter(kol_id=kol_id)
        .group_by("status")
        .annotate(amount_=Sum("amount"), reversed_=Sum("reversed"), earned_=Sum("earned"))
        .values("status", "amount_", "reversed_", "earned_")
    }

    def of(status: KolCommissionStatus, key: str) -> int:
        return int((sums.get(status) or {}).get(key) or 0)

    def left(status: KolCommissionStatus) -> int:
        return of(status, "amount_") - of(status, "reversed_")

    wallet = await payouts.wallet(user_id=user_id)
    return Earnings(
        kol_id=kol_id,
        pending=left(KolCommissionStatus.PENDING) + left(KolCommissionStatus.HELD),
        held=left(KolCommissionStatus.HELD),
        earned=of(KolCommissionStatus.EARNED, "earned_"),
        reversed=sum(of(s, "reversed_") for s in KolCommissionStatus),
        withdrawn=await payouts.withdrawn(user_id=user_id),
        withdrawable=wallet.owed,
        in_transit=wallet.in_transit,
        withdrawals=wallet.payouts,
    )


async def withdrawals(*, user_id: int) -> list[PayoutView]:
    """The KOL's recent withdrawals (newest first)."""
    await kol_id_of(user_id)
    return (await payouts.wallet(user_id=user_id)).payouts


@dataclass(frozen=True)
class CommissionPage:
    items: list[CommissionView]
    total: int
    page: int
    page_size: int


async def kol_commissions(*, user_id: int, page: int = 1, page_size: int = 20) -> CommissionPage:
    """The signed-in KOL's own commissions, newest first."""
    kol_id = await kol_id_of(user_id)
    return await _page(KolCommission.filter(kol_id=kol_id), page, page_size)


async def _page(query, page: int, page_size: int) -> CommissionPage:
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    total = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    names = await _names({r.kol_id for r in rows})
    return CommissionPage([_view(r, names) for r in rows], total, page, page_size)


@dataclass(frozen=True)
class Filters:
    """The platform's list: by KOL, status and the Asia/Shanghai days it accrued."""

    kol_id: int | None = None
    status: str | None = None
    accrued_from: date | None = None
    accrued_to: date | None = None  # inclusive


def _filtered(filters: Filters):
    query = KolCommission.all()
    if filters.status:
        try:
            query = query.filter(status=KolCommissionStatus(filters.status))
        except ValueError:
            raise KolCommissionError.INVALID_TRANSITION.error() from None
    if filters.kol_id is not None:
        query = query.filter(kol_id=filters.kol_id)
    if filters.accrued_from is not None:
        query = query.filter(accrued_at__gte=_start_of(filters.accrued_from))
    if filters.accrued_to is not None:
        query = query.filter(accrued_at__lt=_start_of(filters.accrued_to + timedelta(days=1)))
    return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=clock.SHANGHAI).astimezone(UTC)


async def staff_list(*, filters: Filters, page: int = 1, page_size: int = 50) -> CommissionPage:
    return await _page(_filtered(filters), page, page_size)


async def staff_export(*, filters: Filters) -> list[CommissionView]:
    """What the list shows, every page (at most EXPORT_MAX, newest first)."""
    rows = await _filtered(filters).order_by("-id").limit(EXPORT_MAX)
    names = await _names({r.kol_id for r in rows})
    return [_view(r, names) for r in rows]
