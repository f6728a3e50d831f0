"""The dashboard's figures, for the whole platform or one merchant.

Definitions (shown on the page too): GMV is what shoppers paid for orders paid in the period
(for a merchant: its own lines, without shipping); paid orders, their average value, and paying
users count those orders; the refund rate is the share of them with money refunded or on its way
back (after-sales, in part or whole); refunds in progress are the open after-sales requests. Days are
Shanghai days. Computed from the period's rows: fine for thousands of orders a day, a rollup
table is the next step beyond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from commerce import clock
from commerce.aftersales import queries as aftersales
from commerce.orders import queries as orders
from commerce.orders.states import OrderStatus


@dataclass(frozen=True)
class Figures:
    gmv: int  # fen
    paid_orders: int
    average_order_value: int  # fen, rounded down
    paying_users: int
    refund_rate: float  # 0..1


@dataclass(frozen=True)
class Dashboard:
    today: Figures
    last_30_days: Figures
    daily_gmv: list[tuple[str, int]]  # ("11-29", fen), oldest first, 30 days
    to_ship: int
    refunds_in_progress: int


async def dashboard(*, merchant_id: int | None = None, now: datetime | None = None) -> Dashboard:
    now = now or clock.now()
    today_start = datetime.combine(clock.to_shanghai(now).date(), time(), tzinfo=clock.SHANGHAI)
    start = today_start - timedelta(days=29)
    paid = await orders.orders_paid_between(start, today_start + timedelta(days=1))
    counted = [(order, _share(order, merchant_id)) for order in paid]
    counted = [(order, amount) for order, amount in counted if amount is not None]
    days = [(today_start - timedelta(days=n)) for n in range(29, -1, -1)]
    daily = {day.date(): 0 for day in days}
    for order, amount in counted:
        daily[clock.to_shanghai(order.paid_at).date()] += amount
    waiting = await orders.count_by_status([OrderStatus.PAID])
    to_ship = await _mine(waiting[OrderStatus.PAID], merchant_id)
    refunding = sum((await aftersales.count_open(merchant_id=merchant_id)).values())
    return Dashboard(
        today=_figures([(o, a) for o, a in counted if o.paid_at >= today_start]),
        last_30_days=_figures(counted),
        daily_gmv=[(day.strftime("%m-%d"), daily[day.date()]) for day in days],
        to_ship=to_ship,
        refunds_in_progress=refunding,
    )


def _share(order: orders.PaidOrder, merchant_id: int | None) -> int | None:
    """What of this order counts: all of it for the platform, the lines of a merchant's own
    order for it (None: not its order). The merchants are those stamped when it was placed."""
    if merchant_id is None:
        return order.payable
    if order.merchant_id != merchant_id:
        return None
    return sum(payable for merchant, payable in order.lines if merchant == merchant_id)


def _figures(counted: list[tuple[orders.PaidOrder, int]]) -> Figures:
    gmv = sum(amount for _, amount in counted)
    count = len(counted)
    refunded = sum(1 for order, _ in counted if order.refunded > 0)
    return Figures(
        gmv=gmv,
        paid_orders=count,
        average_order_value=gmv // count if count else 0,
        paying_users=len({order.user_id for order, _ in counted}),
        refund_rate=refunded / count if count else 0.0,
    )


async def _mine(order_ids: list[int], merchant_id: int | None) -> int:
    if merchant_id is None:
        return len(order_ids)
    return len(await orders.orders_holding_merchant(set(order_ids), merchant_id))
