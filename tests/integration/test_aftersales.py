"""After-sales at the service level, on a real database: requests per line and quantity for
the line's paid share, shipping returned only with everything left before shipment, several
requests until the order closes, review (at once, by staff, by itself when due), returns with
and without restocking, the window, ownership, and two requests racing for the last units."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales import handlers, queries, review, services
from commerce.aftersales.errors import AfterSaleError
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.orders import services as order_services
from commerce.orders.models import Order, OrderClaim, OrderEvent, OrderLine
from commerce.outbox import OutboxEvent
from commerce.payments import review as payments_review
from commerce.payments.events import RefundFailed, RefundSucceeded
from commerce.payments.models import Refund
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.models import User
from commerce.users.services import Shopper
from tests.builders import refused, shopper_with_address
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, pay_order, settle_outbox, sim
from tests.factories import sku_row

# Two SKUs under the free-shipping amount together: a 10.00 yuan shipping fee applies.
TEA = sku_row("AS1", "AS1-1", title="龙井茶", category="食品 > 茶叶 > 绿茶", price="10.00", stock=10)
CUP = sku_row("AS2", "AS2-1", title="茶杯", category="家居 > 杯具 > 茶杯", price="7.99", stock=10)
LIMIT = 50_000


@dataclass
class Bought:
    shopper: Shopper
    order_id: int
    tea_line: int
    cup_line: int


@pytest.fixture
async def catalog(client) -> dict[str, int]:
    assert not (await import_rows([TEA, CUP])).problems
    return {code: (await Sku.get(sku_code=code)).id for code in ("AS1-1", "AS2-1")}


async def _buy(client, simulator, catalog, user: str = "alice", tea: int = 3, cup: int = 2) -> Bought:
    """`tea` teas and `cup` cups bought and paid by `user`."""
    who = await shopper_with_address(client, simulator, user)
    items = [{"sku_id": catalog["AS1-1"], "quantity": tea}, {"sku_id": catalog["AS2-1"], "quantity": cup}]
    placed = await client.post(
        "/api/v1/orders",
        json={"items": items, "address_id": who["address_id"]},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, await placed.text()
    order_id = (await placed.json())["id"]
    await pay_order(client, simulator, who["headers"], order_id)
    user_row = await User.get(id=who["user_id"])
    lines = {line.sku_id: line.id for line in await OrderLine.filter(order_id=order_id)}
    return Bought(
        Shopper(user_id=user_row.id, openid=user_row.openid),
        order_id,
        lines[catalog["AS1-1"]],
        lines[catalog["AS2-1"]],
    )


async def _ask(bought: Bought, settings, *lines: LineAsk, reason: str = "不想要了", **more):
    """The shopper's after-sales request on their order (refund only unless `kind` is given)."""
    more.setdefault("kind", "refund_only")
    return await services.request_aftersale(
        shopper=bought.shopper,
        order_id=bought.order_id,
        lines=list(lines),
        reason=reason,
        settings=settings,
        **more,
    )


async def _ship(order_id: int) -> None:
    await order_services.ship_order(
        order_id=order_id, carrier="顺丰速运", tracking_no="SF1234567", actor="staff:0"
    )
    await settle_outbox()


async def _refunded(aftersale_id: int) -> None:
    async def done() -> bool:
        return (await AfterSale.get(id=aftersale_id)).status.value == "refunded"

    await eventually(done)


async def _stock(sku_id: int) -> int:
    return (await Sku.get(id=sku_id)).stock


def _staff(role: StaffRole = StaffRole.PLATFORM_ADMIN, merchant_id: int | None = None) -> Staff:
    return Staff(id=901, username="ops", role=role, merchant_id=merchant_id)


async def test_a_partial_refund_of_one_line_returns_exactly_its_paid_share(
    client, simulator, catalog, settings
):
    # given Alice's paid order: 3 teas (3000), 2 cups (1598), shipping 1000
    bought = await _buy(client, simulator, catalog)
    order = await Order.get(id=bought.order_id)
    assert (order.payable, order.shipping_fee) == (5598, 1000)
    tea_stock = await _stock(catalog["AS1-1"])
    # when she asks for one tea back before shipment
    view = await _ask(bought, settings, LineAsk(bought.tea_line, 1), reason="拍错/多拍")
    # then it is approved at once, for that tea's share, without shipping
    assert (view.status.value, view.amount, view.shipping_amount, view.before_shipment) == (
        "refunding",
        1000,
        0,
        True,
    )
    await _refunded(view.id)
    refund = await Refund.get(aftersale_id=view.id)
    assert (refund.amount, refund.status.value, refund.whole_order) == (1000, "succeeded", False)
    line = await OrderLine.get(id=bought.tea_line)
    assert (line.refund_quantity, line.refund_amount) == (1, 1000)
    # the tea never left: its unit is back on sale, and the order goes on (paid)
    assert await _stock(catalog["AS1-1"]) == tea_stock + 1
    assert (await Order.get(id=bought.order_id)).status.value == "paid"
    assert (await Order.get(id=bought.order_id)).refunded == 1000


async def test_the_default_share_leaves_the_rest_to_the_last_unit(client, simulator, catalog, settings):
    # given 3 teas, one refunded for a custom 333 fen: 2667 left for 2 units
    bought = await _buy(client, simulator, catalog)
    first = await _ask(bought, settings, LineAsk(bought.tea_line, 1, 333), reason="协商一致退款")
    assert first.amount == 333
    # when the next unit is asked for at its default share, then the last one
    second = await _ask(bought, settings, LineAsk(bought.tea_line, 1), reason="不想要了")
    options = await services.aftersale_options(
        shopper=bought.shopper, order_id=bought.order_id, settings=settings
    )
    # then the shares add up to what the line was paid
    assert second.amount == 2667 // 2
    tea = next(o for o in options.lines if o.order_line_id == bought.tea_line)
    assert (tea.refundable_quantity, tea.refundable_amount) == (1, 3000 - 333 - 1333)


async def test_shipping_goes_back_only_with_everything_left_before_shipment(
    client, simulator, catalog, settings
):
    # given a paid order: the cups are asked for first
    bought = await _buy(client, simulator, catalog)
    cups = await _ask(bought, settings, LineAsk(bought.cup_line, 2), reason="不想要了")
    assert (cups.amount, cups.shipping_amount) == (1598, 0)
    options = await services.aftersale_options(
        shopper=bought.shopper, order_id=bought.order_id, settings=settings
    )
    assert options.shipping_refundable == 1000
    # when the rest (the teas) is asked for
    rest = await services.request_whole_refund(
        shopper=bought.shopper, order_id=bought.order_id, reason="不想要了", settings=settings
    )
    # then it takes the shipping too, and once both are refunded the order closes
    assert (rest.amount, rest.shipping_amount) == (3000 + 1000, 1000)
    await _refunded(cups.id)
    await _refunded(rest.id)
    order = await Order.get(id=bought.order_id)
    assert (order.status.value, order.refunded) == ("closed", order.payable)
    assert sum(r.amount for r in await Refund.filter(order_id=bought.order_id, status="succeeded")) == 5598
    # nothing is left to ask for
    with pytest.raises(CommerceError) as caught:
        await services.request_whole_refund(
            shopper=bought.shopper, order_id=bought.order_id, reason="再退一次", settings=settings
        )
    assert refused(caught, AfterSaleError.NOT_ALLOWED)


async def test_after_shipment_no_shipping_and_the_order_closes_when_every_unit_is_refunded(
    client, simulator, catalog, settings
):
    # given a shipped order
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    stock = await _stock(catalog["AS1-1"])
    # when everything is asked back (refund only, goods kept) and staff approve
    view = await services.request_whole_refund(
        shopper=bought.shopper, order_id=bought.order_id, reason="质量问题", settings=settings
    )
    assert (view.status.value, view.amount, view.shipping_amount) == ("requested", 4598, 0)
    assert view.review_due_at is not None
    await review.approve(aftersale_id=view.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
    await _refunded(view.id)
    # then the order is closed and the shipped goods' stock stays sold
    assert (await Order.get(id=bought.order_id)).status.value == "closed"
    assert await _stock(catalog["AS1-1"]) == stock


async def test_asking_for_more_than_is_left_is_refused(client, simulator, catalog, settings):
    bought = await _buy(client, simulator, catalog)

    for lines, code in (
        ((LineAsk(bought.tea_line, 4),), AfterSaleError.EXCEEDS_LINE),
        ((LineAsk(bought.tea_line, 1, 3001),), AfterSaleError.EXCEEDS_LINE),
        ((LineAsk(bought.tea_line, 0),), AfterSaleError.INVALID_LINES),
        ((LineAsk(999_999, 1),), AfterSaleError.INVALID_LINES),
        ((), AfterSaleError.INVALID_LINES),
    ):
        with pytest.raises(CommerceError) as caught:
            await _ask(bought, settings, *lines)
        assert refused(caught, code), lines
    tea = LineAsk(bought.tea_line, 1)
    for more, code in (
        ({"kind": "exchange"}, AfterSaleError.INVALID_KIND),
        ({"reason": "  "}, AfterSaleError.INVALID_REASON),
        ({"description": "太" * 501}, AfterSaleError.INVALID_DESCRIPTION),
        ({"photos": ["/media/a.jpg"] * 10}, AfterSaleError.TOO_MANY_PHOTOS),
        ({"photos": ["javascript:alert(1)"]}, AfterSaleError.INVALID_PHOTO),
    ):
        with pytest.raises(CommerceError) as caught:
            await _ask(bought, settings, tea, **more)
        assert refused(caught, code), more
    # nothing was taken by the refused asks
    line = await OrderLine.get(id=bought.tea_line)
    assert (line.refund_quantity, line.refund_amount) == (0, 0)
    assert not await AfterSale.filter(order_id=bought.order_id).exists()
    await _ask(bought, settings, LineAsk(bought.tea_line, 2))
    with pytest.raises(CommerceError) as caught:
        await _ask(bought, settings, LineAsk(bought.tea_line, 2))
    assert refused(caught, AfterSaleError.EXCEEDS_LINE)
    line = await OrderLine.get(id=bought.tea_line)
    assert (line.refund_quantity, line.refund_amount) == (2, 2000)


async def test_refusing_or_withdrawing_gives_the_units_and_money_back(client, simulator, catalog, settings):
    # given a shipped order with two requests waiting for review
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    teas = await _ask(bought, settings, LineAsk(bought.tea_line, 3), reason="商品质量问题")
    cups = await _ask(
        bought, settings, LineAsk(bought.cup_line, 1), reason="商品质量问题", kind="return_refund"
    )
    assert (await Order.get(id=bought.order_id)).refunded == 3000 + 799
    # when staff refuse one (a reason is required) and she withdraws the other
    with pytest.raises(CommerceError) as caught:
        await review.refuse(aftersale_id=teas.id, staff=_staff(), reason=" ", agent_refund_limit_fen=LIMIT)
    assert refused(caught, AfterSaleError.INVALID_REFUSAL)
    done = await review.refuse(
        aftersale_id=teas.id, staff=_staff(), reason="茶叶已拆封", agent_refund_limit_fen=LIMIT
    )
    withdrawn = await services.cancel_aftersale(shopper=bought.shopper, aftersale_id=cups.id)
    # then everything may be asked for again
    assert (done.status.value, done.refusal, withdrawn.status.value) == ("refused", "茶叶已拆封", "cancelled")
    assert [e.type for e in done.timeline] == ["requested", "status_changed"]
    assert (await Order.get(id=bought.order_id)).refunded == 0
    for line_id in (bought.tea_line, bought.cup_line):
        line = await OrderLine.get(id=line_id)
        assert (line.refund_quantity, line.refund_amount) == (0, 0)
    # and a finished request cannot be withdrawn or refused again
    with pytest.raises(CommerceError) as caught:
        await services.cancel_aftersale(shopper=bought.shopper, aftersale_id=teas.id)
    assert refused(caught, AfterSaleError.ALREADY_HANDLED)


@pytest.mark.parametrize("restock", [True, False])
async def test_a_return_comes_back_then_is_refunded(client, simulator, catalog, settings, restock):
    # given a shipped order and a return of 2 teas approved by the merchant
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    unshipped = await _buy(client, simulator, catalog, user="bob")
    stock = await _stock(catalog["AS1-1"])
    with pytest.raises(CommerceError) as caught:  # before shipment a return makes no sense
        await _ask(
            unshipped, settings, LineAsk(unshipped.tea_line, 1), reason="七天无理由退货", kind="return_refund"
        )
    assert refused(caught, AfterSaleError.RETURN_BEFORE_SHIPMENT)
    view = await _ask(
        bought,
        settings,
        LineAsk(bought.tea_line, 2),
        reason="收到商品破损",
        kind="return_refund",
        photos=["https://img.example.com/broken.jpg"],
    )
    approved = await review.approve(aftersale_id=view.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
    assert approved.status.value == "awaiting_return"
    assert approved.return_address
    # when she sends them back and the merchant confirms receipt
    with pytest.raises(CommerceError) as caught:
        await services.ship_return(
            shopper=bought.shopper, aftersale_id=view.id, carrier="信鸽", tracking_no="1"
        )
    assert refused(caught, AfterSaleError.INVALID_TRACKING)
    sent = await services.ship_return(
        shopper=bought.shopper, aftersale_id=view.id, carrier="顺丰速运", tracking_no="SF7654321"
    )
    assert (sent.status.value, sent.return_carrier, sent.return_tracking_no) == (
        "returning",
        "顺丰速运",
        "SF7654321",
    )
    received = await review.confirm_return(
        aftersale_id=view.id, staff=_staff(), restock=restock, agent_refund_limit_fen=LIMIT
    )
    assert (received.status.value, received.restocked) == ("refunding", restock)
    await _refunded(view.id)
    # then the money is back, and the stock only when the merchant restocked
    assert await _stock(catalog["AS1-1"]) == stock + (2 if restock else 0)
    claim = await OrderClaim.get(order_id=bought.order_id, ref=str(catalog["AS1-1"]))
    assert claim.released_quantity == (2 if restock else 0)
    assert claim.released_at is None  # one of the three teas is still the shopper's
    timeline = [
        e.type for e in (await queries.get_mine(shopper=bought.shopper, aftersale_id=view.id)).timeline
    ]
    assert timeline == ["requested", "status_changed", "return_shipped", "received", "status_changed"]


async def test_a_rejected_return_refunds_nothing(client, simulator, catalog, settings):
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    view = await _ask(bought, settings, LineAsk(bought.cup_line, 2), reason="发错货", kind="return_refund")
    await review.approve(aftersale_id=view.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
    await services.ship_return(
        shopper=bought.shopper, aftersale_id=view.id, carrier="顺丰速运", tracking_no="SF1111"
    )
    rejected = await review.reject_return(
        aftersale_id=view.id, staff=_staff(), reason="未收到退货", agent_refund_limit_fen=LIMIT
    )
    assert rejected.status.value == "refused"
    assert await Refund.filter(aftersale_id=view.id).count() == 0
    assert (await OrderLine.get(id=bought.cup_line)).refund_quantity == 0


async def test_a_request_not_reviewed_in_time_is_approved_by_itself(client, simulator, catalog, settings):
    # given a request after shipment, waiting for the merchant
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    view = await _ask(bought, settings, LineAsk(bought.cup_line, 1), reason="少件/漏发")
    assert view.review_due_at is not None
    # when the job runs before and after its review is due
    assert await review.approve_overdue() == 0
    await AfterSale.filter(id=view.id).update(review_due_at=clock.now() - timedelta(minutes=1))
    assert await review.approve_overdue() == 1
    # then it was approved by the system, and refunded
    await _refunded(view.id)
    row = await AfterSale.get(id=view.id)
    assert row.reviewed_by == "system:aftersales"


async def test_the_window_closes_days_after_completion(client, simulator, catalog, settings):
    # given a completed order
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    await order_services.confirm_receipt(shopper=bought.shopper, order_id=bought.order_id)
    options = await services.aftersale_options(
        shopper=bought.shopper, order_id=bought.order_id, settings=settings
    )
    assert options.window_ends_at is not None
    # when the window has passed
    await Order.filter(id=bought.order_id).update(
        completed_at=clock.now() - timedelta(days=settings.aftersales_window_days, seconds=1)
    )
    # then no request is taken
    with pytest.raises(CommerceError) as caught:
        await services.request_whole_refund(
            shopper=bought.shopper, order_id=bought.order_id, reason="晚了", settings=settings
        )
    assert refused(caught, AfterSaleError.WINDOW_PASSED)


async def test_an_unpaid_order_takes_no_request(client, simulator, catalog, settings):
    who = await shopper_with_address(client, simulator, "carol")
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": catalog["AS1-1"], "quantity": 1}], "address_id": who["address_id"]},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    user = await User.get(id=who["user_id"])
    with pytest.raises(CommerceError) as caught:
        await services.request_whole_refund(
            shopper=Shopper(user_id=user.id, openid=user.openid),
            order_id=(await placed.json())["id"],
            reason="不想要了",
            settings=settings,
        )
    assert refused(caught, AfterSaleError.NOT_ALLOWED)


async def test_another_shoppers_request_is_not_found(client, simulator, catalog, settings):
    alice = await _buy(client, simulator, catalog)
    bob = await _buy(client, simulator, catalog, user="bob", tea=1, cup=1)
    view = await _ask(alice, settings, LineAsk(alice.tea_line, 1), reason="不想要了")
    for call in (
        queries.get_mine(shopper=bob.shopper, aftersale_id=view.id),
        services.cancel_aftersale(shopper=bob.shopper, aftersale_id=view.id),
        services.ship_return(
            shopper=bob.shopper, aftersale_id=view.id, carrier="顺丰速运", tracking_no="SF12345"
        ),
    ):
        with pytest.raises(CommerceError) as caught:
            await call
        assert refused(caught, AfterSaleError.NOT_FOUND)
    assert await queries.list_mine(shopper=bob.shopper) == []
    # another merchant's staff do not find it either
    other = _staff(StaffRole.MERCHANT_OWNER, merchant_id=view.merchant_id + 1000)
    with pytest.raises(CommerceError) as caught:
        await review.approve(aftersale_id=view.id, staff=other, agent_refund_limit_fen=LIMIT)
    assert refused(caught, AfterSaleError.NOT_FOUND)


async def test_an_agent_decides_only_up_to_the_limit(client, simulator, catalog, settings):
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    view = await services.request_whole_refund(
        shopper=bought.shopper, order_id=bought.order_id, reason="不想要了", settings=settings
    )
    agent = _staff(StaffRole.AGENT)
    with pytest.raises(CommerceError) as caught:
        await review.approve(aftersale_id=view.id, staff=agent, agent_refund_limit_fen=view.amount - 1)
    assert refused(caught, AfterSaleError.OVER_AGENT_LIMIT)
    approved = await review.approve(aftersale_id=view.id, staff=agent, agent_refund_limit_fen=view.amount)
    assert approved.status.value == "refunding"
    counts = await queries.count_open(merchant_id=None)
    assert counts["refunding"] == 1


@needs_real_database
async def test_two_requests_racing_for_the_last_units_take_them_once(client, simulator, catalog, settings):
    # given an order with 3 teas, 2 of them asked for already
    bought = await _buy(client, simulator, catalog)
    await _ask(bought, settings, LineAsk(bought.tea_line, 2), reason="不想要了")

    async def ask() -> str:
        try:
            await _ask(bought, settings, LineAsk(bought.tea_line, 1), reason="不想要了")
        except CommerceError as exc:
            return exc.code
        return "ok"

    # when two requests for the last tea arrive at once (several times over, many orders)
    outcomes = await asyncio.gather(*(ask() for _ in range(6)))
    # then exactly one takes it
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) - {"ok"} <= {AfterSaleError.EXCEEDS_LINE.code}
    line = await OrderLine.get(id=bought.tea_line)
    assert (line.refund_quantity, line.refund_amount) == (3, 3000)
    assert (await Order.get(id=bought.order_id)).refunded == 3000


async def test_a_shipped_order_with_an_open_request_waits_to_complete(client, simulator, catalog, settings):
    # given two shipped orders, one with a return under way
    waiting = await _buy(client, simulator, catalog)
    plain = await _buy(client, simulator, catalog, user="bob", tea=1, cup=1)
    for bought in (waiting, plain):
        await _ship(bought.order_id)
    view = await _ask(waiting, settings, LineAsk(waiting.cup_line, 1), reason="发错货", kind="return_refund")
    # when the auto-complete job runs past their time
    with clock.frozen(clock.now() + timedelta(days=settings.order_auto_complete_days + 1)):
        assert await order_services.complete_shipped_orders(after_days=settings.order_auto_complete_days) == 1
    # then only the other completed; the one with the request completes once it is done
    assert (await Order.get(id=waiting.order_id)).status.value == "shipped"
    assert (await Order.get(id=plain.order_id)).status.value == "completed"
    await services.cancel_aftersale(shopper=waiting.shopper, aftersale_id=view.id)
    with clock.frozen(clock.now() + timedelta(days=settings.order_auto_complete_days + 1)):
        assert await order_services.complete_shipped_orders(after_days=settings.order_auto_complete_days) == 1
    assert (await Order.get(id=waiting.order_id)).status.value == "completed"


@pytest.mark.parametrize("outcome", ["CLOSED", "ABNORMAL"])
async def test_a_failed_refund_shows_on_the_request_and_staff_retry_it(
    client, simulator, catalog, settings, outcome
):
    # given WeChat Pay ends the next refund CLOSED (or ABNORMAL)
    bought = await _buy(client, simulator, catalog)
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": outcome})
    view = await _ask(bought, settings, LineAsk(bought.cup_line, 1))

    async def failed() -> bool:
        request = await queries.staff_get(aftersale_id=view.id, merchant_id=None)
        told = any(e.type == "refund_failed" for e in request.timeline)
        return request.refund is not None and request.refund.status == "failed" and told

    await eventually(failed)
    # then staff see it on the request, with what to do
    request = await queries.staff_get(aftersale_id=view.id, merchant_id=None)
    assert request.status.value == "refunding"
    assert request.refund is not None and request.refund.failure_code == outcome
    assert request.refund.retryable is (outcome == "CLOSED")
    assert request.refund.advice
    assert [e.params.get("code") for e in request.timeline if e.type == "refund_failed"] == [outcome]
    # when staff submit it again
    if outcome == "ABNORMAL":  # the money is at WeChat Pay: settled at the merchant platform
        with pytest.raises(CommerceError) as caught:
            await review.retry_refund(aftersale_id=view.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
        assert caught.value.code == "refund_abnormal"
        return
    retried = await review.retry_refund(aftersale_id=view.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
    # then a new refund of the same request goes out and succeeds
    assert retried.refund is not None and retried.refund.out_refund_no != request.refund.out_refund_no
    await _refunded(view.id)
    refunds = await Refund.filter(aftersale_id=view.id).order_by("id")
    assert [(r.status.value, r.amount) for r in refunds] == [("failed", 799), ("succeeded", 799)]
    assert "refund_retried" in [
        e.type for e in (await queries.staff_get(aftersale_id=view.id, merchant_id=None)).timeline
    ]


async def test_staff_find_requests_by_status_kind_and_order_and_note_them(
    client, simulator, catalog, settings
):
    bought = await _buy(client, simulator, catalog)
    await _ship(bought.order_id)
    back = await _ask(bought, settings, LineAsk(bought.tea_line, 1), kind="return_refund", reason="发错货")
    kept = await _ask(bought, settings, LineAsk(bought.cup_line, 1))
    order_no = (await Order.get(id=bought.order_id)).order_no
    found, total = await queries.staff_list(merchant_id=None, kind="return_refund", order_no=order_no)
    assert ([v.id for v in found], total) == ([back.id], 1)
    found, total = await queries.staff_list(merchant_id=None, status="requested")
    assert {v.id for v in found} == {back.id, kept.id} and total == 2
    assert await queries.staff_list(merchant_id=back.merchant_id + 1000) == ([], 0)
    assert await queries.count_open(merchant_id=None) == {
        "requested": 2,
        "awaiting_return": 0,
        "returning": 0,
        "refunding": 0,
    }
    await review.add_note(aftersale_id=kept.id, staff=_staff(), text="已电话联系买家")
    notes = [e.params for e in (await queries.staff_get(aftersale_id=kept.id, merchant_id=None)).timeline]
    assert {"text": "已电话联系买家"} in notes
    mine = await queries.list_mine(shopper=bought.shopper)
    assert [v.id for v in mine] == [kept.id, back.id]
    assert [v.id for v in await queries.of_order(order_id=bought.order_id)] == [back.id, kept.id]


async def test_refund_outcomes_told_again_change_nothing(client, simulator, catalog, settings):
    # given a request refunded, which closed its order, and another whose refund WeChat Pay closed
    bought = await _buy(client, simulator, catalog, tea=1, cup=1)
    await _ship(bought.order_id)
    done = await services.request_whole_refund(
        shopper=bought.shopper, order_id=bought.order_id, reason="质量问题", settings=settings
    )
    await review.approve(aftersale_id=done.id, staff=_staff(), agent_refund_limit_fen=LIMIT)
    await _refunded(done.id)
    other = await _buy(client, simulator, catalog, user="bob")
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "CLOSED"})
    failing = await _ask(other, settings, LineAsk(other.cup_line, 1))

    async def failed() -> bool:
        request = await queries.staff_get(aftersale_id=failing.id, merchant_id=None)
        return any(e.type == "refund_failed" for e in request.timeline)

    await eventually(failed)
    await settle_outbox()

    async def world() -> dict:
        return {
            "requests": sorted(await AfterSale.all().values_list("id", "status", "finished_at")),
            "timelines": await AfterSaleEvent.all().count(),
            "orders": sorted(await Order.all().values_list("id", "status", "refunded", "updated_at")),
            "order_events": await OrderEvent.all().count(),
            "outbox": await OutboxEvent.all().count(),
        }

    before = await world()
    succeeded = await Refund.get(aftersale_id=done.id)
    closed = await Refund.get(aftersale_id=failing.id)
    # when the subscribers hear both outcomes again (an outbox redelivery), and of refunds that
    # belong to no request or to no refund we know
    await handlers.refund_succeeded(
        RefundSucceeded(refund_id=succeeded.id, order_id=bought.order_id, aftersale_id=done.id)
    )
    await handlers.refund_failed(
        RefundFailed(refund_id=closed.id, order_id=other.order_id, aftersale_id=failing.id)
    )
    await handlers.refund_succeeded(RefundSucceeded(refund_id=succeeded.id, order_id=bought.order_id))
    await handlers.refund_failed(RefundFailed(refund_id=closed.id, order_id=other.order_id))
    await handlers.refund_failed(
        RefundFailed(refund_id=10**9, order_id=other.order_id, aftersale_id=failing.id)
    )
    # then nothing moved, nothing was written, nobody is told twice
    assert await world() == before


async def test_an_order_whose_every_unit_is_being_refunded_is_not_shipped(
    client, simulator, catalog, settings
):
    # given everything of a paid order asked back before shipment, whose refund WeChat Pay closed
    bought = await _buy(client, simulator, catalog)
    await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": "CLOSED"})
    view = await services.request_whole_refund(
        shopper=bought.shopper, order_id=bought.order_id, reason="不想要了", settings=settings
    )

    async def failed() -> bool:
        return await Refund.filter(aftersale_id=view.id, status="failed").exists()

    await eventually(failed)
    assert (await Order.get(id=bought.order_id)).status.value == "paid"  # its money is not back yet
    # when the merchant ships it anyway
    with pytest.raises(CommerceError) as caught:
        await order_services.ship_order(
            order_id=bought.order_id, carrier="顺丰速运", tracking_no="SF7654321", actor="staff:1"
        )
    # then it is refused and nothing left
    assert caught.value.code == "invalid_order_status"
    assert (await Order.get(id=bought.order_id)).status.value == "paid"
    assert (await Order.get(id=bought.order_id)).tracking_no == ""
    # and its failed refund is retried only by whom may, and only if it exists
    refund = await Refund.get(aftersale_id=view.id)
    agent = _staff(StaffRole.AGENT)
    for refund_id, staff, code in (
        (refund.id, agent, "refund_over_agent_limit"),
        (10**9, _staff(), "refund_not_found"),
    ):
        with pytest.raises(CommerceError) as caught:
            await payments_review.retry_refund(refund_id=refund_id, staff=staff, agent_refund_limit_fen=100)
        assert caught.value.code == code
    assert await Refund.filter(aftersale_id=view.id).count() == 1
