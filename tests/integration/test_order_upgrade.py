"""The upgrade of a database from before "one order per merchant under one payment": orders and
lines get the merchant who sells their products, every order a checkout (its payments with
it), and an order holding several merchants' products becomes one order per merchant under the
same checkout, its money, history and refunds where they belong. Each step runs twice to the
same result."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from tortoise import Tortoise

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from commerce.db import fetch_rows, insert, is_mysql
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Checkout, Order, OrderEvent, OrderLine
from commerce.orders.states import EventType, OrderStatus
from commerce.orders.upgrade import (
    give_checkouts,
    split_number,
    split_orders,
    stamp_merchants,
    upgrade_orders,
)
from commerce.payments.models import Payment, Refund
from commerce.payments.states import PaymentStatus, RefundStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.models import User
from tests.conftest import TEST_DATABASE_URL
from tests.factories import restore_refund_from, sku_row

ADDRESS = {"receiver_name": "张三", "phone": "13800138000", "province": "广东省", "detail": "科技园1号"}
ORDER_FIELDS = (
    "status", "user_id", "checkout_id", "address", "receiver_name", "receiver_phone", "receiver_phone_tail",
    "pay_deadline", "paid_at", "carrier", "tracking_no", "shipped_at", "completed_at",
    "created_at", "updated_at",
)  # fmt: skip


async def _catalogue() -> dict[str, int]:
    """Three merchants' SKUs: sku code -> id."""
    tea, coffee, snack = "食品 > 茶叶 > 绿茶", "食品 > 咖啡 > 咖啡豆", "食品 > 零食 > 饼干"
    rows = {
        "shop-a": [
            sku_row("A1", "A1-1", title="甲店茶叶", category=tea, price="19.90", stock=50),
            sku_row("A2", "A2-1", title="甲店茶具", category=tea, price="89.00", stock=9),
        ],
        "shop-b": [sku_row("B1", "B1-1", title="乙店咖啡", category=coffee, price="29.90")],
        "shop-c": [sku_row("C1", "C1-1", title="丙店饼干", category=snack, price="9.90")],
    }
    for code, skus in rows.items():
        merchant = await ensure_merchant(code=code, name=code)
        assert not (await import_rows(skus, merchant_id=merchant)).problems
    return dict(await Sku.all().values_list("sku_code", "id"))


@unit_of_work
async def _legacy_order(user_id: int, skus: list[tuple[int, int, int]], *, status: OrderStatus) -> int:
    """An order as the old schema held it (no merchant, no checkout: 0), with its lines
    (sku id, quantity, discount share <= 0), a creation and a payment event, and a paid attempt
    of the order's payable (without its checkout); returns its id."""
    now = clock.now()
    await restore_refund_from(Tortoise.get_connection("default"))
    await _foreign_keys(False)
    try:
        async with write_transaction() as conn:
            if is_mysql(TEST_DATABASE_URL):
                await conn.execute_script("SET FOREIGN_KEY_CHECKS=0")
            lines = []
            for sku_id, quantity, discount in skus:
                sku = await Sku.get(id=sku_id).using_db(conn).prefetch_related("product")
                total = sku.price * quantity
                lines.append((sku, quantity, total, discount))
            items = sum(total for _, _, total, _ in lines)
            discounts = sum(discount for *_, discount in lines)
            order = await Order.create(
                using_db=conn,
                order_no=f"2612070000{await Order.all().using_db(conn).count():010d}",
                user_id=user_id,
                checkout_id=0,
                merchant_id=0,
                status=status,
                idempotency_key=uuid.uuid4().hex,
                items_total=items,
                shipping_fee=1000,
                discount_total=discounts,
                payable=items + discounts + 1000,
                address=ADDRESS,
                receiver_name=ADDRESS["receiver_name"],
                receiver_phone=ADDRESS["phone"],
                receiver_phone_tail=ADDRESS["phone"][-4:],
                pay_deadline=now + timedelta(minutes=30),
                paid_at=now if status is not OrderStatus.PENDING_PAYMENT else None,
                created_at=now - timedelta(minutes=5),
                updated_at=now,
            )
            for sku, quantity, total, discount in lines:
                await OrderLine.create(
                    using_db=conn,
                    order_id=order.id,
                    sku_id=sku.id,
                    product_id=sku.product_id,
                    merchant_id=0,
                    title=sku.product.title,
                    specs={},
                    image="",
                    unit_price=sku.price,
                    quantity=quantity,
                    line_total=total,
                    discount=discount,
                    payable=total + discount,
                )
            for type_, to in ((EventType.CREATED, "pending_payment"), (EventType.STATUS_CHANGED, "paid")):
                await OrderEvent.create(
                    using_db=conn, order_id=order.id, type=type_, to_status=to, actor="system", created_at=now
                )
            await insert(
                "payment",
                {
                    "order_id": order.id,  # the column payments had before checkouts
                    "checkout_id": 0,
                    "provider": "wechatpay",
                    "out_trade_no": order.order_no,
                    "amount": order.payable,
                    "status": PaymentStatus.PAID.value,
                    "prepay_id": "",
                    "payer_openid": "",
                    "transaction_id": f"42{order.id:08d}",
                    "paid_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
                connection=conn,
            )
            if is_mysql(TEST_DATABASE_URL):
                await conn.execute_script("SET FOREIGN_KEY_CHECKS=1")
    finally:
        await _foreign_keys(True)
    return order.id


@pytest.fixture(autouse=True)
async def legacy_payment_column(db) -> AsyncIterator[None]:
    """Payments named their order before checkouts existed; the upgrade reads that column
    (dropped again after the test: the next one shares the schema on MariaDB)."""
    conn = Tortoise.get_connection("default")
    await conn.execute_script("ALTER TABLE `payment` ADD COLUMN `order_id` INT NULL")
    yield
    await conn.execute_script("ALTER TABLE `payment` DROP COLUMN `order_id`")


async def _payments(order_id: int | None = None) -> list[dict]:
    where, values = ("WHERE `order_id` = ?", [order_id]) if order_id else ("", [])
    return [
        dict(row)
        for row in await fetch_rows(
            f"SELECT `id`, `order_id`, `checkout_id` FROM `payment` {where} ORDER BY `id`", values
        )
    ]


async def _foreign_keys(on: bool) -> None:
    """SQLite checks foreign keys per connection, switched outside transactions only."""
    if not is_mysql(TEST_DATABASE_URL):
        await Tortoise.get_connection("default").execute_script(
            f"PRAGMA foreign_keys={'ON' if on else 'OFF'}"
        )


@unit_of_work
async def _upgrade(step=upgrade_orders) -> None:
    """A step run as a migration runs it: in one transaction, on its connection."""
    async with write_transaction() as conn:
        await step(conn)


async def _shopper() -> int:
    return (await User.create(openid="o-alice")).id


async def _snapshot() -> dict[str, list]:
    return {
        "orders": await Order.all()
        .order_by("id")
        .values_list(
            "id",
            "order_no",
            "merchant_id",
            "checkout_id",
            "items_total",
            "discount_total",
            "shipping_fee",
            "payable",
        ),
        "lines": await OrderLine.all().order_by("id").values_list("id", "order_id", "merchant_id"),
        "checkouts": await Checkout.all().order_by("id").values_list("id", "checkout_no", "payable"),
        "events": await OrderEvent.all().order_by("id").values_list("id", "order_id", "type"),
        "payments": await _payments(),
    }


async def test_orders_and_lines_get_the_merchant_who_sells_their_products(db):
    # given an order of A's tea and a mixed one of B's coffee then A's tea, placed before stamps
    skus, alice = await _catalogue(), await _shopper()
    a, b = (await ensure_merchant(code="shop-a")), (await ensure_merchant(code="shop-b"))
    only_a = await _legacy_order(alice, [(skus["A1-1"], 1, 0)], status=OrderStatus.PAID)
    mixed = await _legacy_order(alice, [(skus["B1-1"], 1, 0), (skus["A1-1"], 2, 0)], status=OrderStatus.PAID)
    # when the merchants are stamped
    await _upgrade(stamp_merchants)
    # then each line has its product's merchant, each order its first line's
    assert await OrderLine.filter(order_id=mixed).order_by("id").values_list("merchant_id", flat=True) == [
        b,
        a,
    ]
    assert (await Order.get(id=only_a)).merchant_id == a and (await Order.get(id=mixed)).merchant_id == b
    # and a product moving to another merchant afterwards changes nothing on a second run
    await Product.filter(spu_code="A1").update(merchant_id=b)
    before = await _snapshot()
    await _upgrade(stamp_merchants)
    assert await _snapshot() == before
    assert (await Order.get(id=only_a)).merchant_id == a


async def test_every_order_gets_its_own_checkout_and_its_payments_that_checkout(db):
    # given two orders and their payments from before checkouts
    skus, alice = await _catalogue(), await _shopper()
    first = await _legacy_order(alice, [(skus["A1-1"], 1, 0)], status=OrderStatus.PAID)
    second = await _legacy_order(alice, [(skus["B1-1"], 3, -500)], status=OrderStatus.SHIPPED)
    # when checkouts are given
    await _upgrade(stamp_merchants)
    await _upgrade(give_checkouts)
    # then each order has a checkout of its own, numbered, priced, due and made as the order
    for order_id in (first, second):
        order = await Order.get(id=order_id)
        checkout = await Checkout.get(id=order.checkout_id)
        assert checkout.checkout_no == order.order_no and checkout.user_id == alice
        assert (checkout.payable, checkout.pay_deadline, checkout.created_at) == (
            order.payable,
            order.pay_deadline,
            order.created_at,
        )
        # and the order's payments point at it
        assert [p["checkout_id"] for p in await _payments(order_id)] == [checkout.id]
    assert await Checkout.all().count() == 2
    # and a second run adds nothing
    before = await _snapshot()
    await _upgrade(give_checkouts)
    assert await _snapshot() == before


async def test_an_order_of_several_merchants_becomes_one_order_per_merchant_under_its_payment(db):
    # given a paid, shipped order of A's tea, B's coffee, A's tea set and C's biscuits (with
    # discounts split over lines and a shipping fee), its history, payment and a refund asked
    skus, alice = await _catalogue(), await _shopper()
    a, b, c = [await ensure_merchant(code=code) for code in ("shop-a", "shop-b", "shop-c")]
    lines = [
        (skus["A1-1"], 2, -300),
        (skus["B1-1"], 1, -150),
        (skus["A2-1"], 1, -1200),
        (skus["C1-1"], 3, -50),
    ]
    mixed = await _legacy_order(alice, lines, status=OrderStatus.SHIPPED)
    alone = await _legacy_order(alice, [(skus["C1-1"], 1, 0)], status=OrderStatus.PAID)
    await Order.filter(id=mixed).update(carrier="顺丰速运", tracking_no="SF1", shipped_at=clock.now())
    original = await Order.get(id=mixed)
    payment = await Payment.get(id=(await _payments(mixed))[0]["id"])
    now = clock.now()
    refund = await Refund.create(
        order_id=mixed, payment_id=payment.id, out_refund_no=f"{original.order_no}R1", amount=1000,
        reason="不想要了", status=RefundStatus.AWAITING_REVIEW, requested_by=f"shopper:{alice}",
        created_at=now, updated_at=now,
    )  # fmt: skip
    # when the database is upgraded
    await _upgrade()
    # then the original keeps A's lines (its first line's merchant), its shipping fee, payment
    # and refund; B and C each have an order of their own under the same checkout
    kept = await Order.get(id=mixed)
    parts = {o.merchant_id: o for o in await Order.filter(checkout_id=kept.checkout_id).exclude(id=mixed)}
    assert kept.merchant_id == a and set(parts) == {b, c}
    assert await Order.filter(checkout_id=kept.checkout_id).count() == 3
    assert await OrderLine.filter(order_id=mixed).values_list("merchant_id", flat=True) == [a, a]
    for merchant, part in parts.items():
        assert part.order_no == split_number(original.order_no, merchant) and len(part.order_no) <= 32
        assert await OrderLine.filter(order_id=part.id).values_list("merchant_id", flat=True) == [merchant]
        # as the order was: status, shopper, address, times, shipment
        assert all(
            getattr(part, name) == getattr(original, name) for name in ORDER_FIELDS if name != "checkout_id"
        )
        assert part.idempotency_key != original.idempotency_key
        # with its lines' money and no shipping fee
        part_lines = await OrderLine.filter(order_id=part.id)
        assert part.shipping_fee == 0
        assert part.items_total == sum(line.line_total for line in part_lines)
        assert part.discount_total == sum(line.discount for line in part_lines)
        assert part.payable == part.items_total + part.discount_total
        # and a copy of the history
        events = await OrderEvent.filter(order_id=part.id).order_by("id").values_list("type", "to_status")
        assert events == await OrderEvent.filter(order_id=mixed).order_by("id").values_list(
            "type", "to_status"
        )
    assert kept.shipping_fee == 1000
    # and the money over the orders adds up to the original's, the checkout's and the payment's
    orders = [kept, *parts.values()]
    for total in ("items_total", "discount_total", "shipping_fee", "payable"):
        assert sum(getattr(o, total) for o in orders) == getattr(original, total), total
    assert (await Checkout.get(id=kept.checkout_id)).payable == original.payable == payment.amount
    assert (await Payment.get(id=payment.id)).checkout_id == kept.checkout_id
    assert (await Refund.get(id=refund.id)).order_id == mixed
    # and the order of one merchant only is left as it was, in a checkout of its own
    assert (await Order.get(id=alone)).merchant_id == c
    assert await Order.filter(checkout_id=(await Order.get(id=alone)).checkout_id).count() == 1
    # and a second run changes nothing
    before = await _snapshot()
    await _upgrade()
    assert await _snapshot() == before
    assert await _upgrade_split_again() == []


@unit_of_work
async def _upgrade_split_again() -> list[int]:
    async with write_transaction() as conn:
        return await split_orders(conn)


async def test_an_upgrade_interrupted_after_one_part_finishes_on_the_next_run(db):
    # given a mixed order whose B part an interrupted run had made (lines not yet moved)
    skus, alice = await _catalogue(), await _shopper()
    b = await ensure_merchant(code="shop-b")
    mixed = await _legacy_order(
        alice, [(skus["A1-1"], 1, 0), (skus["B1-1"], 1, 0), (skus["C1-1"], 1, 0)], status=OrderStatus.PAID
    )
    await _upgrade(stamp_merchants)
    await _upgrade(give_checkouts)
    original = await Order.get(id=mixed)
    await _upgrade(split_orders)
    part = await Order.get(order_no=split_number(original.order_no, b))
    await OrderLine.filter(order_id=part.id).update(order_id=mixed)  # as if its lines never moved
    # when the upgrade runs again
    await _upgrade()
    # then the lines go to the part made before, and no second part appears
    assert await Order.filter(checkout_id=original.checkout_id).count() == 3
    assert await OrderLine.filter(order_id=part.id).values_list("merchant_id", flat=True) == [b]
    assert await OrderEvent.filter(order_id=part.id).count() == 2
    orders = await Order.filter(checkout_id=original.checkout_id)
    assert sum(o.payable for o in orders) == original.payable
