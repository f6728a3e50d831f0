"""The lifecycle helper (commerce.lifecycle), through the order's lifecycle: a move is allowed by
the table, made by one conditional update, written as an event row and announced once; a move
someone else made first is refused, never overwritten."""

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from commerce import clock
from commerce.errors import CommerceError
from commerce.orders.errors import OrderError
from commerce.orders.models import Checkout, Order, OrderEvent
from commerce.orders.services import ORDER_LIFECYCLE, transition
from commerce.orders.states import OrderStatus
from commerce.outbox import OutboxEvent
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.models import User
from tests.concurrency import needs_real_database


async def _order(status: OrderStatus) -> int:
    user = await User.create(openid=f"o-{clock.now().timestamp()}")
    now = clock.now()
    checkout = await Checkout.create(
        checkout_no=f"N{user.id:08d}",
        user_id=user.id,
        idempotency_key=f"key-{user.id}",
        payable=1990,
        pay_deadline=now + timedelta(minutes=30),
        created_at=now,
    )
    order = await Order.create(
        order_no=f"N{user.id:08d}",
        user_id=user.id,
        checkout_id=checkout.id,
        merchant_id=1,
        status=status,
        idempotency_key=f"key-{user.id}",
        items_total=1990,
        shipping_fee=0,
        discount_total=0,
        payable=1990,
        address={},
        pay_deadline=now + timedelta(minutes=30),
        created_at=now,
        updated_at=now,
    )
    return order.id


async def _trail(order_id: int) -> list[tuple[str, str]]:
    return list(
        await OrderEvent.filter(order_id=order_id).order_by("id").values_list("from_status", "to_status")
    )


async def test_a_move_changes_the_row_writes_its_event_row_and_announces_it(db):
    order_id = await _order(OrderStatus.PAID)
    # when
    async with in_transaction() as conn:
        announced = await transition(
            conn,
            order_id,
            OrderStatus.PAID,
            OrderStatus.SHIPPED,
            "staff:1",
            params={"carrier": "顺丰速运"},
            changes={"carrier": "顺丰速运", "tracking_no": "SF1234"},
        )
    # then
    order = await Order.get(id=order_id)
    assert (order.status, order.carrier, order.tracking_no) == (OrderStatus.SHIPPED, "顺丰速运", "SF1234")
    assert await _trail(order_id) == [("paid", "shipped")]
    event = await OrderEvent.get(order_id=order_id)
    assert (event.actor, event.params) == ("staff:1", {"carrier": "顺丰速运"})
    stored = await OutboxEvent.get(id=announced.id)
    assert (stored.topic, stored.payload) == (
        "order.status_changed",
        {"order_id": order_id, "from": "paid", "to": "shipped"},
    )


async def test_a_transition_not_in_the_table_is_refused_and_changes_nothing(db):
    order_id = await _order(OrderStatus.PENDING_PAYMENT)
    # when an unpaid order is to be shipped
    with pytest.raises(CommerceError) as refused:
        async with in_transaction() as conn:
            await transition(conn, order_id, OrderStatus.PENDING_PAYMENT, OrderStatus.SHIPPED, "staff:1")
    # then
    assert refused.value.code == OrderError.INVALID_TRANSITION.code
    assert (await Order.get(id=order_id)).status is OrderStatus.PENDING_PAYMENT
    assert await _trail(order_id) == []
    assert await OutboxEvent.all().count() == 0


async def test_a_row_not_in_the_expected_status_is_not_moved(db):
    order_id = await _order(OrderStatus.CANCELLED)
    async with in_transaction() as conn:
        # the caller that wants a result gets None
        assert (
            await ORDER_LIFECYCLE.try_move(
                conn, order_id, OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, actor="system:wechatpay"
            )
            is None
        )
        # the caller that wants a refusal gets the context's error
        with pytest.raises(CommerceError) as refused:
            await ORDER_LIFECYCLE.move(
                conn, order_id, OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, actor="system:wechatpay"
            )
    assert refused.value.code == OrderError.INVALID_TRANSITION.code
    assert (await Order.get(id=order_id)).status is OrderStatus.CANCELLED
    assert await _trail(order_id) == []


@needs_real_database
async def test_of_two_racing_moves_from_one_status_one_wins_and_the_other_is_refused(db):
    # given a paid order that staff ship while its last unit is refunded (it closes)
    order_id = await _order(OrderStatus.PAID)
    both_in = asyncio.Barrier(2)

    @unit_of_work
    async def move_to(new: OrderStatus) -> OrderStatus:
        async with write_transaction() as conn:
            await Order.filter(id=order_id).using_db(conn).values_list("status", flat=True)
            await asyncio.wait_for(both_in.wait(), 5)  # both transactions are open
            await transition(conn, order_id, OrderStatus.PAID, new, f"test:{new.value}")
            await asyncio.sleep(0.2)  # hold the row: the other's UPDATE waits for this commit
        return new

    # when both move it at once
    results = await asyncio.gather(
        move_to(OrderStatus.SHIPPED), move_to(OrderStatus.CLOSED), return_exceptions=True
    )
    # then one moved it, the other was refused; one event row, one announcement
    winners = [r for r in results if isinstance(r, OrderStatus)]
    refusals = [r for r in results if isinstance(r, CommerceError)]
    assert len(winners) == 1 and len(refusals) == 1, results
    assert refusals[0].code == OrderError.INVALID_TRANSITION.code
    assert (await Order.get(id=order_id)).status is winners[0]
    assert await _trail(order_id) == [("paid", winners[0].value)]
    announced = await OutboxEvent.all().values_list("payload", flat=True)
    assert announced == [{"order_id": order_id, "from": "paid", "to": winners[0].value}]
