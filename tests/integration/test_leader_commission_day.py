"""Leaders' commissions over a day of mixed orders, fen by fen, and at once on MariaDB: the same
payment or refund told many times posts once; two refunds of one order reverse together exactly
what was accrued; a refund racing the earning job leaves the leader exactly what is left (by
chance, and forced between the job's read and its move); many
leaders' orders paid at once queue on the platform's account without deadlocks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tortoise import Tortoise

from commerce import clock, outbox
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.community import commission_earning as earning
from commerce.community import commission_queries, commission_rates, commissions
from commerce.community.commission_models import LeaderCommission, LeaderCommissionRefund
from commerce.community.commission_states import CommissionStatus
from commerce.ledger import checks, queries
from commerce.ledger.models import JournalEntry, LedgerAccount, Posting
from commerce.ledger.services import is_posted
from commerce.orders.models import Order, OrderLine
from commerce.outbox import Subscriptions
from commerce.payments.events import RefundSucceeded
from commerce.payments.models import Refund
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.services import Shopper
from shop.app import CORE
from shop.subscriptions import subscribers
from tests.builders import shopper_with_address
from tests.community_builders import (
    approved_leader,
    community_sale,
    paid_community_order,
    picked_up,
    place_pickup_order,
    stamp_community_order,
)
from tests.concurrency import needs_real_database
from tests.edges.paying import eventually, pay_order, settle_outbox
from tests.factories import sku_row

FINANCE = Staff(id=77, username="cfo", role=StaffRole.FINANCE, merchant_id=None)
WINDOW = 7
CATALOG = [
    sku_row("LT1", "LT1-1", title="龙井茶", category="食品 > 茶叶", price="10.00", stock=99),
    sku_row("RC1", "RC1-1", title="大米", category="粮油 > 大米", price="9.00", stock=99),
    sku_row("SY1", "SY1-1", title="酱油", category="粮油 > 调味", price="7.77", stock=99),
]


async def _balances() -> dict[str, int]:
    return dict(await LedgerAccount.all().values_list("code", "balance"))


async def _books_balanced() -> None:
    for entry_id in await JournalEntry.all().values_list("id", flat=True):
        assert sum(await Posting.filter(entry_id=entry_id).values_list("amount", flat=True)) == 0
    assert sum((await _balances()).values()) == 0
    assert (await queries.recompute()).differences == []
    assert await queries.in_debit() == []


async def _skus() -> dict[str, int]:
    assert not (await import_rows(CATALOG)).problems
    return dict(await Sku.all().values_list("sku_code", "id"))


async def _refund(settings, order_id: int, asks: list[LineAsk]) -> Refund:
    order = await Order.get(id=order_id)
    view = await aftersales.request_aftersale(
        shopper=Shopper(user_id=order.user_id, openid=""),
        order_id=order_id,
        kind="refund_only",
        lines=asks,
        reason="协商一致退款",
        settings=settings,
    )

    async def done() -> bool:
        request = await AfterSale.get(id=view.id)
        return request.status.value == "refunded" and await is_posted(f"refund:{request.refund_id}")

    await eventually(done)
    await settle_outbox()
    return await Refund.get(aftersale_id=view.id)


async def _lines(order_id: int) -> list[OrderLine]:
    return list(await OrderLine.filter(order_id=order_id).order_by("id"))


async def test_a_day_of_mixed_orders_fen_by_fen(client, simulator, settings):
    # given 茶叶 at 12.5%, the rice itself at 3.33%, the soy sauce at the default 10%; the
    # platform's own commission the default 5% everywhere
    skus = await _skus()
    tea, rice, sauce = skus["LT1-1"], skus["RC1-1"], skus["SY1-1"]
    tea_category = (await Category.get(name="茶叶")).id
    await commission_rates.set_rate(staff=FINANCE, target="category", target_id=tea_category, rate_bps=1250)
    rice_product = (await Product.get(title="大米")).id
    await commission_rates.set_rate(staff=FINANCE, target="product", target_id=rice_product, rate_bps=333)
    wang, li = await approved_leader(name="王团长"), await approved_leader(name="李团长")
    sale = await community_sale()
    # when the day's orders are paid at the leaders' points:
    a = await paid_community_order(client, simulator, "a1", wang, sale, [(tea, 3), (rice, 2)])
    b = await paid_community_order(client, simulator, "b1", wang, sale, [(tea, 1), (sauce, 1)])
    c = await paid_community_order(client, simulator, "c1", li, sale, [(rice, 2)])
    d = await paid_community_order(client, simulator, "d1", li, sale, [(tea, 1)])
    who = await shopper_with_address(client, simulator, "e1")  # at 李's point, in no sale
    e = (await place_pickup_order(client, who, li.point_id, [(tea, 1)]))["id"]
    await pay_order(client, simulator, who["headers"], e)
    await settle_outbox()
    # then each accrued, fen by fen:
    # a: 3000 × 12.5% = 375, 1800 × 3.33% = 59.94 → 60: 435; b: 1000 → 125, 777 × 10% = 77.7 → 78: 203
    # c: 1800 → 60; d: 1000 → 125; e: nothing (no community order)
    accrued = dict(await LeaderCommission.all().values_list("order_id", "amount"))
    assert accrued == {a: 435, b: 203, c: 60, d: 125}
    await _books_balanced()
    # when b's soy sauce is refunded, c wholly, before pickup; a and b are picked up, d is not
    _, b_sauce = await _lines(b)
    await _refund(settings, b, [LineAsk(b_sauce.id, 1)])
    [c_rice] = await _lines(c)
    await _refund(settings, c, [LineAsk(c_rice.id, 2)])
    await settle_outbox()
    await picked_up(a, wang.point_id)
    await picked_up(b, wang.point_id)
    await _books_balanced()
    # and the window passes
    with clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=1)):
        assert await earning.settle_due(window_days=WINDOW, default_bps=1000) == 2
    # then: a earned 435; b earned 203 − 78 = 125; c reversed wholly; d still pending
    rows = {r.order_id: (r.status, r.reversed, r.earned) for r in await LeaderCommission.all()}
    assert rows == {
        a: (CommissionStatus.EARNED, 0, 435),
        b: (CommissionStatus.EARNED, 78, 125),
        c: (CommissionStatus.REVERSED, 60, 0),
        d: (CommissionStatus.PENDING, 0, 0),
    }
    balances = await _balances()
    assert balances[f"payee_payable:{wang.user_id}"] == -560
    assert balances[f"leader_pending:{wang.user_id}"] == 0
    assert balances[f"leader_pending:{li.user_id}"] == -125
    assert balances.get(f"payee_payable:{li.user_id}", 0) == 0
    # and the platform paid the leaders out of its commission: its 5% (a 240, b 50 after the
    # sauce's 39 came back, c 0, d 50, e 50: 390) less the leaders' 435 + 125 + 125 = 685
    assert balances["platform_commission"] == -390 + 685
    # and the finance totals say the same
    totals = {t.leader_name: t for t in await commission_queries.totals_per_leader()}
    assert (totals["王团长"].orders, totals["王团长"].accrued, totals["王团长"].reversed) == (2, 638, 78)
    assert (totals["王团长"].pending, totals["王团长"].earned) == (0, 560)
    assert (totals["李团长"].orders, totals["李团长"].accrued, totals["李团长"].reversed) == (2, 185, 60)
    assert (totals["李团长"].pending, totals["李团长"].earned) == (125, 0)
    await _books_balanced()
    assert (await checks.check_balances()).differences == []


# --- at once, on MariaDB ------------------------------------------------------------------


def _without(client, name: str) -> None:
    """Hold one subscriber back (the test delivers its events by hand)."""
    table = subscribers(client.server.app[CORE])
    outbox.install(Subscriptions([s for s in table if s.name != name]))


@needs_real_database
async def test_one_payment_accrued_many_times_at_once_posts_once(client, simulator):
    # given a paid community order whose accrual subscriber was held back
    skus = await _skus()
    leader = await approved_leader()
    _without(client, "community.accrue_leader_commission")
    who = await shopper_with_address(client, simulator, "fay")
    order = await place_pickup_order(client, who, leader.point_id, [(skus["LT1-1"], 2)])
    await stamp_community_order(
        order_id=order["id"], user_id=who["user_id"], sale_id=await community_sale(), leader=leader
    )
    await pay_order(client, simulator, who["headers"], order["id"])
    await settle_outbox()
    assert not await LeaderCommission.exists(order_id=order["id"])
    # when eight deliveries accrue it at once
    ids = await asyncio.gather(
        *(commissions.accrue(order_id=order["id"], default_bps=1000) for _ in range(8))
    )
    # then one commission, one entry: 2000 × 10% = 200
    assert len(set(ids)) == 1 and ids[0] is not None
    assert await LeaderCommission.filter(order_id=order["id"]).count() == 1
    assert await JournalEntry.filter(key=f"leader_commission:{order['id']}:accrued").count() == 1
    assert (await _balances())[f"leader_pending:{leader.user_id}"] == -200
    await _books_balanced()


@needs_real_database
async def test_two_refunds_of_one_order_reversed_at_once_reverse_exactly_what_was_accrued(
    client, simulator, settings
):
    # given 2 teas at 3.33% (2000: 66.6 → 67), paid, the reversal subscriber held back
    skus = await _skus()
    tea_category = (await Category.get(name="茶叶")).id
    await commission_rates.set_rate(staff=FINANCE, target="category", target_id=tea_category, rate_bps=333)
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "gil", leader, await community_sale(), [(skus["LT1-1"], 2)]
    )
    _without(client, "community.reverse_leader_commission")
    [line] = await _lines(order_id)
    refunds = [await _refund(settings, order_id, [LineAsk(line.id, 1)]) for _ in range(2)]
    # when the two refunds, each told three times, are reversed all at once
    await asyncio.gather(
        *(
            commissions.reverse_refunded(
                RefundSucceeded(refund_id=r.id, order_id=order_id, aftersale_id=r.aftersale_id)
            )
            for r in refunds
            for _ in range(3)
        )
    )
    # then each counted once; together exactly 67 (34 then 33, or the other way round)
    assert await LeaderCommissionRefund.filter(commission_id__gt=0).count() == 2
    commission = await LeaderCommission.get(order_id=order_id)
    assert (commission.status, commission.refunded, commission.reversed) == (
        CommissionStatus.REVERSED,
        2000,
        67,
    )
    assert sorted(await LeaderCommissionRefund.all().values_list("reversed", flat=True)) == [33, 34]
    assert (await _balances())[f"leader_pending:{leader.user_id}"] == 0
    await _books_balanced()


@needs_real_database
async def test_a_refund_racing_the_earning_job_leaves_the_leader_exactly_what_is_left(client, simulator):
    # given a picked-up order of 4 teas (4000: 400) whose window has passed
    skus = await _skus()
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "hal", leader, await community_sale(), [(skus["LT1-1"], 4)]
    )
    await picked_up(order_id, leader.point_id)
    commission = await LeaderCommission.get(order_id=order_id)
    [line] = await _lines(order_id)
    # when a refund of one tea (a finance-made one: 100 of commission) is counted while the job
    # earns it, both at once
    with clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=1)):
        await asyncio.gather(
            earning.earn(commission_id=commission.id),
            commissions.reverse(commission_id=commission.id, refund_id=990_001, parts={line.id: 1000}),
        )
        await earning.earn_due(window_days=WINDOW)  # the next run, if the refund went first
    # then whichever went first, the leader holds exactly 300, withdrawable, nothing pending
    balances = await _balances()
    assert balances[f"payee_payable:{leader.user_id}"] == -300
    assert balances[f"leader_pending:{leader.user_id}"] == 0
    done = await LeaderCommission.get(id=commission.id)
    assert done.status is CommissionStatus.EARNED and done.reversed == 100
    await _books_balanced()


async def _until_the_commission_s_update_waits() -> None:
    """Until an UPDATE of leader_commission is under way: while the test holds its row, that
    is an UPDATE waiting for it (InnoDB may not list such a transaction in INNODB_TRX yet)."""
    conn = Tortoise.get_connection("default")
    for _ in range(1000):
        [row] = await conn.execute_query_dict(
            "SELECT COUNT(*) AS running FROM information_schema.PROCESSLIST"
            " WHERE DB = DATABASE() AND INFO LIKE 'UPDATE `leader_commission`%%'"
        )
        if row["running"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nothing waited for the commission's row")


@needs_real_database
async def test_a_refund_counted_between_the_earning_s_read_and_its_move_makes_it_wait(client, simulator):
    """The interleaving the test above hits only by chance, forced: the earning job has read
    the commission (nothing reversed) and waits for its row while a refund is counted."""
    # given a picked-up order of 4 teas (4000: 400) whose window has passed
    skus = await _skus()
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "ivy", leader, await community_sale(), [(skus["LT1-1"], 4)]
    )
    await picked_up(order_id, leader.point_id)
    commission = await LeaderCommission.get(order_id=order_id)
    [line] = await _lines(order_id)
    row_held, earning_waits = asyncio.Event(), asyncio.Event()

    @unit_of_work
    async def count_a_refund_holding_the_row() -> None:
        async with write_transaction() as conn:
            await conn.execute_query(
                "SELECT id FROM leader_commission WHERE id = %s FOR UPDATE", [commission.id]
            )
            row_held.set()
            await earning_waits.wait()
            await commissions.reverse(commission_id=commission.id, refund_id=990_002, parts={line.id: 1000})

    with clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=1)):
        refund = asyncio.create_task(count_a_refund_holding_the_row())
        await row_held.wait()
        # when the job reads the commission, then waits for its row while the refund is counted
        earn = asyncio.create_task(earning.earn(commission_id=commission.id))
        await _until_the_commission_s_update_waits()
        earning_waits.set()
        await refund
        # then this run moves nothing: what it read is out of date
        assert await earn is False
        waiting = await LeaderCommission.get(id=commission.id)
        assert (waiting.status, waiting.reversed, waiting.earned) == (CommissionStatus.PENDING, 100, 0)
        assert (await _balances()).get(f"payee_payable:{leader.user_id}", 0) == 0
        await _books_balanced()
        # and the next run earns exactly what is left
        await earning.earn_due(window_days=WINDOW)
    balances = await _balances()
    assert balances[f"payee_payable:{leader.user_id}"] == -300
    assert balances[f"leader_pending:{leader.user_id}"] == 0
    assert (await LeaderCommission.get(id=commission.id)).status is CommissionStatus.EARNED
    await _books_balanced()


@needs_real_database
async def test_many_leaders_orders_paid_at_once_queue_on_the_platform_s_account(client, simulator, caplog):
    # given eight leaders, each with a neighbour's community order placed (accrual held back)
    skus = await _skus()
    _without(client, "community.accrue_leader_commission")
    sale = await community_sale()
    orders = []
    for n in range(8):
        leader = await approved_leader(name=f"团长{n}")
        who = await shopper_with_address(client, simulator, f"buyer{n}")
        order = await place_pickup_order(client, who, leader.point_id, [(skus["LT1-1"], n + 1)])
        await stamp_community_order(order_id=order["id"], user_id=who["user_id"], sale_id=sale, leader=leader)
        await pay_order(client, simulator, who["headers"], order["id"])
        orders.append((order["id"], leader))
    await settle_outbox()
    # when all accrue at once
    await asyncio.gather(*(commissions.accrue(order_id=o, default_bps=1000) for o, _ in orders))
    # then each accrued its 10%, none re-run after a deadlock, and the books hold
    for n, (order_id, leader) in enumerate(orders):
        assert (await LeaderCommission.get(order_id=order_id)).amount == 100 * (n + 1)
        assert (await _balances())[f"leader_pending:{leader.user_id}"] == -100 * (n + 1)
    assert "lock conflict" not in caplog.text
    await _books_balanced()
