"""A community batch from cut-off to pickup: the picking list (Excel read back, CSV, totals per
SKU) adds up to the batch's orders; dispatched then arrived, each order is ready with a code
its shopper is told; the leader verifies a code once, at their own point only, and sees only
their own batches; an order left waiting is flagged to the leader and the platform."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook

from commerce import clock
from commerce.community import batches, picking, pickups
from commerce.community.models import Batch, Leader
from commerce.community.states import LeaderStatus
from tests.builders import shopper_with_address
from tests.edges.community import approved_leader, open_sale, paid_in_sale, seed_groceries
from tests.edges.paying import settle_outbox, sim

DAY = date(2026, 12, 7)
PICKUP = "sim-tmpl-pickup-ready"


def shanghai(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=clock.SHANGHAI) + timedelta(days=days)


async def _world(client, simulator, data_dir) -> dict:
    """Two leaders; alice (2 eggs, 1 milk) and bob (1 egg) at leader1's point, carol (3 milk) at
    leader2's; cut off."""
    for user in ("alice", "bob", "carol"):  # followers of the official account (real time: WeChat's)
        await sim(simulator, "POST", "/mp/send", {"user": user, "type": "event", "event": "subscribe"})
    with clock.frozen(shanghai(10)):
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        one = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        two = await approved_leader(client, simulator, "leader2", "阳光花园")
        shoppers = {u: await shopper_with_address(client, simulator, u) for u in ("alice", "bob", "carol")}
        eggs, milk = skus["C1-EGG"], skus["C2-MILK"]
        wanted = {
            "alice": (one, {eggs: 2, milk: 1}),
            "bob": (one, {eggs: 1}),
            "carol": (two, {milk: 3}),
        }
        orders = {
            user: await paid_in_sale(
                client, data_dir, shoppers[user], sale_id=sale_id, point_id=leader["point_id"], items=items
            )
            for user, (leader, items) in wanted.items()
        }
    with clock.frozen(shanghai(23, 1)):
        await batches.cut_off_due_sales()
    return {
        "sale_id": sale_id,
        "skus": skus,
        "leaders": (one, two),
        "shoppers": shoppers,
        "orders": orders,
        "batch": await Batch.get(sale_id=sale_id, leader_id=one["id"]),
        "other_batch": await Batch.get(sale_id=sale_id, leader_id=two["id"]),
    }


async def test_the_picking_list_adds_up_to_the_batchs_orders(client, simulator, data_dir):
    w = await _world(client, simulator, data_dir)
    eggs, milk = w["skus"]["C1-EGG"], w["skus"]["C2-MILK"]
    # leader1 sees today's orders at their point, not yet arrived
    with clock.frozen(shanghai(12)):
        today = await (await client.get("/api/v1/leader/today", headers=w["leaders"][0]["headers"])).json()
    assert {o["order_no"]: o["pickup_status"] for o in today["items"]} == {
        w["orders"]["alice"]["order_no"]: "awaiting",
        w["orders"]["bob"]["order_no"]: "awaiting",
    }
    assert all(o["phone"] == "137****7000" and o["batch_id"] == w["batch"].id for o in today["items"])
    # when the warehouse exports leader1's batch's picking list
    found = await picking.picking_list(batch_id=w["batch"].id, merchant_id=None)
    book = load_workbook(io.BytesIO(picking.picking_xlsx(found)))
    # then the lines are the batch's orders, the shoppers masked
    rows = list(book["拣货单"].iter_rows(values_only=True))
    header = rows.index(picking.LINE_COLUMNS)
    lines = [r for r in rows[header + 1 :] if r and r[0]]
    numbers = {w["orders"]["alice"]["order_no"], w["orders"]["bob"]["order_no"]}
    assert {r[0] for r in lines} == numbers
    assert all(r[1] == "王*" and r[2] == "137****7000" for r in lines)
    # and the totals per SKU equal what the lines, and the orders, hold
    totals = {r[0]: r[3] for r in list(book["SKU汇总"].iter_rows(values_only=True))[1:]}
    from_lines: dict[int, int] = {}
    for r in lines:
        from_lines[r[3]] = from_lines.get(r[3], 0) + r[6]
    assert totals == from_lines == {eggs: 3, milk: 1}
    # and the CSV (with a BOM, for Excel) says the same
    text = picking.picking_csv(found)
    assert text.startswith("\ufeff".encode())
    csv_rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert sum(int(r[6]) for r in csv_rows if r and r[0] in numbers) == 4
    # and across the sale's batches: leader2's milk too
    sale = {t.sku_id: t.quantity for t in await picking.sale_totals(sale_id=w["sale_id"], merchant_id=None)}
    assert sale == {eggs: 3, milk: 4}


async def test_a_pickup_code_verifies_once_at_the_right_point_by_the_right_leader(
    client, simulator, data_dir
):
    w = await _world(client, simulator, data_dir)
    one, two = w["leaders"]
    alice = w["shoppers"]["alice"]
    # when the batch is dispatched and arrives at leader1's point
    with clock.frozen(shanghai(8, days=1)):
        await batches.dispatch_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        arrived = await batches.arrive_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        await settle_outbox()
    assert arrived.status.value == "arrived" and arrived.arrived_at == shanghai(8, days=1)
    # then alice sees her code, and the official account told her, with the code
    order = w["orders"]["alice"]
    shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=alice["headers"])).json()
    code = shown["fulfilment"]["pickup_code"]
    assert shown["fulfilment"]["status"] == "ready" and code.isdigit()
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    [notice] = [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]
    assert order["order_no"] in notice and "幸福里驿站" in notice and code in notice
    # carol's order (leader2's batch, not arrived) is not ready: nothing said to her
    _, log = await sim(simulator, "GET", "/mp/messages?user=carol")
    assert [m for m in log["messages"] if m["direction"] == "custom"] == []

    async def verify(headers: dict, given: str):
        return await client.post("/api/v1/leader/pickups/verify", json={"code": given}, headers=headers)

    async def error(answer) -> tuple[int, str]:
        return answer.status, (await answer.json())["error"]["code"]

    # when leader2 tries alice's code at their own point: another point's code
    assert await error(await verify(two["headers"], code)) == (409, "pickup_wrong_point")
    # a shopper who is no leader may not verify
    assert await error(await verify(w["shoppers"]["bob"]["headers"], code)) == (403, "leader_not_applied")
    # nor may a leader suspended since
    await Leader.filter(id=one["id"]).update(status=LeaderStatus.SUSPENDED)
    assert await error(await verify(one["headers"], code)) == (403, "leader_not_approved")
    await Leader.filter(id=one["id"]).update(status=LeaderStatus.APPROVED)
    # leader1 verifies it: the order is completed
    ok = await verify(one["headers"], code)
    assert ok.status == 200, await ok.text()
    assert (await ok.json()) == {"order_id": order["id"], "order_no": order["order_no"]}
    shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=alice["headers"])).json()
    assert shown["status"] == "completed" and shown["fulfilment"]["status"] == "picked_up"
    # and once only
    assert await error(await verify(one["headers"], code)) == (409, "pickup_code_used")
    # the leader sees their own batch and its orders; another leader's batch is not found
    mine = await (await client.get("/api/v1/leader/batches", headers=one["headers"])).json()
    assert [b["id"] for b in mine["items"]] == [w["batch"].id] and mine["items"][0]["status"] == "arrived"
    listed = await client.get(f"/api/v1/leader/batches/{w['batch'].id}/orders", headers=one["headers"])
    statuses = {o["order_no"]: o["pickup_status"] for o in (await listed.json())["items"]}
    assert statuses == {order["order_no"]: "picked_up", w["orders"]["bob"]["order_no"]: "ready"}
    theirs = await client.get(f"/api/v1/leader/batches/{w['other_batch'].id}/orders", headers=one["headers"])
    assert await error(theirs) == (404, "community_batch_not_found")


async def test_an_order_left_at_the_point_is_flagged_to_its_leader_and_the_platform(
    client, simulator, data_dir, wired_settings
):
    w = await _world(client, simulator, data_dir)
    one, _ = w["leaders"]
    with clock.frozen(shanghai(8, days=1)):
        await batches.dispatch_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        await batches.arrive_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        await settle_outbox()
    code = (
        await (
            await client.get(
                f"/api/v1/orders/{w['orders']['bob']['id']}", headers=w["shoppers"]["bob"]["headers"]
            )
        ).json()
    )["fulfilment"]["pickup_code"]
    assert (
        await client.post("/api/v1/leader/pickups/verify", json={"code": code}, headers=one["headers"])
    ).status == 200
    days = wired_settings.community_unclaimed_days
    # when the job runs a day before the limit: nothing
    with clock.frozen(shanghai(9, days=days)):
        assert await pickups.flag_unclaimed(after_days=days) == 0
    # when it runs after: alice's order (bob picked his up) is flagged, once
    with clock.frozen(shanghai(9, days=days + 1)):
        assert await pickups.flag_unclaimed(after_days=days) == 1
        assert await pickups.flag_unclaimed(after_days=days) == 0
    [flag] = await pickups.unclaimed()
    assert flag.order_id == w["orders"]["alice"]["id"] and flag.still_waiting
    # and the leader sees it on the batch's orders
    listed = await client.get(f"/api/v1/leader/batches/{w['batch'].id}/orders", headers=one["headers"])
    unclaimed = {o["order_no"] for o in (await listed.json())["items"] if o["unclaimed"]}
    assert unclaimed == {w["orders"]["alice"]["order_no"]}


async def test_a_shopper_who_unfollowed_gets_the_pickup_code_by_subscribe_message(
    client, simulator, data_dir
):
    w = await _world(client, simulator, data_dir)
    # given Bob stopped following the official account, and accepted the pickup notice in the
    # mini-program (the shop was told)
    await sim(simulator, "POST", "/mp/send", {"user": "bob", "type": "event", "event": "unsubscribe"})
    _, answer = await sim(
        simulator, "POST", "/wx/subscribe", {"user": "bob", "template_ids": [PICKUP], "decision": "accept"}
    )
    bob = w["shoppers"]["bob"]
    reported = await client.post(
        "/api/v1/subscriptions", json={"results": answer["results"]}, headers=bob["headers"]
    )
    assert reported.status == 200, await reported.text()
    # when the batch arrives at the point
    with clock.frozen(shanghai(8, days=1)):
        await batches.dispatch_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        await batches.arrive_batch(batch_id=w["batch"].id, staff_merchant_id=None, actor="staff:1")
        await settle_outbox()
    # then Bob's phone shows his code and the point, opening his order
    order = w["orders"]["bob"]
    shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=bob["headers"])).json()
    _, log = await sim(simulator, "GET", "/wx/subscribe-messages?user=bob")
    [message] = log["messages"]
    assert message["template_id"] == PICKUP
    assert message["data"] == {
        "thing1": "土鸡蛋 30枚",
        "character_string2": shown["fulfilment"]["pickup_code"],
        "thing3": "幸福里驿站",
    }
    assert message["page"] == f"pages/order/index?id={order['id']}"
    # while Alice, who follows, heard it from the official account alone
    _, log = await sim(simulator, "GET", "/wx/subscribe-messages?user=alice")
    assert log["messages"] == []
    _, log = await sim(simulator, "GET", "/mp/messages?user=alice")
    assert [m for m in log["messages"] if m["direction"] == "custom"]
