"""Reads of group deals and their groups: for the pricing step, the share page, the bot and
the merchant's pages. Members are shown by masked nickname and avatar only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce import clock
from commerce.catalog.queries import sku_snapshots
from commerce.groupbuy.errors import GroupBuyError
from commerce.groupbuy.models import Group, GroupDeal, GroupDealSku, GroupSeat
from commerce.groupbuy.states import DealStatus, GroupStatus, SeatStatus
from commerce.users import directory as users


@dataclass(frozen=True)
class DealFacts:
    id: int
    merchant_id: int
    product_id: int
    title: str
    group_size: int
    time_limit_minutes: int
    per_shopper_limit: int
    min_paid_at_deadline: int | None
    starts_at: datetime
    ends_at: datetime
    status: DealStatus
    prices: dict[int, int]  # sku id -> group price (fen)

    def on_at(self, now: datetime) -> bool:
        return self.status is DealStatus.ACTIVE and self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class Member:
    nickname: str  # masked
    avatar_url: str
    paid: bool


@dataclass(frozen=True)
class GroupView:
    id: int
    deal_id: int
    status: GroupStatus
    size: int
    taken: int
    paid: int
    seats_left: int
    deadline: datetime
    seconds_left: int
    members: list[Member]


@dataclass(frozen=True)
class SeatRow:
    id: int
    user_id: int
    nickname: str  # masked
    order_id: int | None
    status: SeatStatus
    held_until: datetime
    paid_at: datetime | None


async def deal_facts(*, deal_id: int, connection=None) -> DealFacts:
    deal = await GroupDeal.get_or_none(id=deal_id).using_db(connection)
    if deal is None:
        raise GroupBuyError.DEAL_NOT_FOUND.error()
    prices = dict(
        await GroupDealSku.filter(deal_id=deal_id).using_db(connection).values_list("sku_id", "group_price")
    )
    return DealFacts(
        id=deal.id,
        merchant_id=deal.merchant_id,
        product_id=deal.product_id,
        title=deal.title,
        group_size=deal.group_size,
        time_limit_minutes=deal.time_limit_minutes,
        per_shopper_limit=deal.per_shopper_limit,
        min_paid_at_deadline=deal.min_paid_at_deadline,
        starts_at=deal.starts_at,
        ends_at=deal.ends_at,
        status=DealStatus(deal.status),
        prices=prices,
    )


async def live_deal(*, deal_id: int, now: datetime, connection=None) -> DealFacts:
    """The deal, if it is on now (else DEAL_NOT_ON)."""
    deal = await deal_facts(deal_id=deal_id, connection=connection)
    if not deal.on_at(now):
        raise GroupBuyError.DEAL_NOT_ON.error()
    return deal


async def group_view(*, group_id: int) -> GroupView:
    group = await Group.get_or_none(id=group_id)
    if group is None:
        raise GroupBuyError.GROUP_NOT_FOUND.error()
    return (await _views([group]))[0]


async def open_groups(
    *, deal_id: int | None = None, limit: int = 10, not_of_user: int | None = None
) -> list[GroupView]:
    """Forming groups with a paid member and a seat left, soonest deadline first (leaving out
    those `not_of_user` is in already: they cannot join them twice)."""
    query = Group.filter(status=GroupStatus.FORMING, deadline__gt=clock.now(), paid__gte=1)
    if deal_id is not None:
        query = query.filter(deal_id=deal_id)
    if not_of_user is not None:
        mine = await GroupSeat.filter(
            live_user_id=not_of_user, status__in=(SeatStatus.HELD, SeatStatus.PAID)
        ).values_list("group_id", flat=True)
        query = query.exclude(id__in=list(mine) or [0])
    groups = [g for g in await query.order_by("deadline").limit(limit * 3) if g.taken < g.size]
    return await _views(groups[:limit])


async def _views(groups: list[Group]) -> list[GroupView]:
    seats = await GroupSeat.filter(
        group_id__in=[g.id for g in groups] or [0], status__in=(SeatStatus.HELD, SeatStatus.PAID)
    ).order_by("id")
    names = await users.public_profiles([s.user_id for s in seats])
    now = clock.now()
    views = []
    for group in groups:
        members = [
            Member(
                nickname=names.get(s.user_id, ("", ""))[0],
                avatar_url=names.get(s.user_id, ("", ""))[1],
                paid=s.status is SeatStatus.PAID,
            )
            for s in seats
            if s.group_id == group.id
        ]
        views.append(
            GroupView(
                id=group.id,
                deal_id=group.deal_id,
                status=GroupStatus(group.status),
                size=group.size,
                taken=group.taken,
                paid=group.paid,
                seats_left=max(0, group.size - group.taken),
                deadline=group.deadline,
                seconds_left=max(0, int((group.deadline - now).total_seconds())),
                members=members,
            )
        )
    return views


@dataclass(frozen=True)
class DealSkuCard:
    sku_id: int
    specs: dict[str, str]
    list_price: int  # fen
    group_price: int  # fen
    stock: int


@dataclass(frozen=True)
class DealCard:
    """A deal as shoppers see it: the product, each SKU's prices, the group's rules."""

    id: int
    title: str
    product_id: int
    product_title: str
    image: str
    group_size: int
    time_limit_minutes: int
    per_shopper_limit: int
    ends_at: datetime
    on: bool
    skus: list[DealSkuCard]


async def deal_card(*, deal_id: int) -> DealCard:
    deal = await deal_facts(deal_id=deal_id)
    snaps = await sku_snapshots(list(deal.prices))
    first = next(iter(snaps.values()), None)
    return DealCard(
        id=deal.id,
        title=deal.title,
        product_id=deal.product_id,
        product_title=first.title if first else "",
        image=first.image if first else "",
        group_size=deal.group_size,
        time_limit_minutes=deal.time_limit_minutes,
        per_shopper_limit=deal.per_shopper_limit,
        ends_at=deal.ends_at,
        on=deal.on_at(clock.now()),
        skus=[
            DealSkuCard(s.sku_id, dict(s.specs), s.price, deal.prices[s.sku_id], s.stock)
            for s in snaps.values()
        ],
    )


def share_path(group_id: int) -> str:
    """The mini-program page a share link opens for the group."""
    return f"{GROUP_PAGE}?group_id={group_id}"


def share_scene(group_id: int) -> str:
    """The mini-program code's scene for the group (WeChat allows 32 visible characters)."""
    return f"g={group_id}"


GROUP_PAGE = "pages/group/index"


async def group_of_order(*, order_id: int) -> GroupView | None:
    """The group the order holds (or held) a seat in, if it is a 拼团 order."""
    seat = await GroupSeat.filter(order_id=order_id).first()
    return None if seat is None else await group_view(group_id=seat.group_id)
