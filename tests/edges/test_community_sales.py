"""Community sales through the mini-program API: a checkout in a sale pays the community price
and no shipping, collected at a leader's point; at cut-off the paid orders form one batch per
leader (a cut-off late in the Shanghai evening puts each order in its day's batch, whatever
the UTC date, its unpaid orders cancelled and those paid too late refunded); the leader
stamped at payment is the binding in force then."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from commerce import clock
from commerce.aftersales.models import AfterSale
from commerce.community import batches, sales, stamping
from commerce.community.models import Batch, CommunityOrder
from commerce.errors import CommerceError
from commerce.fulfilment import services as fulfilment
from commerce.orders.models import Order
from commerce.payments.models import Refund
from tests.builders import shopper_with_address
from tests.concurrency import needs_real_database
from tests.edges.community import (
    approved_leader,
    bind,
    open_sale,
    paid_in_sale,
    pay_now,
    place_in_sale,
    seed_groceries,
)
from tests.edges.paying import settle_outbox

DAY = date(2026, 12, 7)


def shanghai(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=clock.SHANGHAI)


async def _batch_of(order_id: int) -> int | None:
    return (await CommunityOrder.get(order_id=order_id)).batch_id


async def test_a_checkout_in_a_sale_pays_the_community_price_and_no_shipping(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 10)):
        # given the platform's sale of eggs (39.90 → 29.90) and milk (15.00 → 9.90) and a leader
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        alice = await shopper_with_address(client, simulator, "alice")
        # when alice previews two eggs and a milk at the leader's point
        items = {skus["C1-EGG"]: 2, skus["C2-MILK"]: 1}
        body = {
            "items": [{"sku_id": k, "quantity": v} for k, v in items.items()],
            "fulfilment": {"kind": "pickup", "pickup_point_id": leader["point_id"]},
            "contact": {"name": "王五", "phone": "13700137000"},
            "community_sale_id": sale_id,
        }
        preview = await (
            await client.post("/api/v1/checkout/preview", json=body, headers=alice["headers"])
        ).json()
        # then she pays the community prices, no shipping
        assert preview["items_total"] == 2 * 3990 + 1500
        assert preview["payable"] == 2 * 2990 + 990 and preview["shipping_fee"] == 0
        # and the sale is listed with its cut-off in Shanghai time
        listed = await (await client.get("/api/v1/community/sales")).json()
        [sale] = listed["items"]
        assert sale["cutoff_at"] == "2026-12-07T23:00:00+08:00"
        assert {i["sku_id"]: i["community_price"] for i in sale["items"]} == {
            skus["C1-EGG"]: 2990,
            skus["C2-MILK"]: 990,
        }
        # when she orders: the order is in the sale, awaiting at the point
        order = await paid_in_sale(
            client, data_dir, alice, sale_id=sale_id, point_id=leader["point_id"], items=items
        )
        assert order["payable"] == 6970 and order["fulfilment"]["status"] == "awaiting"
        row = await CommunityOrder.get(order_id=order["id"])
        assert (row.sale_id, row.pickup_point_id, row.leader_id) == (
            sale_id,
            leader["point_id"],
            leader["id"],
        )


async def test_a_sale_checkout_is_refused_with_stable_codes(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 10)):
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        alice = await shopper_with_address(client, simulator, "alice")
        eggs = {skus["C1-EGG"]: 1}

        async def refused(body_changes: dict, status: int) -> str:
            body = {
                "items": [{"sku_id": skus["C1-EGG"], "quantity": 1}],
                "contact": {"name": "王五", "phone": "13700137000"},
                "community_sale_id": sale_id,
                **body_changes,
            }
            headers = {**alice["headers"], "Idempotency-Key": "k" + str(abs(hash(str(body))))[:20]}
            answer = await client.post("/api/v1/orders", json=body, headers=headers)
            assert answer.status == status, await answer.text()
            return (await answer.json())["error"]["code"]

        # delivery instead of a point
        assert await refused({"address_id": alice["address_id"]}, 400) == "community_pickup_required"
        # a point that is no leader's
        platform = await fulfilment.create_pickup_point(name="平台仓", address="仓库路", merchant_id=None)
        pickup = {"kind": "pickup", "pickup_point_id": platform.id}
        assert await refused({"fulfilment": pickup}, 400) == "community_point_not_leaders"
        # a SKU not in the sale
        other = {"items": [{"sku_id": skus["C3-RICE"], "quantity": 1}]}
        pickup = {"kind": "pickup", "pickup_point_id": leader["point_id"]}
        assert await refused({**other, "fulfilment": pickup}, 400) == "community_sku_not_in_sale"
    # after the cut-off: closed
    with clock.frozen(shanghai(DAY, 23, 0, 1)):
        late = await place_in_sale(client, alice, sale_id=sale_id, point_id=leader["point_id"], items=eggs)
        assert late.status == 409 and (await late.json())["error"]["code"] == "community_sale_closed"


async def test_a_cutoff_late_in_the_shanghai_evening_puts_each_order_in_its_days_batch(
    client, simulator, data_dir
):
    next_day = DAY + timedelta(days=1)
    with clock.frozen(shanghai(DAY, 20)):
        # given today's and tomorrow's sales, each cut off at 23:00 Shanghai (15:00 UTC)
        skus = await seed_groceries()
        today = await open_sale(skus, day=DAY, title="12月7日团购")
        tomorrow = await open_sale(skus, day=next_day, title="12月8日团购")
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        alice, bob, carol, dave = [
            await shopper_with_address(client, simulator, u) for u in ("alice", "bob", "carol", "dave")
        ]
        point, eggs = leader["point_id"], {skus["C1-EGG"]: 1}
    # when alice orders and pays at 22:59 in today's sale
    with clock.frozen(shanghai(DAY, 22, 59)):
        on_time = await paid_in_sale(client, data_dir, alice, sale_id=today, point_id=point, items=eggs)
        # and bob orders at 22:59 but pays only after the cut-off, and dave never pays
        placed = await place_in_sale(client, bob, sale_id=today, point_id=point, items=eggs)
        assert placed.status == 201
        late = await placed.json()
        unpaid = await (await place_in_sale(client, dave, sale_id=today, point_id=point, items=eggs)).json()
    with clock.frozen(shanghai(DAY, 23, 0, 30)):
        await pay_now(client, data_dir, bob, late["id"])
    # and the cut-off job runs a minute after 23:00
    with clock.frozen(shanghai(DAY, 23, 1)):
        assert await batches.cut_off_due_sales() == 1
        # dave's order may not be paid any more: cancelled, its eggs back on sale
        assert (await Order.get(id=unpaid["id"])).status.value == "cancelled"

        # and bob's, paid too late for the batch, is refunded in full through after-sales: the
        # request approved at once, its refund of everything he paid on its way to WeChat Pay
        await settle_outbox()
        request = await AfterSale.get(order_id=late["id"])
        assert (request.kind.value, request.status.value, request.amount) == (
            "refund_only",
            "refunding",
            late["payable"],
        )
        [refund] = await Refund.filter(order_id=late["id"])
        assert (refund.amount, refund.aftersale_id) == (late["payable"], request.id)
    # when carol orders half an hour after midnight (still 7 December in UTC) in tomorrow's sale
    with clock.frozen(shanghai(next_day, 0, 30)):
        listed = await (await client.get("/api/v1/community/sales")).json()
        assert [s["id"] for s in listed["items"]] == [tomorrow]
        after_midnight = await paid_in_sale(
            client, data_dir, carol, sale_id=tomorrow, point_id=point, items=eggs
        )
        assert await batches.cut_off_due_sales() == 0  # tomorrow's cut-off has not come
    with clock.frozen(shanghai(next_day, 23, 1)):
        assert await batches.cut_off_due_sales() == 1
    # then each sale has one batch of the leader: alice's order in today's, carol's in tomorrow's,
    # and bob's (paid after the cut-off) in none
    first = await Batch.get(sale_id=today)
    second = await Batch.get(sale_id=tomorrow)
    assert (first.leader_id, first.order_count, second.order_count) == (leader["id"], 1, 1)
    assert await _batch_of(on_time["id"]) == first.id
    assert await _batch_of(after_midnight["id"]) == second.id
    assert await _batch_of(late["id"]) is None
    # and staff see it on the sale's batches page as paid after the cut-off (and refunded)
    [after] = await batches.paid_after_cutoff(sale_id=today, merchant_id=None)
    assert (after.order_no, after.paid_at) == (late["order_no"], shanghai(DAY, 23, 0, 30))


async def test_the_leader_stamped_at_payment_is_the_binding_in_force_then(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 9)):
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        near = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        bound = await approved_leader(client, simulator, "leader2", "阳光花园")
        alice = await shopper_with_address(client, simulator, "alice")
        dave = await shopper_with_address(client, simulator, "dave")
        # given alice bound to leader2 (by QR), who collects at leader1's nearer point
        await bind(alice["user_id"], bound["id"])
    with clock.frozen(shanghai(DAY, 10)):
        # when she pays
        order = await paid_in_sale(
            client, data_dir, alice, sale_id=sale_id, point_id=near["point_id"], items={skus["C1-EGG"]: 1}
        )
        # and dave, bound to nobody, pays at leader1's point
        unbound = await paid_in_sale(
            client, data_dir, dave, sale_id=sale_id, point_id=near["point_id"], items={skus["C1-EGG"]: 1}
        )
    # then her order earns leader2 (her binding then), his leader1 (the point's)
    assert (await CommunityOrder.get(order_id=order["id"])).leader_id == bound["id"]
    assert (await CommunityOrder.get(order_id=unbound["id"])).leader_id == near["id"]
    # when she switches to leader1 an hour later, and the stamp is (re)done only after that
    with clock.frozen(shanghai(DAY, 11)):
        await bind(alice["user_id"], near["id"])
        await CommunityOrder.filter(order_id=order["id"]).update(leader_id=None, paid_at=None)
        assert await stamping.stamp_orders(order_ids=[order["id"]]) == 1
        assert await stamping.stamp_orders(order_ids=[order["id"]]) == 0  # idempotent
    # then the order keeps the leader of the binding in force when it was paid
    row = await CommunityOrder.get(order_id=order["id"])
    assert row.leader_id == bound["id"] and row.paid_at == shanghai(DAY, 10)
    # and at the cut-off it is batched with the point's leader, who hands it over
    with clock.frozen(shanghai(DAY, 23, 1)):
        await batches.cut_off_due_sales()
    batch = await Batch.get(sale_id=sale_id)
    assert batch.leader_id == near["id"] and batch.order_count == 2


@needs_real_database
async def test_two_cut_off_runners_at_once_form_each_batch_once(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 10)):
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        leaders = [await approved_leader(client, simulator, f"leader{i}", f"驿站{i}") for i in range(3)]
        for i in range(6):
            shopper = await shopper_with_address(client, simulator, f"shopper{i}")
            await paid_in_sale(
                client,
                data_dir,
                shopper,
                sale_id=sale_id,
                point_id=leaders[i % 3]["point_id"],
                items={skus["C2-MILK"]: 1},
            )
    await settle_outbox()
    with clock.frozen(shanghai(DAY, 23, 1)):
        results = await asyncio.gather(*(batches.form_batches(sale_id=sale_id) for _ in range(4)))
    formed = [ids for ids in results if ids]
    assert len(formed) == 1 and len(formed[0]) == 3
    assert await Batch.filter(sale_id=sale_id).count() == 3
    counts = sorted(b.order_count for b in await Batch.filter(sale_id=sale_id))
    assert counts == [2, 2, 2]
    assert await CommunityOrder.filter(sale_id=sale_id, batch_id__isnull=True).count() == 0


async def test_a_sale_is_published_before_its_cutoff_and_cancelled_only_before_it(client, simulator):
    with clock.frozen(shanghai(DAY, 22)):
        skus = await seed_groceries()
        # a cut-off already past (today 21:00) is refused; tomorrow 01:00 is the next day's
        past = await _refusal(lambda: open_sale(skus, day=DAY, hour=21))
        assert past == "community_sale_invalid"
        early = await open_sale(skus, day=DAY + timedelta(days=1), hour=1, title="明日凌晨")
        assert (await sales.sale_view(early)).cutoff_shanghai == "2026-12-08 01:00"
        # a price above the list price is refused
        dear = await _refusal(
            lambda: sales.create_sale(
                title="贵",
                sale_date=DAY,
                items=[(skus["C1-EGG"], 3991)],
                merchant_id=None,
                cutoff_hour=23,
                actor="staff:1",
            )
        )
        assert dear == "community_price_invalid"
        today = await open_sale(skus, day=DAY)
    # after its cut-off a sale cannot be cancelled any more
    with clock.frozen(shanghai(DAY, 23, 0, 1)):
        late = await _refusal(
            lambda: sales.cancel_sale(sale_id=today, staff_merchant_id=None, actor="staff:1")
        )
        assert late == "community_sale_invalid_status"
    with clock.frozen(shanghai(DAY, 23, 30)):
        cancelled = await sales.cancel_sale(sale_id=early, staff_merchant_id=None, actor="staff:1")
        assert cancelled.status.value == "cancelled"
        # a cancelled sale forms no batch at its cut-off, and is not listed
        assert [s.id for s in await sales.open_sales()] == []
    with clock.frozen(shanghai(DAY + timedelta(days=1), 1, 1)):
        assert await batches.form_batches(sale_id=early) == []


async def _refusal(call) -> str:
    try:
        await call()
    except CommerceError as error:
        return error.code
    raise AssertionError("not refused")


async def test_a_leaders_point_collects_community_sales_only(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 10)):
        # given a leader's open point and rice, which is in no sale
        skus = await seed_groceries()
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        alice = await shopper_with_address(client, simulator, "alice")
        body = {
            "items": [{"sku_id": skus["C3-RICE"], "quantity": 1}],
            "fulfilment": {"kind": "pickup", "pickup_point_id": leader["point_id"]},
            "contact": {"name": "王五", "phone": "13700137000"},
        }
        # when alice checks out rice for pickup at the leader's point, outside any sale
        answer = await client.post("/api/v1/checkout/preview", json=body, headers=alice["headers"])
        # then she is refused, and an ordinary checkout never offers the leader's point
        assert answer.status == 400
        assert (await answer.json())["error"]["code"] == "pickup_point_community_only"
        body.pop("fulfilment")
        preview = await (
            await client.post("/api/v1/checkout/preview", json=body, headers=alice["headers"])
        ).json()
        assert leader["point_id"] not in [point["id"] for point in preview["pickup_points"]]
        # and the pickup-points page cannot open or close it: the leader's review does
        try:
            await fulfilment.set_pickup_point_active(
                point_id=leader["point_id"], staff_merchant_id=None, active=False, actor="staff:1"
            )
        except CommerceError as refused:
            assert refused.code == "pickup_point_leader_managed"
        else:
            raise AssertionError("a leader's point was closed from the pickup-points page")


async def test_a_cancelled_sale_refunds_what_was_paid_and_cancels_what_was_not(client, simulator, data_dir):
    with clock.frozen(shanghai(DAY, 10)):
        # given alice's paid order and bob's unpaid one in today's sale
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        alice, bob = [await shopper_with_address(client, simulator, u) for u in ("alice", "bob")]
        eggs = {skus["C1-EGG"]: 2}
        paid = await paid_in_sale(
            client, data_dir, alice, sale_id=sale_id, point_id=leader["point_id"], items=eggs
        )
        placed = await place_in_sale(client, bob, sale_id=sale_id, point_id=leader["point_id"], items=eggs)
        unpaid = await placed.json()
        # when the platform cancels the sale before its cut-off
        await sales.cancel_sale(sale_id=sale_id, staff_merchant_id=None, actor="staff:1")
        await settle_outbox()
        # then bob's order can no longer be paid, and alice is refunded all she paid
        assert (await Order.get(id=unpaid["id"])).status.value == "cancelled"
        request = await AfterSale.get(order_id=paid["id"])
        assert (request.status.value, request.amount) == ("refunding", paid["payable"])
        [refund] = await Refund.filter(order_id=paid["id"])
        assert refund.amount == paid["payable"]
        # and no batch is ever formed for it
    with clock.frozen(shanghai(DAY, 23, 1)):
        assert await batches.cut_off_due_sales() == 0
        assert not await Batch.filter(sale_id=sale_id).exists()
