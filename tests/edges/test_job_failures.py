"""Scheduled jobs handle their items one by one: an item that fails (here a row the database
refuses to change, or WeChat Pay failing one query) is recorded with its error for the platform
admin, tried again by a later run after a backoff, and never keeps the other items waiting; a
later success resolves its record."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from tortoise import Tortoise

from commerce import clock
from commerce.aftersales.models import AfterSale
from commerce.aftersales.review import approve_overdue
from commerce.catalog.models import Sku
from commerce.jobs.models import JobFailure
from commerce.orders.models import Order
from commerce.orders.services import complete_shipped_orders, ship_order
from commerce.payments.models import Refund
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from commerce.support import conversations as support
from commerce.support.models import Conversation
from commerce.support.states import ConversationStatus
from scheduler import JOBS, run_job_once
from shop.app import CORE
from tests.builders import PASSWORD, add_staff, shopper_with_address, sign_in
from tests.conftest import on_mysql
from tests.edges.paying import eventually, pay_order, sim
from tests.edges.shoppers import order_sku
from tests.factories import seed_small_catalog

REFUSAL = "row refused by the test"


@asynccontextmanager
async def refusing_updates(table: str, row_id: int):
    """The database refuses every change to one row (a trigger), as a corrupt or locked row
    would; nothing else is touched."""
    conn = Tortoise.get_connection("default")
    name = f"refuse_{table}_{row_id}"
    if on_mysql():
        create = (
            f"CREATE TRIGGER `{name}` BEFORE UPDATE ON `{table}` FOR EACH ROW BEGIN IF OLD.id = {row_id}"
            f" THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'; END IF; END"
        )
        drop = f"DROP TRIGGER IF EXISTS `{name}`"
    else:
        create = (
            f'CREATE TRIGGER "{name}" BEFORE UPDATE ON "{table}" WHEN OLD.id = {row_id}'
            f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
        drop = f'DROP TRIGGER IF EXISTS "{name}"'
    await conn.execute_script(create)
    try:
        yield
    finally:
        await conn.execute_script(drop)


async def _run(client, name: str, at: float) -> None:
    """The scheduler fires this job for the period holding `at` (a Unix time)."""
    schedule = next(s for s in JOBS if s.name == name)
    assert await run_job_once(client.app[CORE], schedule, now=at)


async def _statuses(orders: list[dict]) -> list[str]:
    return [(await Order.get(id=o["id"])).status.value for o in orders]


async def test_an_order_that_cannot_be_cancelled_is_recorded_and_the_others_still_are(client, simulator):
    # given three unpaid orders past their deadline, the oldest of which the database refuses
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator)
    orders = [await order_sku(client, alice) for _ in range(3)]
    stuck = orders[0]
    later = clock.now() + timedelta(minutes=31)
    async with refusing_updates("shop_order", stuck["id"]):
        # when the scheduler's job runs
        with clock.frozen(later):
            await _run(client, "cancel_unpaid_orders", 1_000_000.0)
        # then the others are cancelled and their stock is back; the stuck one waits, recorded
        assert await _statuses(orders) == ["pending_payment", "cancelled", "cancelled"]
        assert (await Sku.get(sku_code="P2-W")).stock == 29
        failure = await JobFailure.get(item_id=stuck["id"])
        assert (failure.job, failure.item_kind, failure.attempts, failure.resolved_at) == (
            "cancel_expired_orders",
            "order",
            1,
            None,
        )
        assert REFUSAL in failure.error
        # and the platform admin sees it, with the order and the error
        await create_platform_admin(username="boss", password=PASSWORD)
        assert (await sign_in(client, "boss")).status == 302
        page = await (await client.get("/admin/jobs")).text()
        assert f'data-item="order:{stuck["id"]}"' in page and REFUSAL in page
        assert "超时未支付订单自动取消" in page and f"/admin/orders/{stuck['id']}" in page
        # when the job runs again a moment later, the failing order is left alone (backoff)
        with clock.frozen(later + timedelta(seconds=30)):
            await _run(client, "cancel_unpaid_orders", 1_000_060.0)
        assert (await JobFailure.get(id=failure.id)).attempts == 1
        # and once its backoff has passed it is tried again, and fails again
        with clock.frozen(later + timedelta(minutes=2)):
            await _run(client, "cancel_unpaid_orders", 1_000_120.0)
        again = await JobFailure.get(id=failure.id)
        assert again.attempts == 2 and again.retry_at > clock.now() + timedelta(minutes=3)
    # when the row can be changed again and a later run comes
    with clock.frozen(later + timedelta(minutes=10)):
        await _run(client, "cancel_unpaid_orders", 1_000_600.0)
    # then it is cancelled, its failure resolved and no longer listed as failing
    assert await _statuses(orders) == ["cancelled"] * 3
    assert (await Sku.get(sku_code="P2-W")).stock == 30
    assert (await JobFailure.get(id=failure.id)).resolved_at is not None
    page = await (await client.get("/admin/jobs")).text()
    assert f'data-item="order:{stuck["id"]}"' not in page and "目前没有失败的项目" in page
    history = await (await client.get("/admin/jobs?all=1")).text()
    assert f'data-item="order:{stuck["id"]}"' in history and "已恢复" in history


async def test_only_the_platform_admin_sees_the_failing_items(client, simulator):
    await add_staff("agent1", StaffRole.AGENT)
    assert (await sign_in(client, "agent1")).status == 302
    assert (await client.get("/admin/jobs")).status == 403
    assert "/admin/jobs" not in await (await client.get("/admin/")).text()


async def test_a_shipped_order_that_cannot_be_completed_does_not_hold_up_the_others(client, simulator):
    # given two orders shipped long ago, the first of which the database refuses
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator)
    orders = [await order_sku(client, alice) for _ in range(2)]
    for n, order in enumerate(orders):
        await pay_order(client, simulator, alice["headers"], order["id"])
        await ship_order(
            order_id=order["id"], carrier="顺丰速运", tracking_no=f"SF000000000{n}", actor="staff:1"
        )
    days = client.app[CORE].settings.order_auto_complete_days
    with clock.frozen(clock.now() + timedelta(days=days, hours=1)):
        async with refusing_updates("shop_order", orders[0]["id"]):
            # when the job runs, the second is completed and the first recorded
            assert await complete_shipped_orders(after_days=days) == 1
        assert await _statuses(orders) == ["shipped", "completed"]
        assert (await JobFailure.get(item_id=orders[0]["id"])).job == "complete_shipped_orders"
    # and a later run completes it and resolves its failure
    with clock.frozen(clock.now() + timedelta(days=days, hours=2)):
        assert await complete_shipped_orders(after_days=days) == 1
    assert await _statuses(orders) == ["completed", "completed"]
    assert await JobFailure.filter(resolved_at=None).count() == 0


async def test_reconciliation_goes_on_past_a_refund_wechat_pay_fails_to_answer(client, simulator):
    # given two refunds whose notifications were lost
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator)
    orders = [await order_sku(client, alice) for _ in range(2)]
    for order in orders:
        await pay_order(client, simulator, alice["headers"], order["id"])
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 2})
    for order in orders:
        response = await client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
        )
        assert response.status == 201

    async def both_refunded_at_wechat_only() -> bool:
        _, state = await sim(simulator, "GET", "/pay/state")
        done = [r["status"] for r in state["refunds"].values()] == ["SUCCESS", "SUCCESS"]
        return done and await Refund.filter(status="processing").count() == 2

    await eventually(both_refunded_at_wechat_only)
    first = await Refund.filter(status="processing").order_by("updated_at", "id").first()
    # when WeChat Pay fails the first query of the reconciliation run
    await sim(simulator, "POST", "/wx/faults", {"api": "refund_query", "http_status": 500, "times": 1})
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        await _run(client, "reconcile_payments", 2_000_000.0)
    # then the other refund is finished, and the failed one recorded
    assert sorted(await _statuses(orders)) == ["closed", "paid"]
    failure = await JobFailure.get(item_kind="refund", item_id=first.id)
    assert failure.job == "reconcile_payments" and failure.resolved_at is None
    # and the next run after its backoff finishes it too
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        await _run(client, "reconcile_payments", 2_000_360.0)
    assert await _statuses(orders) == ["closed", "closed"]
    assert (await JobFailure.get(id=failure.id)).resolved_at is not None


async def test_an_idle_conversation_that_cannot_be_closed_does_not_keep_the_others_open(db):
    # given two conversations idle past the limit, the first of which the database refuses
    start = clock.now()
    with clock.frozen(start) as frozen:
        stuck, _ = await support.open_conversation(openid="o-stuck", user_id=None, reason="keyword")
        other, _ = await support.open_conversation(openid="o-other", user_id=None, reason="keyword")
        frozen.advance(timedelta(minutes=31))
        async with refusing_updates("support_conversation", stuck.id):
            # when the job runs, the other is closed and the stuck one recorded
            assert await support.close_idle_conversations(idle_minutes=30) == 1
        failure = await JobFailure.get(item_kind="conversation", item_id=stuck.id)
        assert failure.job == "close_idle_conversations" and REFUSAL in failure.error
        # and after its backoff a later run closes it and resolves the failure
        frozen.advance(timedelta(minutes=2))
        assert await support.close_idle_conversations(idle_minutes=30) == 1
    statuses = await Conversation.filter(id__in=[stuck.id, other.id]).values_list("status", flat=True)
    assert set(statuses) == {ConversationStatus.CLOSED}
    assert (await JobFailure.get(id=failure.id)).resolved_at is not None


async def test_an_after_sales_request_that_cannot_be_approved_by_itself_does_not_hold_up_the_others(
    client, simulator
):
    # given two shipped orders whose whole refunds waited for review past their time, the first
    # of which the database refuses to move
    await seed_small_catalog()
    alice = await shopper_with_address(client, simulator)
    orders = [await order_sku(client, alice) for _ in range(2)]
    asked = []
    for n, order in enumerate(orders):
        await pay_order(client, simulator, alice["headers"], order["id"])
        await ship_order(
            order_id=order["id"], carrier="顺丰速运", tracking_no=f"SF100000000{n}", actor="staff:1"
        )
        response = await client.post(
            f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=alice["headers"]
        )
        assert response.status == 201, await response.text()
        asked.append((await AfterSale.get(order_id=order["id"])).id)
    hours = client.app[CORE].settings.aftersales_review_hours

    async def statuses() -> list[str]:
        return [(await AfterSale.get(id=i)).status.value for i in asked]

    with clock.frozen(clock.now() + timedelta(hours=hours, minutes=1)):
        async with refusing_updates("aftersale", asked[0]):
            # when the job runs, the second is approved and the first recorded
            assert await approve_overdue() == 1
        assert (await statuses())[0] == "requested"
        failure = await JobFailure.get(item_id=asked[0])
        assert (failure.job, failure.item_kind) == ("approve_overdue_aftersales", "aftersale")
    # and a later run approves it too and resolves its failure
    with clock.frozen(clock.now() + timedelta(hours=hours, minutes=90)):
        assert await approve_overdue() == 1
    assert all(status in ("refunding", "refunded") for status in await statuses())
    assert await JobFailure.filter(resolved_at=None).count() == 0
