"""A small shop for the admin web's boundary tests: two merchants (A and B) with products,
orders, after-sales refunds, two follower conversations, canned replies and one staff member
of every role; every admin route as a browser would call it; and a fingerprint of the database
to prove a refused request changed nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import FormData

from commerce import clock
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Category, Product, Sku
from commerce.community import leaders
from commerce.community import sales as community_sales
from commerce.community.commission_models import LeaderCommissionRate
from commerce.community.leaders import Application
from commerce.community.models import Batch, CommunitySale, Leader
from commerce.fulfilment.models import PickupPoint
from commerce.fulfilment.services import create_pickup_point
from commerce.groupbuy import deals
from commerce.ledger import services as ledger
from commerce.ledger.models import CommissionRate, JournalEntry
from commerce.ledger.services import ensure_accounts, merchant_payable
from commerce.ledger.states import EntryKind
from commerce.merchants.models import Merchant
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.payments.models import Payment, Refund
from commerce.payouts import services as payouts
from commerce.payouts.models import Payout, PayoutEvent
from commerce.reconciliation.models import ReconciliationDifference, ReconciliationRun
from commerce.reconciliation.services import reconcile_day
from commerce.referrals import kols
from commerce.referrals import tiers as kol_tiers
from commerce.referrals.models import Kol, KolFlag, KolTier, KolTierRate
from commerce.referrals.states import FlagStatus
from commerce.settlement import services as settlement
from commerce.settlement.models import Statement
from commerce.shipping.models import ShippingProvinceRule, ShippingTemplate
from commerce.shipping.provinces import PROVINCES
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from commerce.support.canned import create_canned_reply
from commerce.support.models import CannedReply, Conversation, ConversationMessage
from commerce.users.models import User
from commerce.users.services import Shopper as Payee
from shop.app import CORE
from tests.builders import PASSWORD, Shopper, add_staff, catalog_csv, file_form, finished_import
from tests.edges.paying import sim
from tests.factories import sku_row
from tests.referral_builders import approved_kol

# One account per role; the merchant's two belong to merchant A.
ADMIN, OWNER, CLERK, AGENT, FINANCE = "boss", "a-owner", "a-clerk", "agent-1", "money-1"
BOB_PHONE = "13900139111"


@dataclass
class World:
    """Ids of what the tests aim at (zeros: a world not built, for the route table alone)."""

    merchant_a: int = 0
    merchant_b: int = 0
    merchant_c: int = 0  # a spare merchant the platform admin changes
    category: int = 0
    product_a: int = 0  # cheap: an agent may refund it
    product_b: int = 0
    sku_a: int = 0
    sku_b: int = 0
    stock_a: int = 0  # A's and B's SKU stock once the orders below took theirs
    stock_b: int = 0
    order_a: int = 0  # paid, A's product only
    order_b: int = 0  # paid, B's product only (bob's)
    # One checkout of A's and B's products: one paid order per merchant.
    order_mixed: int = 0  # its order of A's product
    order_mixed_b: int = 0  # its order of B's product
    order_no_a: str = ""
    order_no_b: str = ""
    # After-sales requests (refund only, after shipment) waiting for review.
    refund_a: int = 0  # within the agents' limit
    refund_a_dear: int = 0  # above the agents' limit
    refund_b: int = 0  # B's (bob's)
    order_of_refund_a: int = 0
    order_of_refund_a_dear: int = 0
    order_of_refund_b: int = 0
    alice: int = 0  # a shopper who bought from A (and from B, in the mixed order)
    bob: int = 0  # a shopper who bought from B only
    conversation: int = 0
    conversation_2: int = 0
    canned: int = 0
    canned_2: int = 0
    agent_id: int = 0
    clerk_id: int = 0  # merchant A's clerk: its owner manages it
    admin_job: str = "x" * 24  # an import job of the platform admin
    point_a: int = 0  # A's pickup point (no order waits there)
    point_b: int = 0
    point_p: int = 0  # the platform's pickup point
    deal_a: int = 0  # A's 拼团 deal on its tea
    deal_b: int = 0
    statement_a: int = 0  # A's settlement statement (issued: finance approves, then pays it)
    statement_b: int = 0
    # Community sales of tomorrow: merchant A's and the platform's, each with a batch formed
    # (no orders in it) at the platform's point.
    sale_a: int = 0
    sale_p: int = 0
    community_batch_a: int = 0
    community_batch_p: int = 0
    ledger_account: int = 0  # merchant A's payable in the books
    payout: int = 0  # alice's withdrawal waiting for a person's approval
    payout_2: int = 0  # another of hers, to refuse
    # Today's reconciliation (WeChat Pay's bill left order A's payment out): its one difference.
    recon_day: str = "2026-01-01"
    difference: int = 0
    leader_a: int = 0  # alice's application: approved, suspended, reinstated
    leader_b: int = 0  # bob's application: refused
    kol_a: int = 0  # alice's KOL application: approved into a tier, moved, suspended, reinstated
    kol_b: int = 0  # bob's KOL application: refused
    kol_tier: int = 0  # a KOL tier besides the default
    kol_invitee: int = 0  # a user the platform invites to be a KOL
    kol_flag: int = 0  # two more KOLs, flagged: one flag released, one voided
    kol_flag_2: int = 0


async def build_world(client, simulator) -> World:
    w = World()
    w.merchant_a = await ensure_merchant(code="shop-a", name="甲店")
    w.merchant_b = await ensure_merchant(code="shop-b", name="乙店")
    w.merchant_c = await ensure_merchant(code="shop-c", name="丙店")
    tea = sku_row("A1", "A1-1", title="甲店茶叶", category="食品 > 茶叶 > 绿茶", price="19.90", stock=50)
    set_ = sku_row("A2", "A2-1", title="甲店茶具", category="食品 > 茶叶 > 绿茶", price="899.00", stock=20)
    coffee = sku_row("B1", "B1-1", title="乙店咖啡", category="食品 > 咖啡 > 咖啡豆", price="29.90", stock=50)
    for rows, merchant in (([tea, set_], w.merchant_a), ([coffee], w.merchant_b)):
        report = await import_rows(rows, merchant_id=merchant)
        assert not report.problems, report.problems
    tea_product = await Product.get(spu_code="A1")
    w.product_a, w.category = tea_product.id, tea_product.category_id
    w.product_b = (await Product.get(spu_code="B1")).id
    w.sku_a, w.sku_b = (await Sku.get(sku_code="A1-1")).id, (await Sku.get(sku_code="B1-1")).id

    await create_platform_admin(username=ADMIN, password=PASSWORD)
    await add_staff(OWNER, StaffRole.MERCHANT_OWNER, w.merchant_a)
    await add_staff(CLERK, StaffRole.MERCHANT_STAFF, w.merchant_a)
    await add_staff(AGENT, StaffRole.AGENT)
    await add_staff(FINANCE, StaffRole.FINANCE)
    admin_id = (await StaffAccount.get(username=ADMIN)).id
    w.agent_id = (await StaffAccount.get(username=AGENT)).id
    w.clerk_id = (await StaffAccount.get(username=CLERK)).id

    alice = await Shopper.start(client, simulator, "alice")
    bob = await Shopper.start(client, simulator, "bob")
    w.alice, w.bob = alice.user_id, bob.user_id
    await User.filter(id=bob.user_id).update(phone=BOB_PHONE)
    order_a = await alice.order(["A1-1"])
    w.order_a, w.order_no_a = order_a["id"], order_a["order_no"]
    order_b = await bob.order(["B1-1"])
    w.order_b, w.order_no_b = order_b["id"], order_b["order_no"]
    mixed = await alice.order(["A1-1", "B1-1"])
    w.order_mixed, w.order_mixed_b = [order["id"] for order in mixed["checkout"]["orders"]]
    w.order_of_refund_a, w.refund_a = await alice.refunded_after_shipping("A1-1")
    w.order_of_refund_a_dear, w.refund_a_dear = await alice.refunded_after_shipping("A2-1")
    w.order_of_refund_b, w.refund_b = await bob.refunded_after_shipping("B1-1")
    w.stock_a, w.stock_b = (await Sku.get(id=w.sku_a)).stock, (await Sku.get(id=w.sku_b)).stock
    w.point_a = (await create_pickup_point(name="甲店门店", address="甲路 1 号", merchant_id=w.merchant_a)).id
    w.point_b = (await create_pickup_point(name="乙店门店", address="乙路 2 号", merchant_id=w.merchant_b)).id
    w.point_p = (await create_pickup_point(name="平台驿站", address="中心路 9 号", merchant_id=None)).id
    w.deal_a = await deals.create_deal(deal=_deal(w.sku_a, 990), merchant_id=w.merchant_a)
    w.deal_b = await deals.create_deal(deal=_deal(w.sku_b, 1990), merchant_id=w.merchant_b)
    account = merchant_payable(w.merchant_a)
    w.ledger_account = (await ensure_accounts([account]))[account.code]

    for user in ("alice", "bob"):  # each asks the bot for a person: a waiting conversation
        await sim(simulator, "POST", "/mp/send", {"user": user, "type": "text", "content": "人工"})
    w.conversation, w.conversation_2 = await Conversation.all().order_by("id").values_list("id", flat=True)
    actor = f"staff:{admin_id}"
    w.canned = (await create_canned_reply(title="问候", text="您好，请问有什么可以帮您？", actor=actor)).id
    w.canned_2 = (await create_canned_reply(title="再见", text="感谢您的耐心等待", actor=actor)).id
    w.admin_job = await finished_import(client, admin_id, None, [{"spu_code": "Z1", "price": "免费"}])
    w.payout, w.payout_2 = await _withdrawals(client, w.alice)
    await _reconciled_today(client, simulator, w)
    w.statement_a, w.statement_b = await _statements(w.merchant_a, w.merchant_b)
    applied = [await leaders.apply(user_id=u, application=LEADER_APPLICATION) for u in (w.alice, w.bob)]
    w.leader_a, w.leader_b = [leader.id for leader in applied]
    kol_applied = [await kols.apply(user_id=u, application=KOL_APPLICATION) for u in (w.alice, w.bob)]
    w.kol_a, w.kol_b = [kol.id for kol in kol_applied]
    w.kol_tier = (await kol_tiers.create_tier(name="金牌", rate_bps=1000, actor=actor)).id
    w.kol_invitee = (await User.create(openid=f"o-invitee-{'x' * 20}", nickname="达人")).id
    await _community_sales(w)
    await _kol_flags(w)
    return w


KOL_APPLICATION = kols.Application(name="林小美", phone="13912345678", intro="小红书博主")


async def _kol_flags(w: World) -> None:
    """two more KOLs flagged for self-referrals (nothing held): one flag each, open."""
    for name, attr in (("阿丽", "kol_flag"), ("阿博", "kol_flag_2")):
        user = await User.create(openid=f"o-flagged-{attr}-{'x' * 12}", nickname=name)
        kol = await approved_kol(user_id=user.id, name=name)
        flag = await KolFlag.create(
            kol_id=kol.id,
            open_key=kol.id,
            status=FlagStatus.OPEN,
            kinds=["self_referral"],
            evidence={"self_referral": {"value": 3, "threshold": 3, "evidence": {"touches": []}}},
            created_at=clock.now(),
        )
        setattr(w, attr, flag.id)


LEADER_APPLICATION = Application(
    name="王芳", phone="13800138000", address="南山区科技园 1 号", latitude=22.545, longitude=113.938
)


async def _community_sales(w: World) -> None:
    tomorrow = community_sales.shanghai_today() + timedelta(days=1)
    for merchant, attr in ((w.merchant_a, "a"), (None, "p")):
        sale = await community_sales.create_sale(
            title=f"团购{attr}",
            sale_date=tomorrow,
            items=[(w.sku_a, 1500)],
            merchant_id=merchant,
            cutoff_hour=23,
            actor="staff:0",
        )
        setattr(w, f"sale_{attr}", sale.id)
        batch = await Batch.create(
            sale_id=sale.id, leader_id=0, pickup_point_id=w.point_p, created_at=clock.now()
        )
        setattr(w, f"community_batch_{attr}", batch.id)


async def _withdrawals(client, user_id: int) -> tuple[int, int]:
    """Two withdrawals of ¥500 each (above what is approved by itself) of what alice is owed."""
    await ledger.record(
        key="adjustment:admin-world",
        kind=EntryKind.ADJUSTMENT,
        lines=[
            ledger.Line(ledger.PLATFORM_ADJUSTMENTS, 100_000),
            ledger.Line(ledger.payee_payable(user_id), -100_000),
        ],
    )
    payee = Payee(user_id=user_id, openid=(await User.get(id=user_id)).openid)
    core = client.app[CORE]
    ids = []
    for key in ("admin-world-1", "admin-world-2"):
        view = await payouts.request_withdrawal(
            shopper=payee, amount=50_000, idempotency_key=key, rules=payouts.PayoutRules(), pay=core.pay
        )
        ids.append(view.id)
    return ids[0], ids[1]


async def _reconciled_today(client, simulator, w: World) -> None:
    """Today reconciled with a bill missing order A's payment; yesterday's bills (no movement)
    ready for a run asked from the page."""
    today = clock.to_shanghai(clock.now()).date()
    paid = await Payment.filter(checkout__orders__id=w.order_a, status="paid").get()
    for body in (
        {"bill_date": str(today), "reference": paid.out_trade_no},
        {"bill_date": str(today)},
        {"bill_date": str(today - timedelta(days=1))},
    ):
        status, answer = await sim(
            simulator, "POST", "/pay/bills/drop" if "reference" in body else "/pay/bills/close-day", body
        )
        assert status == 200, answer
    await reconcile_day(pay=client.app[CORE].pay, bill_date=today)
    w.recon_day = today.isoformat()
    w.difference = (await ReconciliationDifference.get(reference=paid.out_trade_no)).id


async def _statements(*merchant_ids: int) -> list[int]:
    """A statement per merchant, of a credit the platform gave each yesterday (a posting of no
    order settles at once): their ids, in the merchants' order."""
    yesterday = clock.now() - timedelta(days=1)
    for merchant_id in merchant_ids:
        await ledger.record(
            key=f"adjustment:world-{merchant_id}",
            kind=EntryKind.ADJUSTMENT,
            lines=[
                ledger.Line(ledger.PLATFORM_ADJUSTMENTS, 5000),
                ledger.Line(ledger.merchant_payable(merchant_id), -5000),
            ],
            memo="平台补贴",
            occurred_at=yesterday,
        )
    with clock.frozen(clock.now() + timedelta(days=1)):
        issued = await settlement.issue_statements(period="daily", window_days=7)
    by_merchant = dict(await Statement.filter(id__in=issued).values_list("merchant_id", "id"))
    return [by_merchant[m] for m in merchant_ids]


async def catalogue_of(merchant_id: int) -> tuple[list, list]:
    """A merchant's products and SKUs as they stand."""
    products = Product.filter(merchant_id=merchant_id).order_by("id")
    skus = Sku.filter(product__merchant_id=merchant_id).order_by("id")
    return (
        await products.values_list("id", "spu_code", "title", "status", "min_price", "total_stock"),
        await skus.values_list("id", "sku_code", "price", "stock"),
    )


async def fingerprint() -> dict[str, object]:
    """What a staff action could change, to compare before and after a refused one."""
    return {
        "merchants": await Merchant.all().order_by("id").values_list("id", "name", "status"),
        "staff": await StaffAccount.all()
        .order_by("id")
        .values_list("id", "username", "display_name", "role", "merchant_id", "is_active"),
        "sessions": await StaffAccount.all().order_by("id").values_list("session_epoch", "password_hash"),
        "categories": await Category.all().count(),
        "products": await Product.all()
        .order_by("id")
        .values_list("id", "spu_code", "title", "status", "merchant_id", "min_price", "total_stock"),
        "skus": await Sku.all().order_by("id").values_list("id", "price", "stock"),
        "orders": await Order.all().order_by("id").values_list("id", "status", "carrier", "tracking_no"),
        "order_events": await OrderEvent.all().count(),
        "refunds": await Refund.all().order_by("id").values_list("id", "status", "reviewed_by", "refusal"),
        "aftersales": await AfterSale.all()
        .order_by("id")
        .values_list("id", "status", "reviewed_by", "refusal"),
        "aftersale_events": await AfterSaleEvent.all().count(),
        "payouts": await Payout.all().order_by("id").values_list("id", "status", "approved_by", "refusal"),
        "payout_events": await PayoutEvent.all().count(),
        "conversations": await Conversation.all().order_by("id").values_list("id", "status", "agent_id"),
        "messages": await ConversationMessage.all().count(),
        "canned": await CannedReply.all().order_by("id").values_list("id", "title", "text"),
        "audit": await AuditEntry.all().count(),
        "shipping": await ShippingTemplate.all()
        .order_by("id")
        .values_list("merchant_id", "fee", "free_from", "version"),
        "shipping_provinces": await ShippingProvinceRule.all().count(),
        "community_sales": await CommunitySale.all().order_by("id").values_list("id", "status"),
        "community_batches": await Batch.all().order_by("id").values_list("id", "status"),
        "statements": await Statement.all()
        .order_by("id")
        .values_list("id", "status", "approved_by", "paid_by", "bank_reference"),
        "ledger_entries": await JournalEntry.all().count(),
        "commission_rates": await CommissionRate.all().order_by("id").values_list("category_id", "rate_bps"),
        "leader_commission_rates": await LeaderCommissionRate.all()
        .order_by("id")
        .values_list("category_id", "product_id", "rate_bps"),
        "adjustments": await JournalEntry.filter(kind="adjustment").count(),
        "reconciliation_runs": await ReconciliationRun.all()
        .order_by("id")
        .values_list("bill_date", "status", "attempts"),
        "reconciliation_differences": await ReconciliationDifference.all()
        .order_by("id")
        .values_list("id", "status", "resolution"),
        "leaders": await Leader.all().order_by("id").values_list("id", "status", "reason", "reviewed_by"),
        "kols": await Kol.all().order_by("id").values_list("id", "status", "reason", "tier_id"),
        "kol_tiers": await KolTier.all()
        .order_by("id")
        .values_list("id", "name", "rate_bps", "second_level_bps"),
        "kol_tier_rates": await KolTierRate.all()
        .order_by("id")
        .values_list("tier_id", "category_id", "rate_bps"),
        "kol_flags": await KolFlag.all().order_by("id").values_list("id", "status", "decided_by", "note"),
        "pickup_points": await PickupPoint.all()
        .order_by("id")
        .values_list("id", "name", "address", "opening_hours", "contact_phone", "active"),
    }


# --- every admin route, as a browser calls it ------------------------------------------------


@dataclass(frozen=True)
class Way:
    """One request to the admin: `name` is its row in the tests' tables; `route` the route
    as registered (so a test can tell that every route has a row)."""

    name: str
    method: str
    route: str
    url: str
    form: tuple[tuple[str, str], ...] = ()
    file: tuple[str, bytes] | None = None  # (file name, content) posted as "file"

    def body(self, csrf: str | None) -> FormData | list[tuple[str, str]]:
        """The form as posted: with the CSRF token given (none when None)."""
        token = [("csrf_token", csrf)] if csrf is not None else []
        if self.file is None:
            return token + list(self.form)
        return file_form(token + list(self.form), *self.file)


def product_form(w: World, *, title: str, merchant_id: int, sku_code: str = "", stock: int = 5, **extra: str):
    """The product form of a product with one SKU and no spec axes (stock as seen: not
    moved), saved."""
    return (
        ("title", title),
        ("category_id", str(w.category)),
        ("merchant_id", str(merchant_id)),
        ("sku_combo_0", json.dumps([])),
        ("sku_code_0", sku_code),
        ("price_0", "19.90"),
        ("stock_0", str(stock)),
        *((("stock_seen_0", str(stock)),) if sku_code else ()),
        *extra.items(),
        ("do", "save"),
    )


def bulk_form(stocks: dict[int, int]) -> tuple[tuple[str, str], ...]:
    """The bulk page's rows for these SKUs (id: stock shown): price set to 18.80, stock as
    seen (not moved)."""
    rows: list[tuple[str, str]] = [("sku", str(i)) for i in stocks]
    for i, stock in stocks.items():
        rows += [(f"price_{i}", "18.80"), (f"stock_{i}", str(stock)), (f"stock_seen_{i}", str(stock))]
    return tuple(rows)


def _get(name: str, route: str, url: str = "") -> Way:
    return Way(name, "GET", "/admin" + route, "/admin" + (url or route))


def _post(name: str, route: str, url: str = "", form=(), file: tuple[str, bytes] | None = None) -> Way:
    return Way(name, "POST", "/admin" + route, "/admin" + (url or route), tuple(form), file)


def _deal(sku_id: int, price: int) -> deals.DealInput:
    return deals.DealInput(
        title="两人团",
        prices={sku_id: price},
        group_size=2,
        time_limit_minutes=60,
        per_shopper_limit=1,
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        ends_at=datetime(2036, 1, 1, tzinfo=UTC),
    )


def _group_deal_ways(w: World) -> tuple[list[Way], list[Way]]:
    """(pages, actions) of the 拼团 deals: A's and B's."""
    form = (
        ("title", "甲店两人团"),
        ("prices", f"{w.sku_a},0.01"),
        ("group_size", "2"),
        ("time_limit_minutes", "60"),
        ("per_shopper_limit", "1"),
        ("starts_at", "2026-01-01T00:00"),
        ("ends_at", "2036-01-01T00:00"),
    )
    form_b = (*form[:1], ("prices", f"{w.sku_b},0.01"), *form[2:])
    deal = "/group-deals/{id}"
    pages = [
        _get("group_deals", "/group-deals"),
        _get("group_deal.new", "/group-deals/new"),
        _get("group_deal.A", deal, f"/group-deals/{w.deal_a}"),
        _get("group_deal.B", deal, f"/group-deals/{w.deal_b}"),
    ]
    actions = [
        _post("group_deal.create", "/group-deals", form=form),
        _post("group_deal.save.A", deal, f"/group-deals/{w.deal_a}", form),
        _post("group_deal.save.B", deal, f"/group-deals/{w.deal_b}", form_b),
        _post("group_deal.end.A", deal + "/end", f"/group-deals/{w.deal_a}/end"),
        _post("group_deal.end.B", deal + "/end", f"/group-deals/{w.deal_b}/end"),
    ]
    return pages, actions


def _point_switch(action: str, owner: str, point_id: int) -> Way:
    """Close or reopen a pickup point (owner: A, B or P, the platform)."""
    route = "/pickups/points/{id}/" + action
    return _post(f"pickup_point.{action}.{owner}", route, f"/pickups/points/{point_id}/{action}")


def ways(w: World) -> list[Way]:
    """Every admin route (a row per object where merchants must be told apart), pages first,
    then actions in an order a person could take them (claim before reply, approve before
    retry); routes and URLs below are under /admin."""
    a, b, job = w.product_a, w.product_b, f"/products/import/{w.admin_job}"
    ship = (("carrier", "顺丰速运"), ("tracking_no", "SF1234567890"))
    retry_refund = "/orders/{id}/refunds/{refund_id}/retry"
    ship_file = ("ship.csv", f"订单号,快递公司,快递单号\n{w.order_no_b},顺丰速运,SF2222222222\n".encode())
    new_row = {"category": "食品 > 茶叶 > 绿茶", "spu_code": "N1", "title": "新茶", "sku_code": "N1-1"}
    import_file = ("new.csv", catalog_csv([{**new_row, "price": "9.90", "stock": "3"}]))
    create = product_form(w, title="新茶", merchant_id=w.merchant_a)
    save_a = product_form(w, title="甲店好茶", merchant_id=w.merchant_a, sku_code="A1-1", stock=w.stock_a)
    save_b = product_form(w, title="乙店好咖啡", merchant_id=w.merchant_b, sku_code="B1-1", stock=w.stock_b)
    new_staff = (("username", "c-clerk"), ("password", PASSWORD), ("role", "merchant_staff"))
    refund_a, refund_b = f"/aftersales/{w.refund_a}", f"/aftersales/{w.refund_b}"
    dear, refuse = f"/aftersales/{w.refund_a_dear}/refuse", (("reason", "已拆封"),)
    talk, talk_2 = f"/support/{w.conversation}", f"/support/{w.conversation_2}"
    off_shelf = (("status", "off_shelf"),)
    xinjiang = PROVINCES.index("新疆维吾尔自治区")
    points = "/pickups/points"
    books = "/finance/ledger/accounts"
    leader_a, leader_b = f"/leaders/{w.leader_a}", f"/leaders/{w.leader_b}"
    point = (
        ("name", "新门店"),
        ("address", "新路 5 号"),
        ("opening_hours", "9:00-18:00"),
        ("contact_phone", "13800138000"),
    )
    shipping = (("version", "0"), ("fee", "8.00"), ("free_from", "59"), (f"undeliverable_{xinjiang}", "1"))
    statement_a, statement_b = f"/statements/{w.statement_a}", f"/statements/{w.statement_b}"
    paid = (("reference", "ICBC-20261207-1"), ("paid_on", clock.to_shanghai(clock.now()).date().isoformat()))
    group_pages, group_actions = _group_deal_ways(w)
    # fmt: off
    return [
        _get("dashboard", "/"),
        _get("dashboard.bare", "", ""),
        _get("static", "/static", "/static/inbox.js"),
        *group_pages,
        _get("merchants", "/merchants"),
        _get("merchant.A", "/merchants/{id}", f"/merchants/{w.merchant_a}"),
        _get("audit", "/audit"),
        _get("jobs", "/jobs"),
        _get("reconciliation", "/finance/reconciliation"),
        _get("reconciliation.day", "/finance/reconciliation/{day}", f"/finance/reconciliation/{w.recon_day}"),
        _get("reconciliation.day.bad", "/finance/reconciliation/{day}", "/finance/reconciliation/2026-13-45"),
        _get("staff", "/staff"),
        _get("products", "/products"),
        _get("product.new", "/products/new"),
        _get("product.A", "/products/{id}", f"/products/{a}"),
        _get("product.B", "/products/{id}", f"/products/{b}"),
        _get("bulk.A", "/products/bulk", f"/products/bulk?id={a}"),
        _get("bulk.B", "/products/bulk", f"/products/bulk?id={b}"),
        _get("bulk.A+B", "/products/bulk", f"/products/bulk?id={a}&id={b}"),
        _get("import", "/products/import"),
        _get("import.csv", "/products/import/template.csv"),
        _get("import.xlsx", "/products/import/template.xlsx"),
        _get("import.job", "/products/import/{job_id}", job),
        _get("import.job.json", "/products/import/{job_id}.json", f"{job}.json"),
        _get("import.job.errors", "/products/import/{job_id}/errors.csv", f"{job}/errors.csv"),
        _get("export", "/products/export"),
        _get("orders", "/orders"),
        _get("order.A", "/orders/{id}", f"/orders/{w.order_a}"),
        _get("order.B", "/orders/{id}", f"/orders/{w.order_b}"),
        _get("order.mixed", "/orders/{id}", f"/orders/{w.order_mixed}"),
        _get("order.mixed.B", "/orders/{id}", f"/orders/{w.order_mixed_b}"),
        _get("ship-bulk", "/orders/ship-bulk"),
        _get("ship-bulk.xlsx", "/orders/ship-bulk/template.xlsx"),
        _get("refunds", "/refunds"),  # the old address: leads to after-sales
        _get("aftersales", "/aftersales"),
        _get("aftersale.A", "/aftersales/{id}", refund_a),
        _get("aftersale.B", "/aftersales/{id}", refund_b),
        _get("payouts", "/finance/payouts", "/finance/payouts?status=requested"),
        _get("payout", "/finance/payouts/{id}", f"/finance/payouts/{w.payout}"),
        _get("payout.missing", "/finance/payouts/{id}", "/finance/payouts/999999"),
        _get("users", "/users"),
        _get("user.alice", "/users/{id}", f"/users/{w.alice}"),
        _get("user.bob", "/users/{id}", f"/users/{w.bob}"),
        _get("support", "/support"),
        _get("support.rows", "/support/rows"),
        _get("support.stream", "/support/stream"),
        _get("conversation", "/support/{id}", talk),
        _get("conversation.stream", "/support/{id}/stream", f"{talk}/stream"),
        _get("canned", "/support/canned"),
        _get("shipping", "/shipping"),
        _get("pickups", "/pickups"),
        _get("community_sales", "/community-sales"),
        _get("community_batches", "/batches"),
        *(_get(f"community_batch.{o}{kind}", f"/batches/{{id}}{kind}", f"/batches/{i}{kind}")
          for o, i in (("A", w.community_batch_a), ("P", w.community_batch_p))
          for kind in ("", "/picking.xlsx", "/picking.csv")),
        _get("shipping.A", "/shipping/{id}", f"/shipping/{w.merchant_a}"),
        _get("shipping.B", "/shipping/{id}", f"/shipping/{w.merchant_b}"),
        _get("pickup_points", "/pickups/points"),
        _get("pickup_point.new", "/pickups/points/new"),
        _get("pickup_point.A", "/pickups/points/{id}", f"/pickups/points/{w.point_a}"),
        _get("pickup_point.B", "/pickups/points/{id}", f"/pickups/points/{w.point_b}"),
        _get("pickup_point.P", "/pickups/points/{id}", f"/pickups/points/{w.point_p}"),
        _get("statements", "/statements"),
        _get("statement.A", "/statements/{id}", statement_a),
        _get("statement.B", "/statements/{id}", statement_b),
        _get("statement.A.xlsx", "/statements/{id}.xlsx", f"{statement_a}.xlsx"),
        _get("statement.B.xlsx", "/statements/{id}.xlsx", f"{statement_b}.xlsx"),
        _get("statement.A.csv", "/statements/{id}.csv", f"{statement_a}.csv"),
        _get("statement.B.csv", "/statements/{id}.csv", f"{statement_b}.csv"),
        _get("statement.A.print", "/statements/{id}/print", f"{statement_a}/print"),
        _get("statement.B.print", "/statements/{id}/print", f"{statement_b}/print"),
        *(_get(f"section.{slug}", "/{section}", f"/{slug}") for slug in SECTIONS),
        _get("finance", "/finance"),
        _get("finance.ledger", "/finance/ledger"),
        _get("finance.account", "/finance/ledger/accounts/{id}", f"{books}/{w.ledger_account}"),
        _get("finance.account.none", "/finance/ledger/accounts/{id}", f"{books}/999999"),
        _get("finance.commission", "/finance/commission"),
        _get("finance.leader_commissions", "/finance/leader-commissions"),
        _get("finance.leader_commissions.csv", "/finance/leader-commissions.csv"),
        _get("kol_commissions", "/kol-commissions"),
        _get("kol_commissions.csv", "/kol-commissions.csv"),
        _get("kol_commissions.xlsx", "/kol-commissions.xlsx"),
        _post("merchant.create", "/merchants", form=(("code", "shop-d"), ("name", "丁店"))),
        _post("merchant.staff", "/merchants/{id}/staff", f"/merchants/{w.merchant_c}/staff", new_staff),
        _post("merchant.status", "/merchants/{id}/status", f"/merchants/{w.merchant_c}/status",
              (("status", "suspended"), ("reason", "资质过期"))),
        _post("product.create", "/products/new", form=create),
        _post("product.save.A", "/products/{id}", f"/products/{a}", save_a),
        _post("product.save.B", "/products/{id}", f"/products/{b}", save_b),
        _post("product.status.A", "/products/{id}/status", f"/products/{a}/status", off_shelf),
        _post("product.status.B", "/products/{id}/status", f"/products/{b}/status", off_shelf),
        _post("batch.A", "/products/batch", form=(("do", "on_sale"), ("id", str(a)))),
        _post("batch.B", "/products/batch", form=(("do", "off_shelf"), ("id", str(b)))),
        _post("bulk.save.A", "/products/bulk", form=bulk_form({w.sku_a: w.stock_a})),
        _post("bulk.save.B", "/products/bulk", form=bulk_form({w.sku_b: w.stock_b})),
        _post("order.ship.A", "/orders/{id}/ship", f"/orders/{w.order_a}/ship", ship),
        _post("order.ship.B", "/orders/{id}/ship", f"/orders/{w.order_b}/ship", ship),
        _post("order.ship.mixed", "/orders/{id}/ship", f"/orders/{w.order_mixed}/ship", ship),
        _post("order.note.A", "/orders/{id}/notes", f"/orders/{w.order_a}/notes", (("text", "买家来电"),)),
        _post("order.note.B", "/orders/{id}/notes", f"/orders/{w.order_b}/notes", (("text", "买家来电"),)),
        _post("ship-bulk.upload", "/orders/ship-bulk", file=ship_file),
        _post("order.reveal.A", "/orders/{id}/reveal", f"/orders/{w.order_a}/reveal"),
        _post("order.reveal.B", "/orders/{id}/reveal", f"/orders/{w.order_b}/reveal"),
        _post("order.refund-retry.A", retry_refund, f"/orders/{w.order_a}/refunds/0/retry"),
        _post("order.refund-retry.B", retry_refund, f"/orders/{w.order_b}/refunds/0/retry"),
        _post("aftersale.note.A", "/aftersales/{id}/notes", f"{refund_a}/notes", (("text", "买家来电"),)),
        _post("aftersale.note.B", "/aftersales/{id}/notes", f"{refund_b}/notes", (("text", "买家来电"),)),
        _post("aftersale.receive.A", "/aftersales/{id}/receive", f"{refund_a}/receive",
              (("restock", "yes"),)),
        _post("aftersale.reject-return.A", "/aftersales/{id}/reject-return", f"{refund_a}/reject-return",
              (("reason", "未收到退货"),)),
        _post("aftersale.approve.A", "/aftersales/{id}/approve", f"{refund_a}/approve"),
        _post("aftersale.refuse.A-dear", "/aftersales/{id}/refuse", dear, refuse),
        _post("aftersale.retry.A", "/aftersales/{id}/retry", f"{refund_a}/retry"),
        _post("aftersale.approve.B", "/aftersales/{id}/approve", f"{refund_b}/approve"),
        _post("payout.approve", "/finance/payouts/{id}/approve", f"/finance/payouts/{w.payout}/approve"),
        _post("payout.refuse", "/finance/payouts/{id}/refuse", f"/finance/payouts/{w.payout_2}/refuse",
              (("reason", "账户信息待核实"),)),
        _post("shipping.save.A", "/shipping/{id}", f"/shipping/{w.merchant_a}", shipping),
        _post("pickups.verify.A", "/pickups/verify", form=(("point_id", str(w.point_a)), ("code", "123456"))),
        _post("pickups.verify.B", "/pickups/verify", form=(("point_id", str(w.point_b)), ("code", "123456"))),
        _post("shipping.save.B", "/shipping/{id}", f"/shipping/{w.merchant_b}", shipping),
        _post("order.ready.A", "/orders/{id}/ready-for-pickup", f"/orders/{w.order_a}/ready-for-pickup"),
        _post("order.ready.B", "/orders/{id}/ready-for-pickup", f"/orders/{w.order_b}/ready-for-pickup"),
        _post("pickup_point.create", "/pickups/points", form=point),
        _post("statement.approve.A", "/statements/{id}/approve", f"{statement_a}/approve"),
        _post("statement.paid.A", "/statements/{id}/paid", f"{statement_a}/paid", paid),
        _post("statement.paid.B", "/statements/{id}/paid", f"{statement_b}/paid", paid),
        _post("pickup_point.save.A", "/pickups/points/{id}", f"{points}/{w.point_a}", point),
        _post("pickup_point.save.B", "/pickups/points/{id}", f"{points}/{w.point_b}", point),
        _post("pickup_point.save.P", "/pickups/points/{id}", f"{points}/{w.point_p}", point),
        _point_switch("deactivate", "A", w.point_a),
        _point_switch("reactivate", "A", w.point_a),
        _point_switch("deactivate", "B", w.point_b),
        _point_switch("deactivate", "P", w.point_p),
        _point_switch("reactivate", "P", w.point_p),
        _post("user.reveal.alice", "/users/{id}/reveal-phone", f"/users/{w.alice}/reveal-phone"),
        _post("user.reveal.bob", "/users/{id}/reveal-phone", f"/users/{w.bob}/reveal-phone"),
        _post("canned.create", "/support/canned", form=(("title", "物流"), ("text", "已为您催促快递"))),
        _post("canned.update", "/support/canned/{id}", f"/support/canned/{w.canned}",
              (("title", "问候"), ("text", "您好！"))),
        _post("canned.delete", "/support/canned/{id}/delete", f"/support/canned/{w.canned_2}/delete"),
        _post("conversation.claim", "/support/{id}/claim", f"{talk}/claim"),
        _post("conversation.reply", "/support/{id}/reply", f"{talk}/reply", (("text", "您好"),)),
        _post("conversation.close", "/support/{id}/close", f"{talk}/close"),
        _post("conversation.transfer", "/support/{id}/transfer", f"{talk_2}/transfer",
              (("agent_id", str(w.agent_id)),)),
        _post("staff.create", "/staff", form=(("username", "agent-2"), ("display_name", "客服小李"),
              ("password", PASSWORD), ("role", "agent"))),
        # after the conversations: the agent is deactivated, then let back in
        _post("staff.deactivate.agent", "/staff/{id}/deactivate", f"/staff/{w.agent_id}/deactivate"),
        _post("staff.reactivate.agent", "/staff/{id}/reactivate", f"/staff/{w.agent_id}/reactivate"),
        _post("staff.password.agent", "/staff/{id}/password", f"/staff/{w.agent_id}/password",
              (("password", PASSWORD),)),
        _post("staff.deactivate.clerk", "/staff/{id}/deactivate", f"/staff/{w.clerk_id}/deactivate"),
        _post("staff.reactivate.clerk", "/staff/{id}/reactivate", f"/staff/{w.clerk_id}/reactivate"),
        _post("staff.password.clerk", "/staff/{id}/password", f"/staff/{w.clerk_id}/password",
              (("password", PASSWORD),)),
        _post("product.import", "/products/import", file=import_file),
        _post("finance.commission.set", "/finance/commission",
              form=(("category_id", str(w.category)), ("rate", "4.5"))),
        _post("finance.leader_commissions.rate", "/finance/leader-commissions/rates",
              form=(("target", "category"), ("target_id", str(w.category)), ("rate", "12.5"))),
        _post("finance.adjust", "/finance/adjustments",
              form=(("payable", "merchant"), ("owner_id", str(w.merchant_a)), ("amount", "-1.00"),
                    ("reason", "多结算更正"))),
        _post("reconciliation.run", "/finance/reconciliation/run",
              form=(("day", (clock.to_shanghai(clock.now()).date() - timedelta(days=1)).isoformat()),)),
        _post("reconciliation.resolve", "/finance/reconciliation/differences/{id}/resolve",
              f"/finance/reconciliation/differences/{w.difference}/resolve", (("note", "商户平台已核实"),)),
        _post("reconciliation.resolve.none", "/finance/reconciliation/differences/{id}/resolve",
              "/finance/reconciliation/differences/999999/resolve", (("note", "商户平台已核实"),)),
        *group_actions,
        _get("leaders", "/leaders"),
        _get("leaders.points", "/leaders/points"),
        _get("leader", "/leaders/{id}", f"/leaders/{w.leader_a}"),
        _post("leader.approve", "/leaders/{id}/approve", f"{leader_a}/approve"),
        _post("leader.refuse", "/leaders/{id}/refuse", f"{leader_b}/refuse", (("reason", "地址不清楚"),)),
        _post("leader.suspend", "/leaders/{id}/suspend", f"{leader_a}/suspend", (("reason", "投诉"),)),
        _post("leader.reinstate", "/leaders/{id}/reinstate", f"{leader_a}/reinstate"),
        _get("kols", "/kols"),
        _get("kol", "/kols/{id}", f"/kols/{w.kol_a}"),
        _get("kol.missing", "/kols/{id}", "/kols/999999"),
        _get("kol_tiers", "/kol-tiers"),
        _post("kol.approve", "/kols/{id}/approve", f"/kols/{w.kol_a}/approve",
              (("tier_id", str(w.kol_tier)),)),
        _post("kol.refuse", "/kols/{id}/refuse", f"/kols/{w.kol_b}/refuse", (("reason", "信息不全"),)),
        _post("kol.tier", "/kols/{id}/tier", f"/kols/{w.kol_a}/tier", (("tier_id", str(w.kol_tier)),)),
        _post("kol.suspend", "/kols/{id}/suspend", f"/kols/{w.kol_a}/suspend", (("reason", "投诉"),)),
        _post("kol.reinstate", "/kols/{id}/reinstate", f"/kols/{w.kol_a}/reinstate"),
        _post("kol.invite", "/kols/invite",
              form=(("user_id", str(w.kol_invitee)), ("name", "新达人"), ("phone", "13912345678"),
                    ("intro", "抖音"))),
        _post("kol_tier.create", "/kol-tiers", form=(("name", "银牌"), ("rate", "8"))),
        _post("kol_tier.save", "/kol-tiers/{id}", f"/kol-tiers/{w.kol_tier}",
              (("name", "金牌达人"), ("rate", "12"), ("second_level_rate", "2"))),
        _post("kol_tier.category_rate", "/kol-tiers/{id}/category-rate",
              f"/kol-tiers/{w.kol_tier}/category-rate", (("category_id", str(w.category)), ("rate", "6.5"))),
        _get("kol_funnels", "/kol-funnels"),
        _get("kol_funnels.csv", "/kol-funnels.csv"),
        _get("kol_funnels.xlsx", "/kol-funnels.xlsx"),
        _get("kol_funnel", "/kol-funnels/{id}", f"/kol-funnels/{w.kol_a}"),
        _get("kol_flags", "/kol-flags"),
        _get("kol_flag", "/kol-flags/{id}", f"/kol-flags/{w.kol_flag}"),
        _post("kol_flags.scan", "/kol-flags/scan"),
        _post("kol_flag.release", "/kol-flags/{id}/release", f"/kol-flags/{w.kol_flag}/release",
              (("note", "核实无误"),)),
        _post("kol_flag.void", "/kol-flags/{id}/void", f"/kol-flags/{w.kol_flag_2}/void",
              (("note", "刷单"),)),
        _post("community_sale.create", "/community-sales",
              form=(("title", "明日茶叶团"), ("sale_date", "2099-01-01"), ("cutoff_hour", "23"),
                    ("items", f"{w.sku_a}, 9.90"))),
        *(_post(f"community_sale.cancel.{o}", "/community-sales/{id}/cancel", f"/community-sales/{i}/cancel")
          for o, i in (("A", w.sale_a), ("P", w.sale_p))),
        *(_post(f"community_batch.{action}.{o}", f"/batches/{{id}}/{action}", f"/batches/{i}/{action}")
          for o, i in (("A", w.community_batch_a), ("P", w.community_batch_p))
          for action in ("dispatch", "arrive")),
        _post("logout", "/logout"),
    ]
    # fmt: on


SECTIONS = ("groupbuy", "leaders", "kols", "nowhere")
