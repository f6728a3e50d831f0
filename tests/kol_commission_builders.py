"""KOL commission builders: a tier with its category rates, a catalog of three categories, a
referred shopper's order placed and paid through the real checkout and the simulated WeChat
Pay, refunds through after-sales, completion, and the books' checks the tests share."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from commerce import clock
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Sku
from commerce.ledger import queries
from commerce.ledger.models import JournalEntry, LedgerAccount, Posting
from commerce.ledger.services import is_posted
from commerce.orders.models import Order, OrderLine
from commerce.payments.models import Refund
from commerce.referrals import signals, touches
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.models import KolTier, KolTierRate
from commerce.referrals.states import KolCommissionStatus, TouchChannel
from commerce.users.services import Shopper as Actor
from tests.builders import Shopper, ship
from tests.edges.paying import eventually, pay_order, settle_outbox
from tests.edges.shoppers import ADDRESS
from tests.factories import sku_row
from tests.referral_builders import approved_kol, touched

WINDOW = 7  # the settings' aftersales_window_days
CATALOG = [
    sku_row("KT1", "KT1-1", title="明前龙井", category="食品 > 茶叶 > 绿茶", price="10.00", stock=99),
    sku_row("KS1", "KS1-1", title="坚果礼盒", category="食品 > 零食", price="7.77", stock=99),
    sku_row("KR1", "KR1-1", title="五常大米", category="粮油 > 大米", price="9.00", stock=99),
]


async def kol_catalog() -> dict[str, int]:
    """The three SKUs by code (a tea, a snack, rice), imported once."""
    if not await Sku.exists(sku_code="KT1-1"):
        assert not (await import_rows(CATALOG)).problems
    return dict(await Sku.filter(sku_code__in=["KT1-1", "KS1-1", "KR1-1"]).values_list("sku_code", "id"))


async def tier(
    name: str, *, rate_bps: int, second_level_bps: int = 0, categories: dict[str, int] | None = None
) -> int:
    """A KOL tier with its default, second-level rate and rates per category (by name)."""
    now = clock.now()
    row = await KolTier.create(
        name=name, rate_bps=rate_bps, second_level_bps=second_level_bps, created_at=now, updated_at=now
    )
    for category, bps in (categories or {}).items():
        category_id = (await Category.get(name=category)).id
        await KolTierRate.create(
            tier_id=row.id, category_id=category_id, rate_bps=bps, updated_by="staff:1", updated_at=now
        )
    return row.id


async def referred_order(shopper: Shopper, items: dict[str, int], *, paid: bool = True) -> dict:
    """The shopper's express order of these SKUs (code: quantity), paid through the simulator."""
    skus = await kol_catalog()
    body = {
        "items": [{"sku_id": skus[code], "quantity": n} for code, n in items.items()],
        "address_id": shopper.address_id,
    }
    placed = await shopper.client.post(
        "/api/v1/orders", json=body, headers={**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    if paid:
        await pay_order(shopper.client, shopper.simulator, shopper.headers, order["id"])
        await settle_outbox()
    return order


async def lines_of(order_id: int) -> list[OrderLine]:
    return list(await OrderLine.filter(order_id=order_id).order_by("id"))


async def refunded(settings, order_id: int, asks: list[LineAsk]) -> Refund:
    """An after-sales refund of these line parts, refunded and in the books."""
    order = await Order.get(id=order_id)
    view = await aftersales.request_aftersale(
        shopper=Actor(user_id=order.user_id, openid=""),
        order_id=order_id,
        kind="refund_only",
        lines=asks,
        reason="协商一致退款",
        settings=settings,
    )

    async def done() -> bool:
        request = await AfterSale.get(id=view.id)
        return request.status.value == "refunded" and await is_posted(f"refund:{request.refund_id}")

    await eventually(done)
    await settle_outbox()
    return await Refund.get(aftersale_id=view.id)


async def completed(shopper: Shopper, order: dict) -> None:
    """Shipped by the merchant, received by the shopper."""
    await ship(order)
    done = await shopper.client.post(f"/api/v1/orders/{order['id']}/confirm-receipt", headers=shopper.headers)
    assert done.status == 200, await done.text()
    await settle_outbox()


def after_window():
    return clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=1))


async def balances() -> dict[str, int]:
    return dict(await LedgerAccount.all().values_list("code", "balance"))


async def postings(key: str) -> list[tuple[str, int]]:
    return [(p.account_code, p.amount) for p in await queries.postings_of_entry(key)]


async def books_balanced() -> None:
    """Every entry balances, the trial balance is zero, running balances equal recomputation,
    no account that must not go into debit did, and each KOL's kol_pending holds exactly what is
    left of their pending and held commissions."""
    for entry_id in await JournalEntry.all().values_list("id", flat=True):
        assert sum(await Posting.filter(entry_id=entry_id).values_list("amount", flat=True)) == 0
    found = await balances()
    assert sum(found.values()) == 0
    assert (await queries.recompute()).differences == []
    assert await queries.in_debit() == []
    open_left: dict[int, int] = {}
    for user_id, amount, reversed_ in await KolCommission.filter(
        status__in=[KolCommissionStatus.PENDING, KolCommissionStatus.HELD]
    ).values_list("kol_user_id", "amount", "reversed"):
        open_left[user_id] = open_left.get(user_id, 0) + amount - reversed_
    pending = {int(code.split(":")[1]): -b for code, b in found.items() if code.startswith("kol_pending:")}
    assert {u: v for u, v in pending.items() if v} == {u: v for u, v in open_left.items() if v}


ELSEWHERE = {**ADDRESS, "phone": "13900139000", "detail": "海岸城 8 栋 1201"}


async def flagged_kol(client, simulator, settings) -> tuple[int, list[dict], int]:
    """A KOL whose three referred accounts share ADDRESS, one of their orders refunded, and a
    burst of touches from one address: flagged. (kol id, orders, flag id)."""
    await kol_catalog()
    amy = await Shopper.start(client, simulator, "amy", ELSEWHERE)
    kol = await approved_kol(user_id=amy.user_id, name="阿美")
    orders = []
    for name in ("ben", "carol", "dan"):
        shopper = await Shopper.start(client, simulator, name)
        await touched(kol, shopper.user_id)
        orders.append(await referred_order(shopper, {"KT1-1": 1}))
    [line] = await lines_of(orders[0]["id"])
    await refunded(settings, orders[0]["id"], [LineAsk(line.id, 1)])
    minute = clock.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    for n in range(4):
        await touches.touch(
            touch=touches.Touch(
                code=kol.code, channel=TouchChannel.LINK, ip="172.16.5.77", at=minute + timedelta(seconds=n)
            ),
            protection_days=30,
        )
    thresholds = replace(
        signals.Thresholds.of(settings), touches_per_ip_minute=4, refund_rate_bps=3000, refund_min_orders=3
    )
    flag_id = await signals.check_kol(kol_id=kol.id, thresholds=thresholds)
    assert flag_id is not None
    return kol.id, orders, flag_id
