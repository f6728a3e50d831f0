"""A shop whose money settles: two merchants' products, orders placed and paid through the
API and the simulated WeChat Pay, and their PAYMENT and REFUND entries posted to the books in
the ledger contract's layout (commerce.ledger.services.record), for settlement tests of every
tier. Commission 5 % per line (shipping none), fees 0.6 % of the order, rounded half up."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.ledger import services as ledger
from commerce.ledger.models import LedgerAccount
from commerce.ledger.states import AccountKind, EntryKind
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderLine
from commerce.payments.models import Refund
from tests.builders import shopper_with_address
from tests.edges.paying import pay_order
from tests.factories import sku_row

COMMISSION_BPS, FEE_BPS = 500, 60
# 128.00 and 88.00 ship free (from 99.00); two cups (79.80) pay 10.00 shipping.
TEA = sku_row("ST1", "ST1-1", title="甲店龙井", category="食品 > 茶叶 > 绿茶", price="128.00", stock=50)
CUP = sku_row("ST2", "ST2-1", title="甲店茶杯", category="家居 > 杯具 > 茶杯", price="39.90", stock=50)
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


def _share(amount: int, bps: int) -> int:
    return int((Decimal(amount) * bps / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def post_payment(order_id: int) -> None:
    """The order's PAYMENT entry as the ledger contract lays it out."""
    order = await Order.get(id=order_id)
    lines = await OrderLine.filter(order_id=order_id)
    commission = sum(_share(line.payable, COMMISSION_BPS) for line in lines)
    fee = _share(order.payable, FEE_BPS)
    await ledger.record(
        key=f"payment:order-{order_id}",
        kind=EntryKind.PAYMENT,
        lines=[
            ledger.Line(ledger.CLEARING, order.payable, order_id=order_id),
            ledger.Line(ledger.PLATFORM_COMMISSION, -commission, order_id=order_id),
            ledger.Line(ledger.PAYMENT_FEES, -fee, order_id=order_id),
            ledger.Line(
                ledger.merchant_payable(order.merchant_id),
                -(order.payable - commission - fee),
                order_id=order_id,
            ),
        ],
        memo="订单支付",
        occurred_at=order.paid_at,
    )


async def post_refund(
    order_id: int, amount: int, *, commission: int, fee: int, key: str, at: datetime
) -> None:
    """A REFUND entry of `amount` with the commission and fee it reverses (worked out by hand)."""
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
