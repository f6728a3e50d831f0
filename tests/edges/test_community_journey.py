"""One community order from end to end, through every part the community group-buy is made of:
a leader approved, a shopper bound by the leader's share link, an order in the day's sale paid
through WeChat Pay, the leader stamped and their commission pending in the books, the batch
formed at the cut-off, arrived, the code verified by the leader, and the commission earned
after the after-sales window; the books balanced after each step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from commerce import clock
from commerce.community import batches, commission_earning, commission_queries
from commerce.community import queries as community_queries
from commerce.community.models import Batch, CommunityOrder
from commerce.ledger import checks
from tests.builders import shopper_with_address
from tests.edges.community import approved_leader, open_sale, paid_in_sale, seed_groceries
from tests.edges.paying import settle_outbox

DAY = date(2026, 12, 7)


def shanghai(hour: int, *, days: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=clock.SHANGHAI) + timedelta(days=days)


async def _balanced() -> None:
    assert (await checks.check_balances()).differences == []


async def test_a_community_order_from_the_share_link_to_the_leaders_earned_commission(
    client, simulator, data_dir, settings
):
    with clock.frozen(shanghai(10)):
        # given an approved leader and today's sale of eggs at 29.90 (list 39.90)
        skus = await seed_groceries()
        sale_id = await open_sale(skus, day=DAY)
        leader = await approved_leader(client, simulator, "leader1", "幸福里驿站")
        share_code = (await community_queries.get_leader(leader["id"])).share_code
        alice = await shopper_with_address(client, simulator, "alice")
        # when alice opens the leader's share link: she is bound to them
        bound = await client.post(
            "/api/v1/community/bind", json={"share_code": share_code}, headers=alice["headers"]
        )
        assert bound.status == 200, await bound.text()
        # and buys two boxes of eggs in the sale, collected at the leader's point, and pays
        order = await paid_in_sale(
            client, data_dir, alice, sale_id=sale_id, point_id=leader["point_id"], items={skus["C1-EGG"]: 2}
        )
        await settle_outbox()
        # then she paid the community price, the leader is stamped on the order, and their
        # commission (10 % of 59.80) is pending
        assert order["payable"] == 5980
        assert (await CommunityOrder.get(order_id=order["id"])).leader_id == leader["id"]
        earnings = await (await client.get("/api/v1/leader/earnings", headers=leader["headers"])).json()
        assert (earnings["pending"], earnings["earned"], earnings["available"]) == (598, 0, 0)
        await _balanced()
    # when the sale is cut off, and its batch arrives at the point the next morning
    with clock.frozen(shanghai(23, days=0) + timedelta(minutes=1)):
        assert await batches.cut_off_due_sales() == 1
    batch = await Batch.get(sale_id=sale_id)
    with clock.frozen(shanghai(8, days=1)):
        await batches.dispatch_batch(batch_id=batch.id, staff_merchant_id=None, actor="staff:1")
        await batches.arrive_batch(batch_id=batch.id, staff_merchant_id=None, actor="staff:1")
        await settle_outbox()
        shown = await (await client.get(f"/api/v1/orders/{order['id']}", headers=alice["headers"])).json()
        code = shown["fulfilment"]["pickup_code"]
    # and alice collects it at noon: the leader verifies her code
    with clock.frozen(shanghai(12, days=1)):
        verified = await client.post(
            "/api/v1/leader/pickups/verify", json={"code": code}, headers=leader["headers"]
        )
        assert verified.status == 200, await verified.text()
        # the commission is not earned while the after-sales window runs
        assert await commission_earning.settle_due(window_days=7, default_bps=1000) == 0
    # then, the window over, the hourly job earns it: withdrawable, the books balanced
    with clock.frozen(shanghai(13, days=8)):
        assert await commission_earning.settle_due(window_days=7, default_bps=1000) == 1
        earned = await commission_queries.earnings(user_id=leader["user_id"])  # (their session ended)
        assert (earned.pending, earned.earned, earned.available) == (0, 598, 598)
        await _balanced()
