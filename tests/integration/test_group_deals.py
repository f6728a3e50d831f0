"""拼团 on a real database, through the app: orders wait (grouping) until the N-th member pays,
then are paid together; a group past its deadline refunds every member in full through
after-sales and gives the stock and seats back; a payer whose seat went meanwhile is placed
in a new group of the deal, or refunded when the deal is over; a waiting order is neither
cancelled, refunded by hand nor shipped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales.models import AfterSale
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.errors import CommerceError
from commerce.groupbuy import deals, services
from commerce.groupbuy.models import Group, GroupSeat
from commerce.ledger import queries as ledger
from commerce.orders.models import Order, OrderAdjustment
from commerce.orders.services import ship_order
from commerce.payments.models import Refund
from tests.builders import shopper_with_address
from tests.edges.group_deals import GROUP_PRICE, group_order, joined, tea_deal
from tests.edges.paying import eventually, pay_order
from tests.factories import sku_row

KETTLE = sku_row("KT1", "KT1-1", title="不锈钢水壶", category="家居 > 厨具 > 水壶", price="120.00", stock=10)


async def _status(order: dict) -> str:
    return (await Order.get(id=order["id"])).status.value


async def _group_of(order: dict) -> Group:
    seat = await GroupSeat.get(order_id=order["id"])
    return await Group.get(id=seat.group_id)


async def test_orders_wait_for_the_group_and_are_paid_together_when_the_last_member_pays(client, simulator):
    # given a deal for groups of three, opened by Alice and joined by Bob, both paid
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id)
    # then both wait, and say so to their shoppers
    assert [await _status(alice["order"]), await _status(bob["order"])] == ["grouping", "grouping"]
    shown = await client.get(f"/api/v1/orders/{bob['order']['id']}", headers=bob["shopper"]["headers"])
    detail = await shown.json()
    assert detail["status_label"] == "待成团"
    assert (detail["group"]["id"], detail["group"]["seats_left"]) == (group.id, 1)
    # when Carol pays for the last seat
    carol = await joined(client, simulator, "carol", deal, group.id)
    # then all three are paid at once, each at the group price, and the group succeeded
    for member in (alice, bob, carol):
        assert await _status(member["order"]) == "paid"
        adjustment = await OrderAdjustment.get(order_id=member["order"]["id"], kind="group")
        assert adjustment.amount == GROUP_PRICE - 3000
        assert member["order"]["payable"] == GROUP_PRICE + 1000  # under ¥99: shipping
    group = await Group.get(id=group.id)
    assert (group.status.value, group.taken, group.paid) == ("succeeded", 3, 3)


async def test_a_group_past_its_deadline_refunds_every_member_in_full(client, simulator):
    # given a group of three with two paid members
    deal = await tea_deal(3, minutes=60)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id)
    assert (await Sku.get(id=deal["sku_id"])).stock == 98
    # when its hour passes and the job runs
    with clock.frozen(clock.now() + timedelta(minutes=61)):
        assert await services.expire_groups() == 1

    # then each is refunded in full through after-sales, the orders close, the stock is back
    async def refunded() -> bool:
        requests = await AfterSale.filter(order_id__in=[alice["order"]["id"], bob["order"]["id"]])
        return len(requests) == 2 and all(r.status.value == "refunded" for r in requests)

    await eventually(refunded)
    for member in (alice, bob):
        order = await Order.get(id=member["order"]["id"])
        assert (order.status.value, order.refunded) == ("closed", order.payable)
        request = await AfterSale.get(order_id=order.id)
        assert (request.status.value, request.amount) == ("refunded", order.payable)
    assert (await Sku.get(id=deal["sku_id"])).stock == 100
    # and the books took the money in when paid and gave it back as refunds: nothing owed
    for member in (alice, bob):
        postings = await ledger.entries_of_order(member["order"]["id"])
        assert {p.entry_kind.value for p in postings} >= {"payment", "refund"}
        owed = [p.amount for p in postings if p.account_code.startswith("merchant")]
        assert owed and sum(owed) == 0
    group = await Group.get(id=group.id)
    assert group.status.value == "failed"
    assert await GroupSeat.filter(group_id=group.id, status="refunded").count() == 2
    # and the job finds nothing more to do
    with clock.frozen(clock.now() + timedelta(minutes=62)):
        assert await services.expire_groups() == 0


async def test_with_a_minimum_the_group_succeeds_at_its_deadline(client, simulator):
    deal = await tea_deal(3, minutes=60, least=2)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id)
    with clock.frozen(clock.now() + timedelta(minutes=61)):
        await services.expire_groups()
    assert [await _status(alice["order"]), await _status(bob["order"])] == ["paid", "paid"]
    assert (await Group.get(id=group.id)).status.value == "succeeded"


async def test_a_shopper_cannot_join_their_own_group_twice(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    again = await group_order(client, alice["shopper"], deal, group.id)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "group_already_joined"
    assert (await Group.get(id=group.id)).taken == 1


async def test_a_payer_whose_hold_lapsed_and_whose_group_filled_is_placed_in_a_new_group(
    client, simulator, settings
):
    # given a group of two opened and paid by Alice, and Bob holding the last seat unpaid
    deal = await tea_deal(2)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id, paid=False)
    assert (await Group.get(id=group.id)).taken == 2
    # when Bob's hold lapses, Carol takes the seat and pays, and then Bob pays
    with clock.frozen(clock.now() + timedelta(minutes=settings.group_seat_hold_minutes + 1)):
        assert await services.lapse_holds() == 1
    assert (await Group.get(id=group.id)).taken == 1
    carol = await joined(client, simulator, "carol", deal, group.id)
    await pay_order(client, simulator, bob["shopper"]["headers"], bob["order"]["id"])
    # then the group holds exactly two, and Bob waits in a new group of the deal
    group = await Group.get(id=group.id)
    assert (group.status.value, group.taken, group.paid) == ("succeeded", 2, 2)
    assert [await _status(alice["order"]), await _status(carol["order"])] == ["paid", "paid"]
    assert await _status(bob["order"]) == "grouping"
    new = await _group_of(bob["order"])
    assert (new.id != group.id, new.deal_id, new.taken, new.paid) == (True, deal["deal_id"], 1, 1)


async def test_a_payer_without_a_seat_after_the_deal_ended_is_refunded(client, simulator, settings):
    deal = await tea_deal(2)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id, paid=False)
    with clock.frozen(clock.now() + timedelta(minutes=settings.group_seat_hold_minutes + 1)):
        await services.lapse_holds()
    await joined(client, simulator, "carol", deal, group.id)
    await deals.end_deal(deal_id=deal["deal_id"], merchant_id=None)
    await pay_order(client, simulator, bob["shopper"]["headers"], bob["order"]["id"])

    async def refunded() -> bool:
        refund = await Refund.get_or_none(order_id=bob["order"]["id"])
        return refund is not None and refund.status.value == "succeeded"

    await eventually(refunded)
    assert await _status(bob["order"]) == "closed"
    assert (await Group.get(id=group.id)).paid == 2


async def test_a_waiting_order_is_not_cancelled_refunded_by_hand_nor_shipped(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    order_id, headers = alice["order"]["id"], alice["shopper"]["headers"]
    cancelled = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
    assert (cancelled.status, (await cancelled.json())["error"]["code"]) == (409, "order_waiting_for_group")
    asked = await client.post(
        f"/api/v1/orders/{order_id}/refunds", json={"reason": "不想要了"}, headers=headers
    )
    assert asked.status == 409
    with pytest.raises(CommerceError) as caught:
        await ship_order(order_id=order_id, carrier="顺丰速运", tracking_no="SF1234567", actor="staff:0")
    assert caught.value.code == "invalid_order_status"
    assert await _status(alice["order"]) == "grouping"


async def test_cancelling_an_unpaid_join_gives_the_seat_back(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    bob = await joined(client, simulator, "bob", deal, group.id, paid=False)
    assert (await Group.get(id=group.id)).taken == 2
    cancelled = await client.post(
        f"/api/v1/orders/{bob['order']['id']}/cancel", headers=bob["shopper"]["headers"]
    )
    assert cancelled.status == 200
    assert (await Group.get(id=group.id)).taken == 1
    seat = await GroupSeat.get(order_id=bob["order"]["id"])
    assert (seat.status.value, seat.live_user_id) == ("lapsed", None)


async def test_a_group_of_another_deal_or_none_is_not_found(client, simulator):
    deal = await tea_deal(3)
    alice = await joined(client, simulator, "alice", deal)
    group = await _group_of(alice["order"])
    other = await tea_deal(2)
    bob = await shopper_with_address(client, simulator, "bob")
    for group_id in (group.id, 999_999):
        refused = await group_order(client, bob, other, group_id)
        assert (refused.status, (await refused.json())["error"]["code"]) == (404, "group_not_found")
    assert (await Group.get(id=group.id)).taken == 1


async def test_a_shopper_holds_at_most_the_deals_limit(client, simulator):
    # given a deal of at most 2 units a shopper, and Alice holding 2 in a group she opened
    deal = await tea_deal(3)
    alice = await shopper_with_address(client, simulator, "alice")
    assert (await group_order(client, alice, deal, quantity=2)).status == 201
    # then another group of the deal is refused, and so is one of 3 units at once
    again = await group_order(client, alice, deal)
    assert (again.status, (await again.json())["error"]["code"]) == (409, "group_deal_over_limit")
    bob = await shopper_with_address(client, simulator, "bob")
    three = await group_order(client, bob, deal, quantity=3)
    assert (three.status, (await three.json())["error"]["code"]) == (409, "group_deal_over_limit")


async def test_free_shipping_reads_the_group_price_not_the_list_price(client, simulator):
    # given a ¥120 kettle sold at ¥89 in groups of two (free shipping is from ¥99)
    assert not (await import_rows([KETTLE])).problems
    sku_id = (await Sku.get(sku_code="KT1-1")).id
    deal_id = await deals.create_deal(
        deal=deals.DealInput(
            title="水壶两人团",
            prices={sku_id: 8900},
            group_size=2,
            time_limit_minutes=60,
            per_shopper_limit=1,
            starts_at=clock.now() - timedelta(minutes=1),
            ends_at=clock.now() + timedelta(days=1),
        ),
        merchant_id=None,
    )
    # when a shopper opens a group
    order = (await joined(client, simulator, "alice", {"deal_id": deal_id, "sku_id": sku_id}, paid=False))[
        "order"
    ]
    # then she pays the group price and the ¥10 shipping of an ¥89 order
    assert (order["items_total"], order["payable"]) == (12000, 8900 + 1000)
