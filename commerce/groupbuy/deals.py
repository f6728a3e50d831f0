"""A merchant's group deals: create, edit, end. Scoped like every staff use case: a
merchant's staff pass their merchant (another merchant's deal is not found), the platform None."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commerce import clock
from commerce.catalog.queries import sku_snapshots
from commerce.groupbuy import queries
from commerce.groupbuy.errors import GroupBuyError
from commerce.groupbuy.models import GroupDeal, GroupDealSku
from commerce.groupbuy.states import DealStatus
from commerce.transactions import unit_of_work, write_transaction

MAX_TIME_LIMIT_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class DealInput:
    title: str
    prices: dict[int, int]  # sku id -> group price (fen); the SKUs of one product
    group_size: int
    time_limit_minutes: int
    per_shopper_limit: int
    starts_at: datetime
    ends_at: datetime
    min_paid_at_deadline: int | None = None


async def _checked(deal: DealInput, merchant_id: int | None) -> tuple[int, int]:
    """The deal's (merchant id, product id), or INVALID_DEAL with what is wrong."""
    title = deal.title.strip()
    if not 1 <= len(title) <= 60:
        raise GroupBuyError.INVALID_DEAL.error("请填写活动名称（1-60 字）")
    if not 2 <= deal.group_size <= 100:
        raise GroupBuyError.INVALID_DEAL.error("成团人数为 2-100 人")
    if not 1 <= deal.time_limit_minutes <= MAX_TIME_LIMIT_MINUTES:
        raise GroupBuyError.INVALID_DEAL.error("成团时限为 1 分钟到 7 天")
    if not 1 <= deal.per_shopper_limit <= 99:
        raise GroupBuyError.INVALID_DEAL.error("每人限购 1-99 件")
    if deal.min_paid_at_deadline is not None and not 1 <= deal.min_paid_at_deadline < deal.group_size:
        raise GroupBuyError.INVALID_DEAL.error("到时成团的最少人数须小于成团人数")
    if deal.ends_at <= deal.starts_at or deal.starts_at.tzinfo is None:
        raise GroupBuyError.INVALID_DEAL.error("结束时间须晚于开始时间")
    if not deal.prices:
        raise GroupBuyError.INVALID_DEAL.error("请至少选择一个规格并填写拼团价")
    skus = await sku_snapshots(list(deal.prices))
    if len(skus) != len(deal.prices) or len({s.product_id for s in skus.values()}) != 1:
        raise GroupBuyError.INVALID_DEAL.error("规格须属于同一商品")
    owners = {s.merchant_id for s in skus.values()}
    if len(owners) != 1 or (merchant_id is not None and owners != {merchant_id}):
        raise GroupBuyError.INVALID_DEAL.error("只能为本店商品创建拼团")
    for sku_id, price in deal.prices.items():
        if type(price) is not int or not 0 < price < skus[sku_id].price:
            raise GroupBuyError.INVALID_DEAL.error("拼团价须大于 0 且低于原价")
    return owners.pop(), next(iter(skus.values())).product_id


@unit_of_work
async def create_deal(*, deal: DealInput, merchant_id: int | None) -> int:
    owner, product_id = await _checked(deal, merchant_id)
    now = clock.now()
    async with write_transaction() as conn:
        row = await GroupDeal.create(
            merchant_id=owner,
            product_id=product_id,
            title=deal.title.strip(),
            group_size=deal.group_size,
            time_limit_minutes=deal.time_limit_minutes,
            per_shopper_limit=deal.per_shopper_limit,
            min_paid_at_deadline=deal.min_paid_at_deadline,
            starts_at=deal.starts_at,
            ends_at=deal.ends_at,
            status=DealStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
        await GroupDealSku.bulk_create(
            [GroupDealSku(deal_id=row.id, sku_id=s, group_price=p) for s, p in deal.prices.items()],
            using_db=conn,
        )
    return row.id


@unit_of_work
async def update_deal(*, deal_id: int, deal: DealInput, merchant_id: int | None) -> None:
    """Edit an active deal: groups already open keep their size and deadline; new checkouts
    read the new prices."""
    current = await scoped(deal_id, merchant_id)
    if current.status is not DealStatus.ACTIVE:
        raise GroupBuyError.DEAL_NOT_ON.error("活动已结束，不能修改")
    _, product_id = await _checked(deal, merchant_id)
    if product_id != current.product_id:
        raise GroupBuyError.INVALID_DEAL.error("不能更换活动商品")
    async with write_transaction() as conn:
        await (
            GroupDeal.filter(id=deal_id, status=DealStatus.ACTIVE)
            .using_db(conn)
            .update(
                title=deal.title.strip(),
                group_size=deal.group_size,
                time_limit_minutes=deal.time_limit_minutes,
                per_shopper_limit=deal.per_shopper_limit,
                min_paid_at_deadline=deal.min_paid_at_deadline,
                starts_at=deal.starts_at,
                ends_at=deal.ends_at,
                updated_at=clock.now(),
            )
        )
        await GroupDealSku.filter(deal_id=deal_id).using_db(conn).delete()
        await GroupDealSku.bulk_create(
            [GroupDealSku(deal_id=deal_id, sku_id=s, group_price=p) for s, p in deal.prices.items()],
            using_db=conn,
        )


@unit_of_work
async def end_deal(*, deal_id: int, merchant_id: int | None) -> None:
    """No new groups nor joins from now; groups forming run to their deadline."""
    await scoped(deal_id, merchant_id)
    async with write_transaction() as conn:
        await (
            GroupDeal.filter(id=deal_id, status=DealStatus.ACTIVE)
            .using_db(conn)
            .update(status=DealStatus.ENDED, updated_at=clock.now())
        )


async def scoped(deal_id: int, merchant_id: int | None) -> queries.DealFacts:
    deal = await queries.deal_facts(deal_id=deal_id)
    if merchant_id is not None and deal.merchant_id != merchant_id:
        raise GroupBuyError.DEAL_NOT_FOUND.error()
    return deal
