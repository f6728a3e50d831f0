"""A shop whose money settles: two merchants' products, orders placed and paid through the
API and the simulated WeChat Pay and refunded through after-sales (the ledger's subscribers post
their PAYMENT and REFUND entries: commission 5 % per line, none on shipping, fees 0.6 % of the
order, rounded half up), and corrections posted by hand in the ledger contract's layout, for
settlement tests of every tier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from commerce import clock
from commerce.aftersales import review
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.ledger import services as ledger
from commerce.ledger.models import LedgerAccount
from commerce.ledger.states import AccountKind, EntryKind
from commerce.merchants.services import ensure_merchant
from commerce.orders import services as orders
from commerce.orders.models import Order, OrderLine
from commerce.payments.models import Refund
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.models import User
from commerce.users.services import Shopper
from tests.builders import shopper_with_address
from tests.edges.paying import eventually, pay_order, settle_outbox
from tests.factories import sku_row

# 128.00 and 88.00 ship free (from 99.00); two cups (79.80) pay 10.00 shipping.
TEA = sku_row("ST1", "ST1-1", title="甲店龙井", category="食品 > 茶叶 > 绿茶", price="128.00", stock=50)
CUP = sku_row("ST2", "ST2-1", title="甲店茶杯", category="家居 > 杯具 > 茶杯", price="39.90", stock=50)
PLATFORM = Staff(id=900, username="boss", role=StaffRole.PLATFORM_ADMIN, merchant_id=None)
BEAN = sku_row("ST3", "ST3-1", title="乙店咖啡豆", category="食品 > 咖啡 > 咖啡豆", price="88.00", stock=50)


async def two_merchants() -> tuple[int, int]:
    """Merchant 甲 (tea, cups) and 乙 (coffee beans), their products on sale."""
    a = await ensure_merchant(code="st-a", name="甲店")
    b = await ensure_merchant(code="st-b", name="乙店")
    assert not (await import_rows([TEA, CUP], merchant_id=a)).problems
    assert not (await import_rows([BEAN], merchant_id=b)).problems
    return a, b


async def bought(client, simulator, user: str, items: dict[str, int]) -> int:
    """The id of an order of these SKUs (code: quantity) placed and paid by `user`."""
    who = await shopper_with_address(client, simulator, user)
    lines = [{"sku_id": (await Sku.get(sku_code=code)).id, "quantity": n} for code, n in items.items()]
    placed = await client.post(
        "/api/v1/orders",
        json={"items": lines, "address_id": who["address_id"]},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, await placed.text()
    order_id = (await placed.json())["id"]
    await pay_order(client, simulator, who["headers"], order_id)
    return order_id


async def post_refund(
    order_id: int, amount: int, *, commission: int, fee: int, key: str, at: datetime
) -> None:
    """A REFUND entry of `amount` posted by hand (a refund outside after-sales), with the
    commission and fee it reverses worked out by hand."""
    order = await Order.get(id=order_id)
    await ledger.record(
        key=key,
        kind=EntryKind.REFUND,
        lines=[
            ledger.Line(ledger.CLEARING, -amount, order_id=order_id),
            ledger.Line(ledger.PLATFORM_COMMISSION, commission, order_id=order_id),
            ledger.Line(ledger.PAYMENT_FEES, fee, order_id=order_id),
            ledger.Line(
                ledger.merchant_payable(order.merchant_id), amount - commission - fee, order_id=order_id
            ),
        ],
        memo="售后退款",
        occurred_at=at,
    )


async def refund_of(order_id: int) -> Refund:
    """The order's succeeded refund (one)."""
    return await Refund.get(order_id=order_id, status="succeeded")


async def payable_balance(merchant_id: int) -> int:
    """What the books say is owed to the merchant (a credit balance, shown positive)."""
    account = await LedgerAccount.get_or_none(kind=AccountKind.MERCHANT_PAYABLE, owner_id=merchant_id)
    return -account.balance if account is not None else 0


@dataclass
class Day:
    """Everything paid at `at` (real time); see a_day for what became of each order."""

    a: int
    b: int
    tea: int  # 甲: completed at once: settles
    cups: int  # 甲: completed, one of its two cups refunded in the window: settles
    late: int  # 甲: completed six days later: carried
    beans: int  # 乙: completed: settles
    gone: int  # 乙: refunded whole before shipment, closed: settles at nothing owed
    at: datetime


async def shopper_of(order_id: int) -> Shopper:
    user = await User.get(id=(await Order.get(id=order_id)).user_id)
    return Shopper(user_id=user.id, openid=user.openid)


async def ship(*order_ids: int) -> None:
    for order_id in order_ids:
        await orders.ship_order(
            order_id=order_id, carrier="顺丰速运", tracking_no="SF1234567", actor="staff:0"
        )
    await settle_outbox()


async def refunded(aftersale_id: int) -> None:
    async def done() -> bool:
        return (await AfterSale.get(id=aftersale_id)).status.value == "refunded"

    await eventually(done)


async def a_day(client, simulator, settings) -> Day:
    at = clock.now()
    a, b = await two_merchants()
    tea = await bought(client, simulator, "alice", {"ST1-1": 1})  # 12800, ships free
    cups = await bought(client, simulator, "bob", {"ST2-1": 2})  # 7980 + 1000 shipping
    late = await bought(client, simulator, "carol", {"ST1-1": 1})  # 12800
    beans = await bought(client, simulator, "bob", {"ST3-1": 2})  # 17600
    gone = await bought(client, simulator, "alice", {"ST3-1": 1})  # 8800 + 1000 shipping
    # 乙's second order: all of it back before shipment (with its shipping); the order closes
    whole = await aftersales.request_whole_refund(
        shopper=await shopper_of(gone), order_id=gone, reason="不想要了", settings=settings
    )
    await refunded(whole.id)
    assert (await refund_of(gone)).amount == 9800
    # three orders shipped and received; then one of the two cups is refunded (goods kept)
    await ship(tea, cups, beans)
    assert await orders.complete_shipped_orders(after_days=0) == 3
    cup_line = (await OrderLine.get(order_id=cups)).id
    asked = await aftersales.request_aftersale(
        shopper=await shopper_of(cups),
        order_id=cups,
        kind="refund_only",
        lines=[LineAsk(cup_line, 1)],
        reason="不想要了",
        settings=settings,
    )
    await review.approve(aftersale_id=asked.id, staff=PLATFORM, agent_refund_limit_fen=50_000)
    await refunded(asked.id)
    assert (await refund_of(cups)).amount == 3990
    # the last order is received six days later: its window runs on
    await ship(late)
    with clock.frozen(at + timedelta(days=6)):
        assert await orders.complete_shipped_orders(after_days=0) == 1
    return Day(a, b, tea, cups, late, beans, gone, at)
