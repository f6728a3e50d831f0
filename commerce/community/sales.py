"""Daily community sales (社区团购): a merchant publishes its own SKUs (the platform any) at a
community price (not above the list price) for one Asia/Shanghai day, ordered until the
sale's cut-off (COMMUNITY_CUTOFF_HOUR on that day unless the sale sets its own); cancelled
before its cut-off only. Shoppers see the sales open now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from tortoise.expressions import Q

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.catalog.queries import sku_snapshots
from commerce.community import closing
from commerce.community.errors import SaleError
from commerce.community.models import CommunitySale, CommunitySaleItem
from commerce.community.states import SALE_TRANSITIONS, SaleStatus
from commerce.lifecycle import Lifecycle
from commerce.transactions import unit_of_work, write_transaction

SALE = Lifecycle(
    model=CommunitySale,
    transitions=SALE_TRANSITIONS,
    refusal=SaleError.INVALID_TRANSITION.error,
    stamp_field=None,
)
MAX_ITEMS = 200


@dataclass(frozen=True)
class SaleItemView:
    sku_id: int
    product_id: int
    title: str
    specs: dict[str, str]
    image: str
    list_price: int  # fen, the SKU's price now
    community_price: int  # fen
    stock: int
    on_sale: bool


@dataclass(frozen=True)
class SaleView:
    id: int
    title: str
    merchant_id: int | None
    sale_date: date
    starts_at: datetime
    cutoff_at: datetime  # UTC
    status: SaleStatus
    cut_off_at: datetime | None
    items: list[SaleItemView]

    @property
    def cutoff_shanghai(self) -> str:
        return clock.to_shanghai(self.cutoff_at).strftime("%Y-%m-%d %H:%M")


def cutoff_of(sale_date: date, hour: int) -> datetime:
    """The UTC instant of `hour`:00 Asia/Shanghai on the sale's day."""
    return datetime.combine(sale_date, time(hour), tzinfo=clock.SHANGHAI).astimezone(UTC)


def shanghai_today() -> date:
    return clock.to_shanghai(clock.now()).date()


@unit_of_work
async def create_sale(
    *,
    title: str,
    sale_date: date,
    items: list[tuple[int, int]],
    merchant_id: int | None,
    cutoff_hour: int,
    actor: str,
) -> SaleView:
    """A sale of (sku_id, community price fen) items by a merchant (its own SKUs only) or by the
    platform (merchant_id None), taking orders from now until its cut-off."""
    title = (title or "").strip()
    prices = dict(items)
    if not title or len(title) > 64 or not prices or len(prices) > MAX_ITEMS or len(prices) != len(items):
        raise SaleError.INVALID_SALE.error()
    if not 0 <= cutoff_hour <= 23:
        raise SaleError.INVALID_SALE.error("截单时间须为 0–23 点")
    now = clock.now()
    cutoff_at = cutoff_of(sale_date, cutoff_hour)
    if cutoff_at <= now:
        raise SaleError.INVALID_SALE.error("截单时间已过，请选择之后的日期或时间")
    snapshots = await sku_snapshots(list(prices))
    for sku_id, price in prices.items():
        snap = snapshots.get(sku_id)
        if snap is None or (merchant_id is not None and snap.merchant_id != merchant_id):
            raise SaleError.NOT_OWN_SKU.error(f"商品规格 {sku_id} 不存在或不属于本商家")
        if not 0 < price <= snap.price:
            raise SaleError.INVALID_PRICE.error(f"「{snap.title}」的团购价须大于 0 且不高于原价")
    async with write_transaction() as conn:
        sale = await CommunitySale.create(
            title=title,
            merchant_id=merchant_id,
            sale_date=sale_date,
            starts_at=now,
            cutoff_at=cutoff_at,
            status=SaleStatus.OPEN,
            created_by=actor[:64],
            created_at=now,
            using_db=conn,
        )
        await CommunitySaleItem.bulk_create(
            [
                CommunitySaleItem(
                    sale_id=sale.id,
                    sku_id=sku_id,
                    product_id=snapshots[sku_id].product_id,
                    merchant_id=snapshots[sku_id].merchant_id,
                    community_price=price,
                )
                for sku_id, price in prices.items()
            ],
            using_db=conn,
        )
        await audit.record(
            actor=actor,
            action="community_sale.create",
            object_type="community_sale",
            object_id=sale.id,
            summary=f"社区团购：{title}（{sale_date}）",
            after={"items": {str(k): v for k, v in prices.items()}, "cutoff_hour": cutoff_hour},
            connection=conn,
        )
    return await sale_view(sale.id)


async def cancel_sale(*, sale_id: int, staff_merchant_id: int | None, actor: str) -> SaleView:
    """Withdraw an open sale before its cut-off: its unpaid orders are cancelled and its paid
    ones refunded in full (through after-sales). Another merchant's sale: not found."""
    sale = await _managed(sale_id, staff_merchant_id)
    await _withdraw(sale_id, actor=actor)
    await closing.stop_payments(sale, actor=actor, reason="社区团购活动已取消")
    await _refund_paid(sale, actor=actor)
    return await sale_view(sale_id)


@unit_of_work
async def _withdraw(sale_id: int, *, actor: str) -> None:
    async with write_transaction() as conn:
        await SALE.move(
            conn,
            sale_id,
            SaleStatus.OPEN,
            SaleStatus.CANCELLED,
            actor=actor,
            where=_before_cutoff(),
        )
        await audit.record(
            actor=actor,
            action="community_sale.cancel",
            object_type="community_sale",
            object_id=sale_id,
            summary="取消社区团购",
            connection=conn,
        )


@unit_of_work
async def _refund_paid(sale: CommunitySale, *, actor: str) -> None:
    async with write_transaction() as conn:
        paid = await closing.paid_undelivered(sale, after_cutoff=False)
        events = await closing.refund_in(conn, paid, reason=closing.CANCELLED, actor=actor)
    await outbox.deliver(events)


def _before_cutoff() -> Q:
    return Q(cutoff_at__gt=clock.now())


async def _managed(sale_id: int, staff_merchant_id: int | None) -> CommunitySale:
    sale = await CommunitySale.get_or_none(id=sale_id)
    if sale is None or (staff_merchant_id is not None and sale.merchant_id != staff_merchant_id):
        raise SaleError.NOT_FOUND.error()
    return sale


async def sale_view(sale_id: int, *, staff_merchant_id: int | None = None) -> SaleView:
    """One sale with its items, as staff of its merchant (or the platform) see it."""
    sale = await _managed(sale_id, staff_merchant_id)
    return (await _views([sale]))[0]


async def open_sales() -> list[SaleView]:
    """The sales taking orders now (started, before their cut-off), earliest cut-off first."""
    now = clock.now()
    sales = await CommunitySale.filter(
        status=SaleStatus.OPEN, starts_at__lte=now, cutoff_at__gt=now
    ).order_by("cutoff_at", "id")
    return await _views(list(sales))


async def staff_sales(*, merchant_id: int | None, limit: int = 100) -> list[SaleView]:
    """The latest sales: a merchant's people see their merchant's, the platform's people all."""
    query = CommunitySale.all() if merchant_id is None else CommunitySale.filter(merchant_id=merchant_id)
    return await _views(list(await query.order_by("-sale_date", "-id").limit(limit)))


async def _views(sales: list[CommunitySale]) -> list[SaleView]:
    ids = [sale.id for sale in sales]
    items = await CommunitySaleItem.filter(sale_id__in=ids).order_by("id") if ids else []
    snapshots = await sku_snapshots([item.sku_id for item in items])
    by_sale: dict[int, list[SaleItemView]] = {}
    for item in items:
        snap = snapshots.get(item.sku_id)
        by_sale.setdefault(item.sale_id, []).append(
            SaleItemView(
                sku_id=item.sku_id,
                product_id=item.product_id,
                title=snap.title if snap else "（已下架）",
                specs=snap.specs if snap else {},
                image=snap.image if snap else "",
                list_price=snap.price if snap else 0,
                community_price=item.community_price,
                stock=snap.stock if snap else 0,
                on_sale=bool(snap and snap.on_sale),
            )
        )
    return [
        SaleView(
            id=sale.id,
            title=sale.title,
            merchant_id=sale.merchant_id,
            sale_date=sale.sale_date,
            starts_at=sale.starts_at,
            cutoff_at=sale.cutoff_at,
            status=SaleStatus(sale.status),
            cut_off_at=sale.cut_off_at,
            items=by_sale.get(sale.id, []),
        )
        for sale in sales
    ]
