"""Leaders' commissions in the books, fen by fen: accrued at payment (the rate of the product,
else its category's or an ancestor's, else the default, stamped on the commission's lines),
earned once the order is picked up and the after-sales window has passed with no request open,
reversed in proportion to what each line's refunds returned (a line refunded in full reverses
exactly what it accrued); the books balanced after each step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce import clock, outbox
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.community import commission_earning as earning
from commerce.community import commission_rates, commissions
from commerce.community.commission_models import (
    LeaderCommission,
    LeaderCommissionEvent,
    LeaderCommissionLine,
    LeaderCommissionRefund,
)
from commerce.community.commission_states import CommissionStatus
from commerce.community.errors import CommissionError
from commerce.errors import CommerceError, CommonError
from commerce.ledger import queries
from commerce.ledger.models import JournalEntry, LedgerAccount, Posting
from commerce.ledger.services import PAYOUTS_IN_TRANSIT, Line, is_posted, payee_payable, record
from commerce.ledger.states import EntryKind
from commerce.orders.models import Order, OrderLine
from commerce.outbox import Subscriptions
from commerce.payments.events import RefundSucceeded
from commerce.payments.models import Refund
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.services import Shopper
from scheduler import JOBS, run_job_once
from shop.app import CORE
from shop.subscriptions import subscribers
from tests.builders import refused, shopper_with_address
from tests.community_builders import (
    approved_leader,
    community_sale,
    paid_community_order,
    picked_up,
    place_pickup_order,
    stamp_community_order,
)
from tests.edges.paying import eventually, pay_order, settle_outbox
from tests.factories import sku_row

FINANCE = Staff(id=77, username="cfo", role=StaffRole.FINANCE, merchant_id=None)
TEA = sku_row("LT1", "LT1-1", title="龙井茶", category="食品 > 茶叶 > 绿茶", price="10.00", stock=50)
RICE = sku_row("RC1", "RC1-1", title="大米", category="粮油 > 大米", price="9.00", stock=50)
WINDOW = 7  # the settings' aftersales_window_days


async def _balances() -> dict[str, int]:
    return dict(await LedgerAccount.all().values_list("code", "balance"))


async def _books_balanced() -> None:
    """Every entry balances, the accounts sum to zero, running balances equal recomputation,
    and no account that must not go into debit did."""
    for entry_id in await JournalEntry.all().values_list("id", flat=True):
        assert sum(await Posting.filter(entry_id=entry_id).values_list("amount", flat=True)) == 0
    assert sum((await _balances()).values()) == 0
    assert (await queries.recompute()).differences == []
    assert await queries.in_debit() == []


async def _postings(key: str) -> list[tuple[str, int]]:
    return [(p.account_code, p.amount) for p in await queries.postings_of_entry(key)]


async def _catalog() -> dict[str, int]:
    assert not (await import_rows([TEA, RICE])).problems
    return dict(await Sku.all().values_list("sku_code", "id"))


async def _category(name: str) -> int:
    return (await Category.get(name=name)).id


async def _refund(settings, order_id: int, asks: list[LineAsk]) -> Refund:
    """An after-sales refund of these line parts, refunded and in the books."""
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


def _after_window():
    return clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=1))


# --- rates ---------------------------------------------------------------------------------


async def test_a_product_takes_its_own_rate_else_its_nearest_category_s_else_the_default(db):
    # given 食品 at 8%, 茶叶 at 12.5%; 粮油 without a rate
    await _catalog()
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("食品"), rate_bps=800
    )
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("茶叶"), rate_bps=1250
    )
    products = dict(await Product.all().values_list("title", "id"))
    tea, rice = products["龙井茶"], products["大米"]
    # then the tea takes 茶叶's, the rice the default
    assert await commission_rates.rates_for_products([tea, rice], default_bps=1000) == {tea: 1250, rice: 1000}
    # when the rice gets a rate of its own and 茶叶's is cleared
    await commission_rates.set_rate(staff=FINANCE, target="product", target_id=rice, rate_bps=300)
    await commission_rates.clear_rate(staff=FINANCE, target="category", target_id=await _category("茶叶"))
    # then each takes the nearest rate there is
    assert await commission_rates.rates_for_products([tea, rice], default_bps=1000) == {tea: 800, rice: 300}
    assert await AuditEntry.filter(action__startswith="leader_commission_rate.").count() == 4
    # and a rate out of range, of nothing, or set by a role other than finance is refused
    for kwargs, code in (
        ({"target": "product", "target_id": rice, "rate_bps": 10_001}, CommissionError.INVALID_RATE),
        ({"target": "category", "target_id": 999_999, "rate_bps": 100}, CommissionError.TARGET_NOT_FOUND),
        ({"target": "product", "target_id": 999_999, "rate_bps": 100}, CommissionError.TARGET_NOT_FOUND),
    ):
        with pytest.raises(CommerceError) as caught:
            await commission_rates.set_rate(staff=FINANCE, **kwargs)
        assert refused(caught, code)
    agent = Staff(id=5, username="agent", role=StaffRole.AGENT, merchant_id=None)
    with pytest.raises(CommerceError) as caught:
        await commission_rates.set_rate(staff=agent, target="product", target_id=rice, rate_bps=1)
    assert refused(caught, CommonError.FORBIDDEN)


# --- accrued, earned -------------------------------------------------------------------------


async def test_commission_accrues_at_payment_and_is_earned_after_pickup_and_the_window(
    client, simulator, settings
):
    # given tea at 12.5% (茶叶), rice at the default 10%, and an approved leader's sale
    skus = await _catalog()
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("茶叶"), rate_bps=1250
    )
    leader = await approved_leader()
    sale = await community_sale()
    # when a neighbour pays 3 teas (3000) and 2 rice (1800) for pickup at the leader's point
    order_id = await paid_community_order(
        client, simulator, "nina", leader, sale, [(skus["LT1-1"], 3), (skus["RC1-1"], 2)]
    )
    # then the commission accrued: 3000 × 12.5% = 375, 1800 × 10% = 180, paid by the platform
    order = await Order.get(id=order_id)
    assert (order.shipping_fee, order.payable) == (0, 4800)
    commission = await LeaderCommission.get(order_id=order_id)
    assert (commission.amount, commission.basis, commission.status) == (555, 4800, CommissionStatus.PENDING)
    lines = await LeaderCommissionLine.filter(commission_id=commission.id).order_by("id")
    assert [(line.basis, line.rate_bps, line.amount) for line in lines] == [
        (3000, 1250, 375),
        (1800, 1000, 180),
    ]
    assert await _postings(f"leader_commission:{order_id}:accrued") == [
        ("platform_commission", 555),
        (f"leader_pending:{leader.user_id}", -555),
    ]
    await _books_balanced()
    # and a later rate change never rewrites it
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("茶叶"), rate_bps=100
    )
    assert (await commissions.accrue(order_id=order_id, default_bps=1000)) == commission.id
    assert (await LeaderCommission.get(id=commission.id)).amount == 555
    # when the order is picked up, nothing is earned within the after-sales window
    await picked_up(order_id, leader.point_id)
    assert await earning.earn_due(window_days=WINDOW) == 0
    with clock.frozen(clock.now() + timedelta(days=WINDOW, minutes=-1)):
        assert await earning.earn_due(window_days=WINDOW) == 0
    # then once the window has passed, it is earned: withdrawable, once
    with _after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
        assert await earning.earn_due(window_days=WINDOW) == 0
    assert await _postings(f"leader_commission:{order_id}:earned") == [
        (f"leader_pending:{leader.user_id}", 555),
        (f"payee_payable:{leader.user_id}", -555),
    ]
    earned = await LeaderCommission.get(id=commission.id)
    assert (earned.status, earned.earned, earned.reversed) == (CommissionStatus.EARNED, 555, 0)
    balances = await _balances()
    assert balances[f"leader_pending:{leader.user_id}"] == 0
    assert balances[f"payee_payable:{leader.user_id}"] == -555
    assert await LeaderCommissionEvent.filter(commission_id=commission.id).values_list(
        "type", "to_status"
    ) == [
        ("accrued", ""),
        ("status_changed", "earned"),
    ]
    await _books_balanced()


async def test_an_open_after_sales_request_holds_the_commission_back(client, simulator, settings):
    # given a picked-up community order of 2 teas (default 10%: 200)
    skus = await _catalog()
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "olga", leader, await community_sale(), [(skus["LT1-1"], 2)]
    )
    await picked_up(order_id, leader.point_id)
    # when the shopper asks for one tea back within the window (the merchant has not answered)
    line = await OrderLine.get(order_id=order_id)
    order = await Order.get(id=order_id)
    await aftersales.request_aftersale(
        shopper=Shopper(user_id=order.user_id, openid=""),
        order_id=order_id,
        kind="return_refund",
        lines=[LineAsk(line.id, 1)],
        reason="包装破损",
        settings=settings,
    )
    # then the window passing earns nothing while the request is open
    with _after_window():
        assert await earning.earn_due(window_days=WINDOW) == 0
    assert (await LeaderCommission.get(order_id=order_id)).status is CommissionStatus.PENDING
    await _books_balanced()


async def test_an_order_with_no_leader_or_no_community_sale_accrues_nothing(client, simulator):
    # given a pickup order at a leader's point, not in a community sale
    skus = await _catalog()
    leader = await approved_leader()
    who = await shopper_with_address(client, simulator, "pete")
    order = await place_pickup_order(client, who, leader.point_id, [(skus["LT1-1"], 1)])
    # when it is paid
    await pay_order(client, simulator, who["headers"], order["id"])
    await settle_outbox()
    # then no commission, no entry
    assert await commissions.accrue(order_id=order["id"], default_bps=1000) is None
    assert not await LeaderCommission.exists(order_id=order["id"])
    assert not await JournalEntry.filter(key__startswith="leader_commission:").exists()
    await _books_balanced()


async def test_a_leader_earns_nothing_on_their_own_order(client, simulator, settings):
    # given a leader who buys in the sale at their own point
    skus = await _catalog()
    who = await shopper_with_address(client, simulator, "lena")
    leader = await approved_leader(user_id=who["user_id"])
    order = await place_pickup_order(client, who, leader.point_id, [(skus["LT1-1"], 1)])
    await stamp_community_order(
        order_id=order["id"], user_id=who["user_id"], sale_id=await community_sale(), leader=leader
    )
    # when it is paid, and the hourly job runs too
    await pay_order(client, simulator, who["headers"], order["id"])
    await settle_outbox()
    [job] = [s for s in JOBS if s.name == "settle_leader_commissions"]
    assert await run_job_once(client.server.app[CORE], job)
    # then no commission, no entry
    assert await commissions.accrue(order_id=order["id"], default_bps=1000) is None
    assert not await LeaderCommission.exists(order_id=order["id"])
    assert not await JournalEntry.filter(key__startswith="leader_commission:").exists()
    await _books_balanced()


async def test_a_leader_stamped_after_the_payment_is_caught_up_by_the_job(client, simulator, settings):
    # given a community order paid before its leader was stamped (the subscriber found none)
    skus = await _catalog()
    leader = await approved_leader()
    who = await shopper_with_address(client, simulator, "quinn")
    order = await place_pickup_order(client, who, leader.point_id, [(skus["LT1-1"], 1)])
    await pay_order(client, simulator, who["headers"], order["id"])
    await settle_outbox()
    await stamp_community_order(
        order_id=order["id"], user_id=who["user_id"], sale_id=await community_sale(), leader=leader
    )
    assert not await LeaderCommission.exists(order_id=order["id"])
    # when the hourly job runs (as the scheduler runs it)
    [job] = [s for s in JOBS if s.name == "settle_leader_commissions"]
    assert await run_job_once(client.server.app[CORE], job)
    # then it accrued: 1000 × 10% = 100
    assert await _postings(f"leader_commission:{order['id']}:accrued") == [
        ("platform_commission", 100),
        (f"leader_pending:{leader.user_id}", -100),
    ]
    await _books_balanced()


# --- reversed --------------------------------------------------------------------------------


async def test_refunds_reverse_the_commission_in_proportion_to_the_fen(client, simulator, settings):
    # given 3 teas at 3.33% (3000: 99.9 → 100) in a paid community order
    skus = await _catalog()
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("茶叶"), rate_bps=333
    )
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "rosa", leader, await community_sale(), [(skus["LT1-1"], 3)]
    )
    commission = await LeaderCommission.get(order_id=order_id)
    assert commission.amount == 100
    line = await OrderLine.get(order_id=order_id)
    pending = f"leader_pending:{leader.user_id}"
    # when the line is refunded in three parts: 333, 1333, then the rest (1334)
    expected = [  # (refunded, commission reversed: cumulative share minus the past)
        (333, 11),  # 100 × 333/3000 = 11.1 → 11
        (1333, 45),  # 100 × 1666/3000 = 55.53 → 56: 56 − 11
        (1334, 44),  # all 3000: all 100: 100 − 56
    ]
    for amount, reversed_ in expected:
        asked = LineAsk(line.id, 1, amount) if amount != 1334 else LineAsk(line.id, 1)
        refund = await _refund(settings, order_id, [asked])
        assert refund.amount == amount
        await eventually(lambda r=refund: is_posted(f"leader_commission:refund:{r.id}"))
        # then each refund reverses its share, fen by fen, back to the platform
        assert await _postings(f"leader_commission:refund:{refund.id}") == [
            (pending, reversed_),
            ("platform_commission", -reversed_),
        ]
        await _books_balanced()
    # and the wholly refunded commission is reversed: exactly what it accrued, nothing pending
    done = await LeaderCommission.get(id=commission.id)
    assert (done.status, done.refunded, done.reversed) == (CommissionStatus.REVERSED, 3000, 100)
    assert (await _balances())[pending] == 0
    # and a refund told again reverses nothing more
    before = await _balances()
    await commissions.reverse_refunded(
        RefundSucceeded(refund_id=refund.id, order_id=order_id, aftersale_id=refund.aftersale_id)
    )
    assert await _balances() == before
    await _books_balanced()


async def test_a_partly_refunded_commission_earns_what_is_left(client, simulator, settings):
    # given 3 teas at 3.33% (100) and 2 rice at the default 10% (180)
    skus = await _catalog()
    await commission_rates.set_rate(
        staff=FINANCE, target="category", target_id=await _category("茶叶"), rate_bps=333
    )
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "sara", leader, await community_sale(), [(skus["LT1-1"], 3), (skus["RC1-1"], 2)]
    )
    tea, rice = await OrderLine.filter(order_id=order_id).order_by("id")
    # when one tea (1000) and one rice (900) are refunded in one request before pickup
    refund = await _refund(settings, order_id, [LineAsk(tea.id, 1), LineAsk(rice.id, 1)])
    await eventually(lambda: is_posted(f"leader_commission:refund:{refund.id}"))
    # then 100 × 1000/3000 = 33.3 → 33 and 180 × 900/1800 = 90 are reversed
    assert await _postings(f"leader_commission:refund:{refund.id}") == [
        (f"leader_pending:{leader.user_id}", 123),
        ("platform_commission", -123),
    ]
    # when the rest is picked up and the window passes
    await picked_up(order_id, leader.point_id)
    with _after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    # then what is left (280 − 123 = 157) is earned
    assert await _postings(f"leader_commission:{order_id}:earned") == [
        (f"leader_pending:{leader.user_id}", 157),
        (f"payee_payable:{leader.user_id}", -157),
    ]
    balances = await _balances()
    assert (balances[f"leader_pending:{leader.user_id}"], balances[f"payee_payable:{leader.user_id}"]) == (
        0,
        -157,
    )
    await _books_balanced()


async def test_a_refund_whose_reversal_was_missed_is_counted_before_the_earning(client, simulator, settings):
    # given a community order of 2 teas (200), one tea refunded before pickup while the
    # reversal subscriber was held back (its delivery lost)
    skus = await _catalog()
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "tina", leader, await community_sale(), [(skus["LT1-1"], 2)]
    )
    table = subscribers(client.server.app[CORE])
    outbox.install(Subscriptions([s for s in table if s.name != "community.reverse_leader_commission"]))
    [line] = await OrderLine.filter(order_id=order_id)
    refund = await _refund(settings, order_id, [LineAsk(line.id, 1)])
    await picked_up(order_id, leader.point_id)
    assert not await is_posted(f"leader_commission:refund:{refund.id}")
    # when the window passes
    with _after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    # then the refund was counted first (100 back to the platform), and only what is left earned
    assert await _postings(f"leader_commission:refund:{refund.id}") == [
        (f"leader_pending:{leader.user_id}", 100),
        ("platform_commission", -100),
    ]
    balances = await _balances()
    assert (balances[f"leader_pending:{leader.user_id}"], balances[f"payee_payable:{leader.user_id}"]) == (
        0,
        -100,
    )
    # and the refund told late changes nothing
    await commissions.reverse_refunded(
        RefundSucceeded(refund_id=refund.id, order_id=order_id, aftersale_id=refund.aftersale_id)
    )
    assert (await _balances()) == balances
    await _books_balanced()


async def test_a_refund_after_earning_takes_back_from_the_balance_unless_withdrawn(client, simulator):
    # given 4 teas (4000: 400) earned after pickup and the window
    skus = await _catalog()
    leader = await approved_leader()
    order_id = await paid_community_order(
        client, simulator, "uma", leader, await community_sale(), [(skus["LT1-1"], 4)]
    )
    await picked_up(order_id, leader.point_id)
    with _after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    commission = await LeaderCommission.get(order_id=order_id)
    [line] = await OrderLine.filter(order_id=order_id)
    payee = f"payee_payable:{leader.user_id}"
    # when finance refunds one tea anyway (outside after-sales), the leader still holding it all
    assert (
        await commissions.reverse(commission_id=commission.id, refund_id=990_002, parts={line.id: 1000})
        == 100
    )
    # then its 100 come back from the withdrawable balance
    assert await _postings("leader_commission:refund:990002") == [(payee, 100), ("platform_commission", -100)]
    assert (await _balances())[payee] == -300
    # when the leader has withdrawn the rest and another tea is refunded
    await record(
        key="payout:1:requested",
        kind=EntryKind.PAYOUT_REQUESTED,
        lines=[Line(payee_payable(leader.user_id), 300), Line(PAYOUTS_IN_TRANSIT, -300)],
    )
    before = await _balances()
    with pytest.raises(CommerceError) as caught:
        await commissions.reverse(commission_id=commission.id, refund_id=990_003, parts={line.id: 1000})
    # then it is refused (finance adjusts by hand), nothing of it written
    assert refused(caught, CommissionError.ALREADY_EARNED)
    assert await _balances() == before
    assert not await LeaderCommissionRefund.exists(refund_id=990_003)
    assert (await LeaderCommission.get(id=commission.id)).reversed == 100
    await _books_balanced()
