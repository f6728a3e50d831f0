"""Issue 11's property: random sequences of what shoppers, merchants and the scheduler do —
check out 1-3 SKUs of one or two merchants, pay (the simulated WeChat Pay), ship, ask for
after-sales on one line for some units and a partial amount (sometimes more than is left; refund
only or return), ask for everything back, review (approve, refuse, withdraw, send the return
back, receive it with or without restocking, reject it, approve what is due), cancel, let the
unpaid expire, confirm receipt — never break the invariants, read from the database after every
step:

- money: per line, the units and money of the requests that stand (not refused nor withdrawn)
  are what the line counts as refunded, never more than it sold and was paid; per order, they
  and the shipping returned are `refunded`, never more than it was paid, and the refunds at
  WeChat Pay are those of the requests sent there. A checkout's payable is its orders', and its
  one paid payment took exactly that; an order closes exactly when every unit it sold is
  refunded;
- stock: for every SKU, stock plus the claimed units not released is the initial stock (units
  sold to paid orders stay claimed), and a claim never releases more units than it took;
- claims follow the order: a cancelled one gave all back; otherwise exactly the units refunded
  that never left the merchant or came back and were restocked.

Each example works on SKUs and a shopper of its own (the database is not emptied between
examples) and checks the invariants over its own rows: a failing example replays alike, so
hypothesis can shrink it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Sequence
from datetime import timedelta

from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from tortoise.expressions import F

from commerce import clock
from commerce.aftersales import review
from commerce.aftersales import services as aftersales
from commerce.aftersales.models import AfterSale
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.config import Settings
from commerce.db import fetch_rows
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.orders import services as orders
from commerce.orders.models import Order, OrderLine
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole
from commerce.users.models import User
from commerce.users.services import Shopper
from tests.edges.paying import confirm_payment, eventually, prepay_id_of, settle_outbox
from tests.edges.shoppers import ADDRESS, log_in
from tests.factories import sku_row

_examples = itertools.count()

# (merchant, price) of the three SKUs each example sells: two of merchant A, one of B.
_CATALOG = (("A", "19.90"), ("A", "5.00"), ("B", "129.00"))
_STOCK = 6  # of each SKU: a few checkouts take it all
_TAKES_AFTERSALES = ("paid", "shipped", "completed")  # completed: within its window (just now)

_index = st.integers(0, 15)
_placing = st.tuples(
    st.just("place"),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 4)), min_size=1, max_size=3, unique_by=lambda t: t[0]
    ),
)
# "next" moves an order one step along its happy path (pays, ships, receives): listed twice so
# random sequences reach paid and shipped orders often enough for the refunds to matter.
_next = st.tuples(st.just("next"), _index)
_action = st.one_of(
    _placing,
    _next,
    _next,
    st.tuples(st.just("pay"), _index),
    st.tuples(st.just("ship"), _index),
    # (order, line, units, percent of their default share, return rather than refund only)
    st.tuples(
        st.just("aftersale"), _index, st.integers(0, 2), st.integers(1, 4), st.integers(1, 130), st.booleans()
    ),
    st.tuples(  # of a shipped order, when there is one: returns come from these
        st.just("aftersale_late"),
        _index,
        st.integers(0, 2),
        st.integers(1, 4),
        st.integers(50, 130),
        st.booleans(),
    ),
    st.tuples(st.just("refund_whole"), _index),
    # 0-6: one of _REVIEWS; 7-9: the request's next step on its happy path
    st.tuples(st.just("review"), _index, st.integers(0, 9)),
    st.tuples(st.just("review"), _index, st.integers(0, 9)),
    st.tuples(st.just("cancel"), _index),
    st.tuples(st.just("expire")),
    st.tuples(st.just("receive"), _index),
)


class _World:
    """One example's shopper, SKUs and the orders it placed (ids, in order of placing)."""

    def __init__(self, client, simulator, shopper: Shopper, headers: dict, address_id: int, skus: list[int]):
        self.client, self.simulator = client, simulator
        self.shopper, self.headers, self.address_id, self.skus = shopper, headers, address_id, skus
        self.orders: list[int] = []
        self.settings: Settings
        self.initial_stock = {sku: _STOCK for sku in skus}

    async def pick(self, index: int, *, among: Sequence[str] = ()) -> int | None:
        """One of the orders; with `among`, one in those statuses when there is one (the others
        are tried too, but would otherwise be most of them)."""
        preferred = await Order.filter(id__in=self.orders, status__in=among).order_by("id") if among else []
        chosen = [o.id for o in preferred] or self.orders
        return chosen[index % len(chosen)] if chosen else None


# Which orders each action prefers: those it can move.
_PREFERS = {
    "next": ("pending_payment", "paid", "shipped"),
    "aftersale": _TAKES_AFTERSALES,
    "aftersale_late": ("shipped", "completed"),
    "refund_whole": _TAKES_AFTERSALES,
    "review": _TAKES_AFTERSALES,
}


async def _world(client, simulator) -> _World:
    n = next(_examples)
    skus = []
    for i, (merchant_code, price) in enumerate(_CATALOG):
        merchant = await ensure_merchant(code=f"prop-{merchant_code}", name=f"店{merchant_code}")
        code = f"PR{n}-{i}"
        row = sku_row(
            code, f"{code}-1", title=f"商品{n}-{i}", category="食品 > 茶叶 > 绿茶", price=price, stock=_STOCK
        )
        assert not (await import_rows([row], merchant_id=merchant)).problems
        sku = await Sku.get(sku_code=f"{code}-1")
        skus.append(sku.id)
    login = await log_in(client, simulator, f"prop-shopper-{n}")
    headers = {"Authorization": f"Bearer {login['token']}"}
    saved = await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)
    assert saved.status == 201, await saved.text()
    user = await User.get(id=login["user"]["id"])
    return _World(
        client,
        simulator,
        Shopper(user_id=user.id, openid=user.openid),
        headers,
        (await saved.json())["id"],
        skus,
    )


def _code(exc: BaseException) -> str:
    assert isinstance(exc, CommerceError), exc
    return exc.code


async def _status(order_id: int) -> str:
    return (await Order.get(id=order_id)).status


async def _place(w: _World, lines: list[tuple[int, int]]) -> None:
    items = [{"sku_id": w.skus[i], "quantity": q} for i, q in lines]
    placed = await w.client.post(
        "/api/v1/orders",
        json={"items": items, "address_id": w.address_id},
        headers={**w.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    event(f"place: {placed.status}")
    if placed.status == 201:
        placed_orders = (await placed.json())["checkout"]["orders"]
        event(f"checkout of {len(placed_orders)} merchants")
        w.orders += [o["id"] for o in placed_orders]
        return
    code = (await placed.json())["error"]["code"]
    assert code in ("out_of_stock", "too_many_unpaid_orders", "unpaid_quantity_limit"), code


async def _pay(w: _World, order_id: int) -> None:
    before = await _status(order_id)
    response = await w.client.post(f"/api/v1/orders/{order_id}/pay", headers=w.headers)
    if before != "pending_payment":
        expected = "order_already_paid" if before in ("paid", "shipped") else "order_not_payable"
        assert (response.status, (await response.json())["error"]["code"]) == (409, expected)
        return
    assert response.status == 200, await response.text()
    await confirm_payment(w.simulator, prepay_id_of(await response.json()))
    siblings = await Order.filter(checkout_id=(await Order.get(id=order_id)).checkout_id)
    assert {o.status for o in siblings} == {"paid"}  # one payment pays the whole checkout


async def _expected_refusal(call: Awaitable, code: str | None) -> None:
    """Await the call; it succeeds when `code` is None, else is refused with that code."""
    try:
        await call
    except CommerceError as exc:
        assert _code(exc) == code, (exc.code, code)
        event(f"refused: {code}")  # what the examples covered (--hypothesis-show-statistics)
        return
    assert code is None, f"expected {code}"
    event("done")


async def _step(w: _World, action: tuple) -> None:
    kind = action[0]
    if kind == "place":
        await _place(w, action[1])
        return
    if kind == "expire":
        # Past every deadline of the orders placed so far: the scheduler's job cancels them.
        with clock.frozen(clock.now() + timedelta(minutes=31)):
            cancelled = await orders.cancel_expired_orders(limit=10_000)
        event(f"expiry cancelled some: {cancelled > 0}")
        assert not await Order.filter(id__in=w.orders, status="pending_payment").exists()
        return
    order_id = await w.pick(action[1], among=_PREFERS.get(kind, ()))
    if order_id is None:
        return
    status = await _status(order_id)
    if kind == "next":
        kind = {"pending_payment": "pay", "paid": "ship", "shipped": "receive"}.get(status, "pay")
    event(f"{kind} of a {status} order")
    if kind == "pay":
        await _pay(w, order_id)
    elif kind == "ship":
        ship = orders.ship_order(
            order_id=order_id, carrier="顺丰速运", tracking_no="SF0000000001", actor="staff:0"
        )
        await _expected_refusal(ship, None if status == "paid" else "invalid_order_status")
    elif kind == "receive":
        receive = orders.confirm_receipt(shopper=w.shopper, order_id=order_id)
        await _expected_refusal(receive, None if status == "shipped" else "invalid_order_status")
    elif kind == "cancel":
        cancel = orders.cancel_order(shopper=w.shopper, order_id=order_id)
        await _expected_refusal(cancel, None if status == "pending_payment" else "invalid_order_status")
    elif kind == "refund_whole":
        left = await OrderLine.filter(order_id=order_id, refund_quantity__lt=F("quantity")).exists()
        ok = status in _TAKES_AFTERSALES and left
        asked = aftersales.request_whole_refund(
            shopper=w.shopper, order_id=order_id, reason="不想要了", settings=w.settings
        )
        await _expected_refusal(asked, None if ok else "aftersale_not_allowed")
    elif kind in ("aftersale", "aftersale_late"):
        await _ask(w, order_id, status, *action[2:])
    elif kind == "review":
        await _review(w, order_id, action[2])
    await settle_outbox()  # refund submissions and shipping uploads reach WeChat Pay


async def _ask(
    w: _World, order_id: int, status: str, line_index: int, units: int, percent: int, ret: bool
) -> None:
    """After-sales on one line: some units, a share of their default amount (past 100%: more
    than is left, when they are all that is left)."""
    lines = await OrderLine.filter(order_id=order_id).order_by("id")
    line = lines[line_index % len(lines)]
    units_left, amount_left = line.quantity - line.refund_quantity, line.payable - line.refund_amount
    share = amount_left if units >= units_left else amount_left * units // max(units_left, 1)
    amount = share * percent // 100
    takes_all = units == units_left and all(o.refund_quantity == o.quantity for o in lines if o.id != line.id)
    order = await Order.get(id=order_id)
    shipping = max(0, order.shipping_fee - (order.refunded - sum(o.refund_amount for o in lines)))
    shipping = shipping if status == "paid" and takes_all else 0
    if status not in _TAKES_AFTERSALES:
        expected = "aftersale_not_allowed"
    elif ret and status == "paid":
        expected = "return_before_shipment"
    elif units > units_left or amount > amount_left:
        expected = "aftersale_exceeds_line"
    elif amount + shipping <= 0:
        expected = "invalid_aftersale_lines"
    else:
        expected = None
    asked = aftersales.request_aftersale(
        shopper=w.shopper,
        order_id=order_id,
        kind="return_refund" if ret else "refund_only",
        lines=[LineAsk(line.id, units, amount)],
        reason="商品质量问题",
        settings=w.settings,
    )
    await _expected_refusal(asked, expected)


_REVIEWS = ("approve", "refuse", "cancel", "ship_return", "restock", "keep", "reject")


async def _review(w: _World, order_id: int, op: int) -> None:
    """One move of a request waiting for someone (the order's, else the example's latest; else
    any of its) by its shopper, its merchant or the scheduler."""
    waiting = ("requested", "awaiting_return", "returning")
    request = (
        await AfterSale.filter(order_id=order_id, status__in=waiting).order_by("-id").first()
        or await AfterSale.filter(order_id__in=w.orders, status__in=waiting).order_by("-id").first()
        or await AfterSale.filter(order_id__in=w.orders).order_by("-id").first()
    )
    if request is None:
        return
    status = request.status.value
    ahead = {
        "requested": "approve",
        "awaiting_return": "ship_return",
        "returning": ("restock", "keep")[op % 2],
    }
    what = _REVIEWS[op] if op < len(_REVIEWS) else ahead.get(status, "approve")
    event(f"{what} of a {status} request")
    staff = Staff(id=1, username="boss", role=StaffRole.PLATFORM_ADMIN, merchant_id=None)
    calls = {
        "approve": (
            "requested",
            review.approve(aftersale_id=request.id, staff=staff, agent_refund_limit_fen=10**9),
        ),
        "refuse": (
            "requested",
            review.refuse(
                aftersale_id=request.id, staff=staff, reason="不符合", agent_refund_limit_fen=10**9
            ),
        ),
        "cancel": (
            ("requested", "awaiting_return"),
            aftersales.cancel_aftersale(shopper=w.shopper, aftersale_id=request.id),
        ),
        "ship_return": (
            "awaiting_return",
            aftersales.ship_return(
                shopper=w.shopper, aftersale_id=request.id, carrier="顺丰速运", tracking_no="SF99999"
            ),
        ),
        "restock": (
            "returning",
            review.confirm_return(
                aftersale_id=request.id, staff=staff, restock=True, agent_refund_limit_fen=10**9
            ),
        ),
        "keep": (
            "returning",
            review.confirm_return(
                aftersale_id=request.id, staff=staff, restock=False, agent_refund_limit_fen=10**9
            ),
        ),
        "reject": (
            "returning",
            review.reject_return(
                aftersale_id=request.id, staff=staff, reason="未收到", agent_refund_limit_fen=10**9
            ),
        ),
    }
    allowed, call = calls[what]
    await _expected_refusal(call, None if status in allowed else "aftersale_already_handled")
    for _, other in calls.values():
        if other is not call:
            other.close()  # never awaited: only one move per step
    if what == "approve":  # and whatever else is due
        with clock.frozen(clock.now() + timedelta(hours=49)):
            await review.approve_overdue()


_STANDING = (
    "('requested', 'awaiting_return', 'returning', 'refunding', 'refunded')"  # not refused nor withdrawn
)


async def _check_invariants(w: _World) -> None:
    # Money, per line: the standing requests' units and money are what it counts, within what
    # it sold and was paid.
    for line in await fetch_rows(
        "SELECT l.`id`, l.`quantity`, l.`payable`, l.`refund_quantity`, l.`refund_amount`,"
        " (SELECT COALESCE(SUM(al.`quantity`), 0) FROM `aftersale_line` al JOIN `aftersale` a"
        " ON a.`id` = al.`aftersale_id` WHERE al.`order_line_id` = l.`id`"
        f" AND a.`status` IN {_STANDING}) AS `units`,"
        " (SELECT COALESCE(SUM(al.`amount`), 0) FROM `aftersale_line` al JOIN `aftersale` a"
        " ON a.`id` = al.`aftersale_id` WHERE al.`order_line_id` = l.`id`"
        f" AND a.`status` IN {_STANDING}) AS `money`"
        " FROM `order_line` l JOIN `shop_order` o ON o.`id` = l.`order_id` WHERE o.`user_id` = ?",
        [w.shopper.user_id],
    ):
        assert 0 <= line["refund_quantity"] <= line["quantity"], line
        assert 0 <= line["refund_amount"] <= line["payable"], line
        assert (int(line["units"]), int(line["money"])) == (line["refund_quantity"], line["refund_amount"]), (
            line
        )
    # Per order: the lines' refunds and the shipping returned are `refunded`, within its payable;
    # WeChat Pay holds a refund for each request sent there; closed when nothing is left.
    for order in await fetch_rows(
        "SELECT o.`id`, o.`payable`, o.`refunded`, o.`shipping_fee`, o.`status`,"
        " (SELECT COALESCE(SUM(r.`amount`), 0) FROM `refund` r WHERE r.`order_id` = o.`id`"
        "  AND r.`automatic` = 0 AND r.`retried_as_id` IS NULL) AS `refunds`,"
        " (SELECT COALESCE(SUM(a.`amount`), 0) FROM `aftersale` a WHERE a.`order_id` = o.`id`"
        "  AND a.`status` IN ('refunding', 'refunded')) AS `sent`,"
        " (SELECT COALESCE(SUM(a.`shipping_amount`), 0) FROM `aftersale` a WHERE a.`order_id` = o.`id`"
        f"  AND a.`status` IN {_STANDING}) AS `shipping`,"
        " (SELECT COUNT(*) FROM `aftersale` a WHERE a.`order_id` = o.`id`"
        "  AND a.`status` IN ('requested', 'awaiting_return', 'returning', 'refunding')) AS `open`,"
        " (SELECT COALESCE(SUM(l.`payable`), 0) FROM `order_line` l WHERE l.`order_id` = o.`id`) AS `lines`,"
        " (SELECT COALESCE(SUM(l.`refund_amount`), 0) FROM `order_line` l"
        " WHERE l.`order_id` = o.`id`) AS `lines_back`,"
        " (SELECT COUNT(*) FROM `order_line` l WHERE l.`order_id` = o.`id`"
        "  AND l.`refund_quantity` < l.`quantity`) AS `lines_left`"
        " FROM `shop_order` o WHERE o.`user_id` = ?",
        [w.shopper.user_id],
    ):
        assert 0 <= order["refunded"] <= order["payable"], order
        assert int(order["lines_back"]) + int(order["shipping"]) == order["refunded"], order
        assert int(order["shipping"]) <= order["shipping_fee"], order
        assert int(order["refunds"]) == int(order["sent"]), order
        assert int(order["lines"]) + order["shipping_fee"] == order["payable"], order
        if order["refunded"]:
            assert order["status"] in (*_TAKES_AFTERSALES, "closed"), order
        if order["status"] == "closed":
            assert (int(order["lines_left"]), int(order["open"])) == (0, 0), order
    # A checkout is its orders; its one paid payment took exactly that, and only paid ones.
    for checkout in await fetch_rows(
        "SELECT c.`id`, c.`payable`,"
        " (SELECT SUM(o.`payable`) FROM `shop_order` o WHERE o.`checkout_id` = c.`id`) AS `orders`,"
        " (SELECT COUNT(*) FROM `shop_order` o WHERE o.`checkout_id` = c.`id`"
        "  AND o.`status` NOT IN ('pending_payment', 'cancelled')) AS `paid_orders`,"
        " (SELECT COUNT(*) FROM `shop_order` o WHERE o.`checkout_id` = c.`id`) AS `all_orders`"
        " FROM `checkout` c WHERE c.`user_id` = ?",
        [w.shopper.user_id],
    ):
        assert int(checkout["orders"]) == checkout["payable"], checkout
        paid = await fetch_rows(
            "SELECT `amount` FROM `payment` WHERE `checkout_id` = ? AND `status` = 'paid'", [checkout["id"]]
        )
        took = [checkout["payable"]] if checkout["paid_orders"] else []
        assert [p["amount"] for p in paid] == took, checkout
        assert checkout["paid_orders"] in (0, checkout["all_orders"]), checkout
    # Stock: what is on the shelf plus what claims still hold is what there was (one statement:
    # a release committing between two reads would look like a broken count).
    ids = list(w.initial_stock)
    for row in await fetch_rows(
        "SELECT s.`id`, s.`stock`, (SELECT COALESCE(SUM(c.`quantity` - c.`released_quantity`), 0)"
        " FROM `order_claim` c WHERE c.`kind` = 'stock' AND c.`ref` = CAST(s.`id` AS CHAR)) AS `held`"
        f" FROM `sku` s WHERE s.`id` IN ({', '.join('?' for _ in ids)})",
        ids,
    ):
        held = int(row["held"])
        assert row["stock"] >= 0 and row["stock"] + held == w.initial_stock[row["id"]], row
    # Claims: each unit released at most once (released whole exactly when all its units are);
    # a cancelled order gave all back, another exactly the refunded units that never left or
    # came back to the shelf.
    for row in await fetch_rows(
        "SELECT o.`id`, o.`status`, SUM(c.`quantity`) AS `taken`, SUM(c.`released_quantity`) AS `released`,"
        " SUM(CASE WHEN c.`released_quantity` > c.`quantity` THEN 1 ELSE 0 END) AS `over`,"
        " SUM(CASE WHEN (c.`released_at` IS NOT NULL) <> (c.`released_quantity` = c.`quantity`)"
        "  THEN 1 ELSE 0 END) AS `odd`,"
        " (SELECT COALESCE(SUM(al.`quantity`), 0) FROM `aftersale_line` al JOIN `aftersale` a"
        "  ON a.`id` = al.`aftersale_id` WHERE a.`order_id` = o.`id`"
        " AND a.`status` IN ('refunding', 'refunded')"
        "  AND (a.`before_shipment` = 1 OR a.`restocked` = 1)) AS `back`"
        " FROM `shop_order` o JOIN `order_claim` c ON c.`order_id` = o.`id` WHERE o.`user_id` = ?"
        " GROUP BY o.`id`, o.`status`",
        [w.shopper.user_id],
    ):
        assert (int(row["over"]), int(row["odd"])) == (0, 0), row
        expected = row["taken"] if row["status"] == "cancelled" else row["back"]
        assert int(row["released"]) == int(expected), row


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    # No "explain" phase: it replays the failing example hundreds of times (minutes here).
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)
@given(first=_placing, actions=st.lists(_action, min_size=3, max_size=14))
async def test_random_sequences_keep_money_stock_and_claims_whole(
    client, simulator, settings, first, actions
):
    note(f"actions: {[first, *actions]}")  # shown with a failing example only
    w = await _world(client, simulator)
    w.settings = settings
    for action in (first, *actions):
        await _step(w, action)
        await _check_invariants(w)  # also while refunds are on their way
        # Every refund asked for reaches WeChat Pay and succeeds before the next step, so an
        # example runs the same way again (hypothesis shrinks by replaying it).
        await eventually(_refunds_settled)
        await _check_invariants(w)


async def _refunds_settled() -> bool:
    """Every refund is back, and after-sales has heard of it."""
    pending = await fetch_rows(
        "SELECT (SELECT COUNT(*) FROM `refund` WHERE `status` IN ('requested', 'processing'))"
        " + (SELECT COUNT(*) FROM `aftersale` a JOIN `refund` r ON r.`id` = a.`refund_id`"
        "    WHERE a.`status` = 'refunding' AND r.`status` = 'succeeded') AS `n`",
        [],
    )
    return int(pending[0]["n"]) == 0
