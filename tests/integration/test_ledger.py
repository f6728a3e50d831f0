"""The books on a real database: the contract (balanced entries, once per key, also when two
posts race on MariaDB; the no-debit guard; running balances equal the sum of postings), and
the postings of the real flows, fen by fen: a two-merchant checkout paid once, a line refunded
in three parts whose reversals add up to what was charged, and money returned for a cancelled
checkout with its automatic refunds."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from commerce import clock, outbox
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.errors import CommerceError, CommonError
from commerce.jobs import queries as job_queries
from commerce.ledger import backfill, checks, finance, handlers, queries
from commerce.ledger.errors import LedgerError
from commerce.ledger.models import BalanceCheck, ChargeReversal, JournalEntry, LedgerAccount, Posting
from commerce.ledger.services import (
    CLEARING,
    PAYOUTS_IN_TRANSIT,
    PLATFORM_ADJUSTMENTS,
    Line,
    ensure_accounts,
    is_posted,
    merchant_payable,
    payee_payable,
    record,
)
from commerce.ledger.states import EntryKind
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderLine
from commerce.orders.queries import ChargedLine, ChargedOrder
from commerce.outbox import Subscriptions
from commerce.payments.events import RefundSucceeded
from commerce.payments.models import Payment, Refund
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.models import User
from commerce.users.services import Shopper
from shop.app import CORE
from shop.subscriptions import subscribers
from tests.builders import refused, shopper_with_address
from tests.concurrency import needs_real_database
from tests.edges.checkouts import two_order_checkout
from tests.edges.paying import (
    confirm_payment,
    eventually,
    pay_order,
    pay_params,
    prepay_id_of,
    settle_outbox,
    sim,
)
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog, sku_row

FINANCE = Staff(id=77, username="cfo", role=StaffRole.FINANCE, merchant_id=None)


async def _balances() -> dict[str, int]:
    return dict(await LedgerAccount.all().values_list("code", "balance"))


async def _postings(key: str) -> list[tuple[str, int, int | None]]:
    """The entry's postings, once its subscriber has posted it."""
    await eventually(lambda: is_posted(key))
    return [(p.account_code, p.amount, p.order_id) for p in await queries.postings_of_entry(key)]


async def _books_hold() -> None:
    """Every entry balances, the accounts sum to zero, running balances equal recomputation."""
    for entry_id in await JournalEntry.all().values_list("id", flat=True):
        assert sum(await Posting.filter(entry_id=entry_id).values_list("amount", flat=True)) == 0
    assert sum((await _balances()).values()) == 0
    assert (await queries.recompute()).differences == []
    assert await queries.in_debit() == []


# --- the contract --------------------------------------------------------------------------


async def test_an_unbalanced_entry_is_refused_and_nothing_is_written(db):
    with pytest.raises(CommerceError) as caught:
        await record(
            key="test:1",
            kind=EntryKind.ADJUSTMENT,
            lines=[Line(CLEARING, 100), Line(PLATFORM_ADJUSTMENTS, -99)],
        )
    assert refused(caught, LedgerError.UNBALANCED)
    assert await JournalEntry.all().count() == 0
    assert await Posting.all().count() == 0


async def test_an_entry_posts_once_per_key(db):
    lines = [Line(PLATFORM_ADJUSTMENTS, 500), Line(merchant_payable(3), -500)]
    first = await record(key="adjustment:once", kind=EntryKind.ADJUSTMENT, lines=lines)
    again = await record(key="adjustment:once", kind=EntryKind.ADJUSTMENT, lines=lines)
    assert first is not None and again is None
    assert await JournalEntry.all().count() == 1
    assert await _balances() == {"platform_adjustments": 500, "merchant_payable:3": -500}
    await _books_hold()


@needs_real_database
async def test_two_records_of_one_key_at_once_post_once(db):
    # given accounts that exist (the first posting to a new account is made before the race)
    lines = [Line(PLATFORM_ADJUSTMENTS, 700), Line(payee_payable(9), -700)]
    await record(key="adjustment:warm", kind=EntryKind.ADJUSTMENT, lines=lines)
    # when eight deliveries of one event post at once
    results = await asyncio.gather(
        *(record(key="adjustment:race", kind=EntryKind.ADJUSTMENT, lines=lines) for _ in range(8))
    )
    # then exactly one posted, and the balances moved once
    assert sum(r is not None for r in results) == 1
    assert await JournalEntry.filter(key="adjustment:race").count() == 1
    assert await _balances() == {"platform_adjustments": 1400, "payee_payable:9": -1400}
    await _books_hold()


async def test_a_payee_cannot_take_more_than_is_owed_to_them(db):
    # given 10.00 owed to payee 5
    await record(
        key="adjustment:credit",
        kind=EntryKind.ADJUSTMENT,
        lines=[Line(PLATFORM_ADJUSTMENTS, 1000), Line(payee_payable(5), -1000)],
    )
    # when a withdrawal of 10.01 is posted
    with pytest.raises(CommerceError) as caught:
        await record(
            key="payout:1:requested",
            kind=EntryKind.PAYOUT_REQUESTED,
            lines=[Line(payee_payable(5), 1001), Line(PAYOUTS_IN_TRANSIT, -1001)],
        )
    # then it is refused, and nothing of it stays
    assert refused(caught, LedgerError.INSUFFICIENT_BALANCE)
    assert not await JournalEntry.exists(key="payout:1:requested")
    assert (await _balances())["payee_payable:5"] == -1000
    # while exactly what is owed goes through
    await record(
        key="payout:2:requested",
        kind=EntryKind.PAYOUT_REQUESTED,
        lines=[Line(payee_payable(5), 1000), Line(PAYOUTS_IN_TRANSIT, -1000)],
    )
    assert (await _balances())["payee_payable:5"] == 0
    await _books_hold()


async def test_running_balances_equal_the_sum_of_postings_and_the_nightly_check_reports_a_drift(db):
    # given a few entries across accounts
    for n in range(5):
        await record(
            key=f"adjustment:{n}",
            kind=EntryKind.ADJUSTMENT,
            lines=[Line(PLATFORM_ADJUSTMENTS, 100 + n), Line(merchant_payable(n % 2 + 1), -(100 + n))],
        )
    await _books_hold()
    clean = await checks.check_balances()
    assert (clean.accounts, clean.entries, clean.differences) == (3, 5, [])
    # when a running balance drifts (written by hand, outside the ledger)
    await LedgerAccount.filter(code="merchant_payable:2").update(balance=-1)
    # then the check names it, keeps the run, and the platform admin sees it among the jobs
    drifted = await checks.check_balances()
    account_id = (await LedgerAccount.get(code="merchant_payable:2")).id
    assert drifted.differences == [
        {"account_id": account_id, "account": "merchant_payable:2", "balance": -1, "recomputed": -(101 + 103)}
    ]
    assert (await queries.last_balance_check()).differences == drifted.differences  # type: ignore[union-attr]
    [failure] = await job_queries.job_failures()
    assert (failure.job, failure.item_kind, failure.item_id) == (
        "ledger_balance_check",
        "ledger_account",
        account_id,
    )
    assert "merchant_payable:2" in failure.error
    # and once it is right again, the next check resolves it
    await LedgerAccount.filter(code="merchant_payable:2").update(balance=-(101 + 103))
    assert (await checks.check_balances()).differences == []
    assert await job_queries.job_failures() == []
    assert await BalanceCheck.all().count() == 3


async def test_finance_credits_and_debits_a_payable_against_the_platform_with_a_reason(db):
    # given a payee (a shopper) and a merchant
    user = await User.create(openid="o-payee", created_at=clock.now(), updated_at=clock.now())
    merchant = await ensure_merchant(code="m-adj", name="调账店")
    # when finance credits the payee 12.34 and debits the merchant 1.00
    key = await finance.adjust(
        staff=FINANCE, payable="payee", owner_id=user.id, amount=1234, reason="活动奖励"
    )
    await finance.adjust(
        staff=FINANCE, payable="merchant", owner_id=merchant, amount=-100, reason="多结算更正"
    )
    # then the entries say so, keyed adjustment:{uuid}, and the audit log has both
    assert key.startswith("adjustment:") and len(key) == len("adjustment:") + 36
    assert await _postings(key) == [
        ("platform_adjustments", 1234, None),
        (f"payee_payable:{user.id}", -1234, None),
    ]
    balances = await _balances()
    assert (balances[f"payee_payable:{user.id}"], balances[f"merchant_payable:{merchant}"]) == (-1234, 100)
    assert await AuditEntry.filter(action="ledger.adjust", actor="staff:77").count() == 2
    # and a debit of more than the payee holds is refused, nothing written
    with pytest.raises(CommerceError) as caught:
        await finance.adjust(staff=FINANCE, payable="payee", owner_id=user.id, amount=-1235, reason="更正")
    assert refused(caught, LedgerError.INSUFFICIENT_BALANCE)
    assert await AuditEntry.filter(action="ledger.adjust").count() == 2
    # as are a blank reason, nobody's account, and a role other than finance
    for kwargs, code in (
        (
            {"payable": "payee", "owner_id": user.id, "amount": 1, "reason": "  "},
            LedgerError.INVALID_ADJUSTMENT,
        ),
        (
            {"payable": "payee", "owner_id": 999_999, "amount": 1, "reason": "x"},
            LedgerError.ACCOUNT_NOT_FOUND,
        ),
        (
            {"payable": "merchant", "owner_id": merchant, "amount": 0, "reason": "x"},
            LedgerError.INVALID_ADJUSTMENT,
        ),
    ):
        with pytest.raises(CommerceError) as caught:
            await finance.adjust(staff=FINANCE, **kwargs)
        assert refused(caught, code)
    agent = Staff(id=5, username="agent", role=StaffRole.AGENT, merchant_id=None)
    with pytest.raises(CommerceError) as caught:
        await finance.adjust(staff=agent, payable="payee", owner_id=user.id, amount=1, reason="x")
    assert refused(caught, CommonError.FORBIDDEN)
    await _books_hold()


async def test_a_category_takes_its_nearest_ancestor_s_rate_and_changes_are_audited(db):
    # given 食品 > 茶叶 > 绿茶 and 数码, rates on 食品 (8%) and 茶叶 (3%)
    await import_rows([TEA, sku_row("LD1", "LD1-1", title="耳机", category="数码 > 耳机", price="9.00")])
    food, tea, green, digital = [
        (await Category.get(name=name)).id for name in ("食品", "茶叶", "绿茶", "数码")
    ]
    await finance.set_commission_rate(staff=FINANCE, category_id=food, rate_bps=800)
    await finance.set_commission_rate(staff=FINANCE, category_id=tea, rate_bps=300)
    products = dict(await Product.all().values_list("title", "id"))
    # then the green tea takes 茶叶's, the earphones the default
    rates = await queries.commission_rates_for_products([products["龙井茶"], products["耳机"]])
    assert rates == {products["龙井茶"]: 300, products["耳机"]: 500}
    by_id = {r.category_id: r for r in await queries.category_rates()}
    assert (by_id[green].rate_bps, by_id[green].effective_bps) == (None, 300)
    assert (by_id[digital].rate_bps, by_id[digital].effective_bps) == (None, 500)
    # when 茶叶's is cleared, green tea takes 食品's
    await finance.clear_commission_rate(staff=FINANCE, category_id=tea)
    assert (await queries.commission_rates_for_products([products["龙井茶"]])) == {products["龙井茶"]: 800}
    assert await AuditEntry.filter(object_type="category").count() == 3
    # and a rate out of range, or of no category, is refused
    for category_id, bps, code in (
        (food, 10_001, LedgerError.INVALID_RATE),
        (999_999, 100, LedgerError.CATEGORY_NOT_FOUND),
    ):
        with pytest.raises(CommerceError) as caught:
            await finance.set_commission_rate(staff=FINANCE, category_id=category_id, rate_bps=bps)
        assert refused(caught, code)


# --- the flows -----------------------------------------------------------------------------


async def test_a_two_merchant_checkout_posts_each_order_s_commission_fee_and_payable(client, simulator):
    # given 食品 at 8% (B's tea is under 食品 > 茶叶), 数码 without a rate (the default 5%)
    alice = await _alice(client, simulator)
    first, second = await two_order_checkout(client, alice)
    food = await Category.get(name="食品", parent_key=0)
    await finance.set_commission_rate(staff=FINANCE, category_id=food.id, rate_bps=800)
    # when alice pays both orders at once
    await pay_order(client, simulator, alice["headers"], first["id"])
    await settle_outbox()
    # then the lines carry their rates, the orders the fee
    assert await OrderLine.filter(order_id=first["id"]).values_list("commission_rate_bps", flat=True) == [500]
    assert await OrderLine.filter(order_id=second["id"]).values_list("commission_rate_bps", flat=True) == [
        800
    ]
    a, b = await Order.get(id=first["id"]), await Order.get(id=second["id"])
    assert (a.payment_fee_bps, b.payment_fee_bps) == (60, 60)
    # and the payment's entry, fen by fen: earphones 79900 (+ shipping, none: free over the
    # threshold): commission 3995, fee 479.4 → 479; B's tea 2 × 1990 = 3980 + its shipping
    payment = await Payment.get(checkout__orders__id=first["id"])
    b_lines = await OrderLine.filter(order_id=b.id).values_list("payable", flat=True)
    b_commission = _round(b_lines[0] * 800, 10_000)
    b_fee = _round(b.payable * 60, 10_000)
    assert a.payable == 79900 and b_lines == [3980]
    assert await _postings(f"payment:{payment.id}") == [
        ("clearing", 79900, a.id),
        ("platform_commission", -3995, a.id),
        ("payment_fees", -479, a.id),
        (f"merchant_payable:{a.merchant_id}", -(79900 - 3995 - 479), a.id),
        ("clearing", b.payable, b.id),
        ("platform_commission", -b_commission, b.id),
        ("payment_fees", -b_fee, b.id),
        (f"merchant_payable:{b.merchant_id}", -(b.payable - b_commission - b_fee), b.id),
    ]
    assert b_commission == 318  # 3980 × 8% = 318.4
    entry = await JournalEntry.get(key=f"payment:{payment.id}")
    assert entry.occurred_at == (await Payment.get(id=payment.id)).paid_at
    await _books_hold()


async def test_a_line_refunded_in_three_parts_reverses_exactly_what_it_was_charged(
    client, simulator, settings
):
    # given tea at 3.33% (3 teas, 3000 fen: commission 99.9 → 100) and shipping 1000 (fee on
    # 4000: 24), bought and paid
    assert not (await import_rows([TEA])).problems
    tea_sku = await Sku.get(sku_code="LT1-1")
    await finance.set_commission_rate(staff=FINANCE, category_id=await _category_of(tea_sku), rate_bps=333)
    who = await shopper_with_address(client, simulator, "bob")
    order_id = await _place(client, who, [(tea_sku.id, 3)])
    await pay_order(client, simulator, who["headers"], order_id)
    await settle_outbox()
    order = await Order.get(id=order_id)
    line = await OrderLine.get(order_id=order_id)
    assert (line.payable, order.shipping_fee, order.payable) == (3000, 1000, 4000)
    shopper = await _shopper(who)
    merchant = f"merchant_payable:{order.merchant_id}"
    payment = await Payment.get(checkout__orders__id=order_id)
    assert await _postings(f"payment:{payment.id}") == [
        ("clearing", 4000, order_id),
        ("platform_commission", -100, order_id),
        ("payment_fees", -24, order_id),
        (merchant, -3876, order_id),
    ]
    # when the line is refunded in three parts: 333, 1333, then the rest (1334), which takes
    # the shipping fee with it (everything left, before shipment)
    expected = [  # (refund, of it the line's, commission reversed, fee reversed)
        (333, 333, 11, 2),  # 100 × 333/3000 = 11.1 → 11; 24 × 333/4000 = 1.998 → 2
        (1333, 1333, 45, 8),  # cumulative 1666: 55.53 → 56 (−11); 9.996 → 10 (−2)
        (2334, 1334, 44, 14),  # all 3000: all 100 (−56); all 4000: all 24 (−10)
    ]
    for amount, line_part, commission, fee in expected:
        asked = LineAsk(line.id, 1, line_part) if line_part != 1334 else LineAsk(line.id, 1)
        view = await aftersales.request_aftersale(
            shopper=shopper,
            order_id=order_id,
            kind="refund_only",
            lines=[asked],
            reason="协商一致退款",
            settings=settings,
        )
        assert view.amount == amount
        await _refunded(view.id)
        refund = await Refund.get(aftersale_id=view.id)
        # then each refund reverses its cumulative share, fen by fen (shipping: no commission)
        assert await _postings(f"refund:{refund.id}") == [
            ("clearing", -amount, order_id),
            ("platform_commission", commission, order_id),
            ("payment_fees", fee, order_id),
            (merchant, amount - commission - fee, order_id),
        ]
    # and the fully refunded order reverses exactly what it was charged: nothing is left
    balances = await _balances()
    assert {
        code: balances[code] for code in ("clearing", "platform_commission", "payment_fees", merchant)
    } == {
        "clearing": 0,
        "platform_commission": 0,
        "payment_fees": 0,
        merchant: 0,
    }
    assert (await Order.get(id=order_id)).status.value == "closed"
    await _books_hold()


async def test_money_for_a_cancelled_checkout_is_due_back_until_its_automatic_refund(client, simulator):
    # given a checkout of two orders paid in the WeChat sheet, the notification lost
    alice = await _alice(client, simulator)
    first, second = await two_order_checkout(client, alice)
    params = await pay_params(client, alice["headers"], first["id"])
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    await confirm_payment(simulator, prepay_id_of(params))
    payment = await Payment.get(checkout__orders__id=first["id"])
    # when alice cancels (WeChat Pay refuses to close it: it was paid, so the money goes back)
    assert (await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=alice["headers"])).status == 200
    await settle_outbox()
    # then the payment's entry holds each order's money as due back, no commission, no fee
    a, b = first["payable"], second["payable"]
    assert await _postings(f"payment:{payment.id}") == [
        ("clearing", a, first["id"]),
        ("refunds_due", -a, first["id"]),
        ("clearing", b, second["id"]),
        ("refunds_due", -b, second["id"]),
    ]

    # and once the automatic refunds succeed, nothing is due and the money is gone
    async def both_refunded() -> bool:
        return await Refund.filter(payment_id=payment.id, status="succeeded").count() == 2

    await eventually(both_refunded)
    await settle_outbox()
    for refund in await Refund.filter(payment_id=payment.id).order_by("order_id"):
        assert await _postings(f"refund:{refund.id}") == [
            ("refunds_due", refund.amount, refund.order_id),
            ("clearing", -refund.amount, refund.order_id),
        ]
    balances = await _balances()
    assert (balances["refunds_due"], balances["clearing"]) == (0, 0)
    await _books_hold()


async def test_a_refund_told_twice_posts_once(client, simulator, settings):
    # given a paid order with one refunded tea
    order_id, refund = await _teas_paid_one_refunded(client, simulator, settings, "carol", teas=2)
    before = await _balances()
    # when the ledger hears of it again (a redelivery)
    await handlers.post_refund(
        RefundSucceeded(refund_id=refund.id, order_id=order_id, aftersale_id=refund.aftersale_id)
    )
    # then nothing moves
    assert await _balances() == before
    assert await JournalEntry.filter(key=f"refund:{refund.id}").count() == 1


async def test_the_books_catch_up_with_money_that_moved_before_they_existed(client, simulator, settings):
    # given a shop whose money moved before the books: a two-merchant checkout paid, a tea
    # refunded, and a cancelled checkout's money returned automatically
    await _teas_paid_one_refunded(client, simulator, settings, "dora", teas=3)
    alice = await _alice(client, simulator)
    first, _second = await two_order_checkout(client, alice)
    params = await pay_params(client, alice["headers"], first["id"])
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    await confirm_payment(simulator, prepay_id_of(params))
    assert (await client.post(f"/api/v1/orders/{first['id']}/cancel", headers=alice["headers"])).status == 200
    await eventually(lambda: _all_refunds_posted(3))
    await settle_outbox()
    posted = await _every_posting()
    balances = await _balances()
    # when the books are emptied (as before they existed) and `shop migrate` catches up
    for model in (Posting, JournalEntry, ChargeReversal, LedgerAccount):
        await model.all().delete()
    caught_up = await backfill.post_missing()
    # then every payment and refund is posted as its subscriber posted it, payments first
    assert (caught_up.payments, caught_up.refunds) == (2, 3)
    assert await _every_posting() == posted
    assert await _balances() == balances
    await _books_hold()
    # and catching up again posts nothing
    assert await backfill.post_missing() == backfill.CaughtUp(0, 0)


async def test_a_refund_from_before_after_sales_is_split_over_what_the_lines_and_shipping_were_paid(
    client, simulator, settings
):
    # given three teas (3000 fen, 5%: commission 150) and shipping 1000 (fee 0.6% of 4000: 24),
    # paid, and one tea's 1000 fen refunded
    order_id, refund = await _teas_paid_one_refunded(client, simulator, settings, "erin", teas=3)
    assert refund.amount == 1000
    # when the books meet it as a refund from before after-sales (named by no request)
    await Refund.filter(id=refund.id).update(aftersale_id=None)
    for model in (Posting, JournalEntry, ChargeReversal, LedgerAccount):
        await model.all().delete()
    await backfill.post_missing()
    # then its 1000 fen are split as the order was paid: 750 the line's, 250 the shipping's,
    # and only the line's part reverses commission (150 × 750/3000 = 37.5 → 38; fee 24 × ¼ = 6)
    merchant = f"merchant_payable:{(await Order.get(id=order_id)).merchant_id}"
    assert await _postings(f"refund:{refund.id}") == [
        ("clearing", -1000, order_id),
        ("platform_commission", 38, order_id),
        ("payment_fees", 6, order_id),
        (merchant, 956, order_id),
    ]
    await _books_hold()


async def _all_refunds_posted(count: int) -> bool:
    keys = [f"refund:{i}" for i in await Refund.filter(status="succeeded").values_list("id", flat=True)]
    return len(keys) == count and all([await is_posted(key) for key in keys])


async def _every_posting() -> dict[str, list[tuple[str, int, int | None]]]:
    keys = await JournalEntry.all().order_by("id").values_list("key", flat=True)
    return {
        key: [(p.account_code, p.amount, p.order_id) for p in await queries.postings_of_entry(key)]
        for key in keys
    }


# --- helpers -------------------------------------------------------------------------------

TEA = sku_row("LT1", "LT1-1", title="龙井茶", category="食品 > 茶叶 > 绿茶", price="10.00", stock=20)


async def _category_of(sku: Sku) -> int:
    return (await Product.get(id=sku.product_id)).category_id


def _round(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


async def _alice(client, simulator) -> dict:
    await seed_small_catalog()
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    return {"headers": headers, "address_id": address["id"]}


async def _place(client, who: dict, items: list[tuple[int, int]]) -> int:
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": s, "quantity": q} for s, q in items], "address_id": who["address_id"]},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status == 201, await placed.text()
    return (await placed.json())["id"]


async def _shopper(who: dict) -> Shopper:
    user = await User.get(id=who["user_id"])
    return Shopper(user_id=user.id, openid=user.openid)


async def _teas_paid_one_refunded(client, simulator, settings, name: str, *, teas: int) -> tuple[int, Refund]:
    """A shopper's order of `teas` teas (10.00 each), paid, and one tea refunded through
    after-sales (the books have both): the order's id and the refund."""
    assert not (await import_rows([TEA])).problems
    tea_sku = await Sku.get(sku_code="LT1-1")
    who = await shopper_with_address(client, simulator, name)
    order_id = await _place(client, who, [(tea_sku.id, teas)])
    await pay_order(client, simulator, who["headers"], order_id)
    line = await OrderLine.get(order_id=order_id)
    view = await aftersales.request_aftersale(
        shopper=await _shopper(who),
        order_id=order_id,
        kind="refund_only",
        lines=[LineAsk(line.id, 1)],
        reason="不想要了",
        settings=settings,
    )
    await _refunded(view.id)
    return order_id, await Refund.get(aftersale_id=view.id)


async def _refunded(aftersale_id: int) -> None:
    """The request is refunded and the books have its refund (both subscribers ran)."""

    async def done() -> bool:
        request = await AfterSale.get(id=aftersale_id)
        return request.status.value == "refunded" and await is_posted(f"refund:{request.refund_id}")

    await eventually(done)


@needs_real_database
async def test_two_refunds_of_one_order_posted_at_once_reverse_exactly_what_was_charged(
    client, simulator, settings
):
    # given 2 teas at 3.33% (2000 fen: commission 66.6 → 67) and shipping 1000 (fee on 3000:
    # 18), paid, and the books' refund subscriber held back
    assert not (await import_rows([TEA])).problems
    tea_sku = await Sku.get(sku_code="LT1-1")
    await finance.set_commission_rate(staff=FINANCE, category_id=await _category_of(tea_sku), rate_bps=333)
    who = await shopper_with_address(client, simulator, "dave")
    order_id = await _place(client, who, [(tea_sku.id, 2)])
    await pay_order(client, simulator, who["headers"], order_id)
    await _postings(f"payment:{(await Payment.get(checkout__orders__id=order_id)).id}")
    table = subscribers(client.server.app[CORE])
    outbox.install(Subscriptions([s for s in table if s.name != "ledger.post_refund"]))
    line = await OrderLine.get(order_id=order_id)
    refunds = []
    for _ in range(2):  # one tea, then the other with the shipping: everything
        view = await aftersales.request_aftersale(
            shopper=await _shopper(who),
            order_id=order_id,
            kind="refund_only",
            lines=[LineAsk(line.id, 1)],
            reason="不想要了",
            settings=settings,
        )

        async def refunded(aftersale_id: int = view.id) -> bool:
            return (await AfterSale.get(id=aftersale_id)).status.value == "refunded"

        await eventually(refunded)
        refunds.append(await Refund.get(aftersale_id=view.id))
    # when the books hear of both refunds at once
    await asyncio.gather(
        *(
            handlers.post_refund(
                RefundSucceeded(refund_id=r.id, order_id=order_id, aftersale_id=r.aftersale_id)
            )
            for r in refunds
        )
    )
    # then they queued on the order: together they reverse all 67 and all 18, to the fen
    reversed_ = [await _postings(f"refund:{r.id}") for r in refunds]
    assert (
        sum(amount for postings in reversed_ for code, amount, _ in postings if code == "platform_commission")
        == 67
    )
    assert (
        sum(amount for postings in reversed_ for code, amount, _ in postings if code == "payment_fees") == 18
    )
    balances = await _balances()
    assert (balances["clearing"], balances["platform_commission"], balances["payment_fees"]) == (0, 0, 0)
    await _books_hold()


@needs_real_database
async def test_many_payments_posted_at_once_queue_on_the_shared_accounts_without_deadlocks(db, caplog):
    # given 40 checkouts of merchants 1-5, each posting to clearing, commission and fees
    orders = [
        ChargedOrder(n, f"T{n}", n % 5 + 1, 10_000 + n, 60, [ChargedLine(1_000 + n, 9_000 + n, 500)])
        for n in range(1, 41)
    ]
    await ensure_accounts([merchant_payable(m) for m in range(1, 6)])
    # when they are all posted at once
    await asyncio.gather(
        *(
            handlers.post_charged_payment(key=f"payment:{o.id}", paid=[o], returned=[], paid_at=None)
            for o in orders
        )
    )
    # then each posted once, none had to be re-run after a deadlock, and the books hold
    assert await JournalEntry.filter(kind="payment").count() == 40
    assert "lock conflict" not in caplog.text
    assert (await _balances())["clearing"] == sum(o.payable for o in orders)
    await _books_hold()
