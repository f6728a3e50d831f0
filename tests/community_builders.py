"""Community group-buy builders for the commission tests, until the leaders' and sales'
services are merged: an approved leader with an open point, a day's sale, and a pickup order
at the leader's point stamped as a community order with its leader (what the sales checkout
does at payment). At merge, the lead switches these to those services; the tests keep their
calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from commerce import clock
from commerce.community.models import CommunityOrder, CommunitySale, Leader
from commerce.community.states import LeaderStatus
from commerce.fulfilment import services as fulfilment
from commerce.ledger.services import is_posted
from commerce.users.models import User
from tests.builders import shopper_with_address
from tests.edges.paying import eventually, pay_order


@dataclass(frozen=True)
class LeaderRow:
    id: int
    user_id: int
    point_id: int
    name: str


async def approved_leader(*, user_id: int | None = None, name: str = "王团长") -> LeaderRow:
    """An approved leader (a new user unless given) with an open platform pickup point."""
    if user_id is None:
        user_id = (await User.create(openid=f"o-leader-{uuid.uuid4().hex[:12]}")).id
    point = await fulfilment.create_pickup_point(
        name=f"{name}的自提点", address="幸福小区 3 栋 101", merchant_id=None, opening_hours="每天 9:00-21:00"
    )
    now = clock.now()
    leader = await Leader.create(
        user_id=user_id,
        name=name,
        phone="13900139000",
        status=LeaderStatus.APPROVED,
        pickup_point_id=point.id,
        share_code=uuid.uuid4().hex[:12],
        applied_at=now,
        reviewed_at=now,
        reviewed_by="staff:1",
        updated_at=now,
    )
    return LeaderRow(leader.id, user_id, point.id, name)


async def community_sale(*, merchant_id: int | None = None, title: str = "今日社区团购") -> int:
    """An open sale of today, cut off in a day."""
    now = clock.now()
    sale = await CommunitySale.create(
        title=title,
        merchant_id=merchant_id,
        sale_date=clock.to_shanghai(now).date(),
        starts_at=now,
        cutoff_at=now + timedelta(days=1),
        created_by="staff:1",
        created_at=now,
    )
    return sale.id


async def stamp_community_order(*, order_id: int, user_id: int, sale_id: int, leader: LeaderRow) -> None:
    """The order as a community order of the sale, collected at the leader's point, the leader
    stamped (as at payment)."""
    now = clock.now()
    await CommunityOrder.create(
        order_id=order_id,
        sale_id=sale_id,
        user_id=user_id,
        pickup_point_id=leader.point_id,
        leader_id=leader.id,
        paid_at=now,
        created_at=now,
    )


async def place_pickup_order(client, shopper: dict, point_id: int, items: list[tuple[int, int]]) -> dict:
    """The shopper's order of (sku id, quantity) for pickup at the point; the created order."""
    placed = await client.post(
        "/api/v1/orders",
        json={
            "items": [{"sku_id": s, "quantity": q} for s, q in items],
            "address_id": shopper["address_id"],
            "fulfilment": {"kind": "pickup", "pickup_point_id": point_id},
        },
        headers={**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, await placed.text()
    return await placed.json()


async def picked_up(order_id: int, point_id: int) -> None:
    """The order made ready at its point and collected with its code (the order completes)."""
    ready = await fulfilment.mark_ready_for_pickup(order_id=order_id, merchant_id=None, actor="staff:1")
    await fulfilment.verify_pickup(
        point_id=point_id, code=ready.pickup_code, merchant_id=None, actor="staff:1"
    )


async def paid_community_order(client, simulator, name: str, leader: LeaderRow, sale_id: int, items) -> int:
    """A new shopper's pickup order of (sku id, quantity) at the leader's point, stamped with
    the leader, paid; its commission accrued. The order's id."""
    who = await shopper_with_address(client, simulator, name)
    order = await place_pickup_order(client, who, leader.point_id, items)
    await stamp_community_order(order_id=order["id"], user_id=who["user_id"], sale_id=sale_id, leader=leader)
    await pay_order(client, simulator, who["headers"], order["id"])
    await eventually(lambda: is_posted(f"leader_commission:{order['id']}:accrued"))
    return order["id"]
