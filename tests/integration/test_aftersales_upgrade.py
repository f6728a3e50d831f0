"""The upgrade of whole-order refunds asked before after-sales existed: each becomes a refund-only
request in its refund's state, orders leave "refunding"/"refunded", lines count what stands,
stock of a refund before shipment still on its way goes back, and a second run changes nothing."""

from __future__ import annotations

import uuid

from tortoise import connections

from commerce import clock
from commerce.aftersales import review
from commerce.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine
from commerce.aftersales.upgrade import upgrade_refunds
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.orders import services as order_services
from commerce.orders.models import Order, OrderClaim, OrderLine
from commerce.payments.models import Payment, Refund
from commerce.payments.states import RefundStatus
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from tests.builders import shopper_with_address
from tests.edges.paying import pay_order, settle_outbox
from tests.factories import restore_refund_from, sku_row

TEA = sku_row("UP1", "UP1-1", title="龙井茶", category="食品 > 茶叶 > 绿茶", price="10.00", stock=20)


async def _paid(client, simulator, user: str, quantity: int = 2, *, shipped: bool = False) -> Order:
    who = await shopper_with_address(client, simulator, user)
    sku = await Sku.get(sku_code="UP1-1")
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": sku.id, "quantity": quantity}], "address_id": who["address_id"]},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    order_id = (await placed.json())["id"]
    await pay_order(client, simulator, who["headers"], order_id)
    if shipped:
        await order_services.ship_order(
            order_id=order_id, carrier="顺丰速运", tracking_no="SF123456", actor="t"
        )
        await settle_outbox()
    return await Order.get(id=order_id)


async def _old_refund(order: Order, status: RefundStatus, n: int = 1, **changes) -> Refund:
    """A whole-order refund as request_refund wrote it before after-sales."""
    payment = await Payment.filter(checkout_id=order.checkout_id, status="paid").first()
    now = clock.now()
    return await Refund.create(
        order_id=order.id,
        payment_id=payment.id,
        out_refund_no=f"R{payment.out_trade_no}_{n}",
        amount=order.payable,
        whole_order=True,
        reason="不想要了",
        status=status,
        requested_by=f"shopper:{order.user_id}",
        created_at=now,
        updated_at=now,
        **changes,
    )


async def _old_status(order: Order, status: str, refund_from: str, refunded: int) -> None:
    """The order as the old shape kept it: a status the enum no longer has, and the column
    `refund_from` (dropped by migration 0013 after the upgrade read it) put back for this test."""
    await Order.filter(id=order.id).update(refunded=refunded)
    conn = connections.get("default")
    mark = "%s" if conn.capabilities.dialect == "mysql" else "?"
    await restore_refund_from(conn)
    await conn.execute_query(
        f"UPDATE `shop_order` SET `status` = {mark}, `refund_from` = {mark} WHERE `id` = {mark}",
        [status, refund_from, order.id],
    )


async def test_old_whole_refunds_become_requests(client, simulator):
    # given orders in each state of the old whole-order refund
    assert not (await import_rows([TEA])).problems
    sku = await Sku.get(sku_code="UP1-1")
    waiting = await _paid(client, simulator, "u1", shipped=True)  # after shipment, awaiting review
    await _old_refund(waiting, RefundStatus.AWAITING_REVIEW)
    await _old_status(waiting, "refunding", "shipped", waiting.payable)
    on_its_way = await _paid(client, simulator, "u2")  # before shipment, at WeChat Pay
    await _old_refund(on_its_way, RefundStatus.PROCESSING)
    await _old_status(on_its_way, "refunding", "paid", on_its_way.payable)
    done = await _paid(client, simulator, "u3")  # before shipment, refunded (stock given back then)
    await _old_refund(done, RefundStatus.SUCCEEDED, succeeded_at=clock.now())
    await _old_status(done, "refunded", "paid", done.payable)
    await OrderClaim.filter(order_id=done.id).update(released_at=clock.now())
    await Sku.filter(id=sku.id).update(stock=sku.stock)  # as if it had been released
    said_no = await _paid(client, simulator, "u4", shipped=True)  # refused: back to shipped
    await _old_refund(said_no, RefundStatus.REFUSED, refusal="已拆封")
    await _old_status(said_no, "shipped", "shipped", 0)
    retried = await _paid(client, simulator, "u5")  # failed, retried, the retry on its way
    again = await _old_refund(retried, RefundStatus.REQUESTED, n=2)
    first = await _old_refund(
        retried, RefundStatus.FAILED, n=1, retried_as_id=again.id, failure_code="NOT_ENOUGH"
    )
    await _old_status(retried, "refunding", "paid", retried.payable)
    stock = (await Sku.get(id=sku.id)).stock

    # when the upgrade runs (twice: the second finds it done)
    for _ in range(2):
        await upgrade_refunds(connections.get("default"))

    # then each old refund is one request in its state
    def request_of(order: Order):
        return AfterSale.get(order_id=order.id)

    expected = {
        waiting.id: ("requested", "shipped", False, 2),
        on_its_way.id: ("refunding", "paid", True, 2),
        done.id: ("refunded", "closed", True, 2),
        said_no.id: ("refused", "shipped", False, 0),
        retried.id: ("refunding", "paid", True, 2),
    }
    assert await AfterSale.all().count() == 5
    for order in (waiting, on_its_way, done, said_no, retried):
        request = await request_of(order)
        status, order_status, before_shipment, counted = expected[order.id]
        assert (request.status.value, request.before_shipment, request.amount) == (
            status,
            before_shipment,
            order.payable,
        ), order.id
        assert (await Order.get(id=order.id)).status.value == order_status
        line = await OrderLine.get(order_id=order.id)
        assert line.refund_quantity == counted
        assert line.refund_amount == (line.payable if counted else 0)
        lines = await AfterSaleLine.filter(aftersale_id=request.id)
        assert [(x.quantity, x.amount) for x in lines] == [(2, line.payable)]
        assert request.amount == line.payable + request.shipping_amount
        assert request.shipping_amount == order.shipping_fee  # the whole refund returned it
        assert await AfterSaleEvent.filter(aftersale_id=request.id, type="requested").count() == 1
    assert (await request_of(waiting)).review_due_at is not None
    assert (await request_of(said_no)).refusal == "已拆封"
    # both refunds of the retried one name its request
    request = await request_of(retried)
    assert {r.aftersale_id for r in await Refund.filter(id__in=[first.id, again.id])} == {request.id}
    # stock: the two before shipment still on their way gave theirs back; claims count it
    assert (await Sku.get(id=sku.id)).stock == stock + 4
    for order in (on_its_way, retried, done):
        claim = await OrderClaim.get(order_id=order.id)
        assert (claim.released_quantity, claim.released_at is not None) == (2, True)
    claim = await OrderClaim.get(order_id=waiting.id)
    assert (claim.released_quantity, claim.released_at) == (0, None)
    # and approving the request that waited submits its old refund, not a second one
    staff = Staff(id=1, username="ops", role=StaffRole.PLATFORM_ADMIN, merchant_id=None)
    await review.approve(aftersale_id=(await request_of(waiting)).id, staff=staff, agent_refund_limit_fen=0)
    await settle_outbox()
    refunds = await Refund.filter(order_id=waiting.id)
    assert len(refunds) == 1 and refunds[0].status != RefundStatus.AWAITING_REVIEW
