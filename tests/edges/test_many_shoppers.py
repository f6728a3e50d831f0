"""Many different shoppers write at once through the real app on MariaDB + Redis.

Gap and next-key locks make strangers collide (two shoppers' empty address ranges, neighbouring
order rows): every write endpoint of the mini-program API is driven by 200 shoppers at the same
moment, one step at a time, and must answer without a 5xx and leave the books straight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import ClientSession

from commerce import transactions
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Checkout, Order, OrderClaim, OrderLine
from commerce.orders.services import ship_order
from commerce.orders.states import OrderStatus
from commerce.payments.models import Payment, Refund
from commerce.payments.states import PaymentStatus
from commerce.shipping.templates import save_template
from commerce.users.models import Address
from shop.app import simulator_config
from tests.concurrency import needs_real_database
from tests.edges.paying import confirm_payment, eventually, prepay_id_of
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import sku_row
from wechat_simulator import create_simulator_app

pytestmark = needs_real_database


@pytest.fixture
async def simulator(aiohttp_server, settings):
    """The simulator as conftest makes it, but waiting as long as a loaded test machine needs
    for our answer to a payment notification (WeChat Pay's 5 s counts a slow answer as none)."""
    config = dataclasses.replace(
        simulator_config(settings),
        duplicate_notify_rate=0.0,
        notify_retry_scale=0.001,
        refund_delay_seconds=0.05,
        notify_timeout_seconds=60,
    )
    return await aiohttp_server(create_simulator_app(config))


SHOPPERS = 200
STOCK = 10_000
CATALOG = [
    sku_row(
        f"M{n}",
        f"M{n}-A",
        title=f"并发商品 {n}",
        category="数码 > 耳机 > 蓝牙耳机",
        price="9.90",
        stock=STOCK,
    )
    for n in range(4)
]
# Orders that hold their stock: everything but cancelled ones and those refunded (closed) before
# shipment (here every closed one).
HOLDING = ("pending_payment", "paid", "shipped", "completed")
log = logging.getLogger(__name__)


class Crowd:
    """200 shoppers stepping together: each step runs for all of them at the same moment,
    and every answer's status is counted (a 5xx is what this test is about)."""

    def __init__(self, client) -> None:
        self.client = client
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.seconds: dict[str, float] = {}

    async def call(
        self, step: str, method: str, path: str, expected: int | tuple[int, ...], **kwargs
    ) -> dict:
        response = await self.client.request(method, path, **kwargs)
        self.statuses[(step, response.status)] += 1
        body = await response.json() if response.status != 204 else {}
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert response.status in allowed, (step, response.status, body)
        return {**body, "status": response.status} if len(allowed) > 1 else body

    async def step(self, shoppers: list[dict], action: Callable[[dict], Awaitable[None]]) -> None:
        """Run one action for every shopper at once; raise only after all of them finished."""
        started = time.perf_counter()
        results = await asyncio.gather(*(action(s) for s in shoppers), return_exceptions=True)
        self.seconds[action.__name__] = round(time.perf_counter() - started, 1)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    def server_errors(self) -> dict[str, int]:
        return {step: n for (step, status), n in sorted(self.statuses.items()) if status >= 500}


async def test_two_hundred_shoppers_write_at_once_without_a_5xx(client, simulator):
    # given a catalog of four SKUs and 200 different shoppers, all logged in at once
    assert not (await import_rows(CATALOG)).problems
    skus = [sku.id for sku in await Sku.filter(sku_code__startswith="M").order_by("sku_code")]
    crowd = Crowd(client)
    retried_before = transactions.lock_conflict_retries()
    shoppers = await _logged_in(crowd, simulator)

    async def post(step, s, path, body, expected=200, headers=None):
        return await crowd.call(
            step, "POST", path, expected, json=body, headers={**s["headers"], **(headers or {})}
        )

    try:
        await _addresses(crowd, shoppers, post)
        await _cart_and_checkout(crowd, shoppers, post, skus)
        await _orders(crowd, shoppers, post, skus, simulator)
    finally:
        retried = transactions.lock_conflict_retries() - retried_before
        log.warning(
            "many shoppers: 5xx per step %s; lock conflicts retried %d; seconds per step %s",
            crowd.server_errors(),
            retried,
            crowd.seconds,
        )

    # then no request failed on the server
    assert crowd.server_errors() == {}
    # and every shopper has exactly one address, the default
    defaults = Counter(await Address.filter(is_default=True).values_list("user_id", flat=True))
    owners = set(await Address.all().values_list("user_id", flat=True))
    assert len(owners) == SHOPPERS and all(defaults[user] == 1 for user in owners)
    assert await Address.all().count() == SHOPPERS
    # and one order per idempotency key, each shopper's two orders where they should be
    keys = Counter(await Order.all().values_list("user_id", "idempotency_key"))
    assert len(keys) == 2 * SHOPPERS and set(keys.values()) == {1}
    statuses = Counter(await Order.all().values_list("status", flat=True))
    assert statuses == {"cancelled": SHOPPERS, "closed": SHOPPERS // 2, "completed": SHOPPERS // 2}
    # and each paid order was paid once, each refund returned once
    assert await Payment.all().count() == await Payment.filter(status="paid").count() == SHOPPERS
    assert await Refund.filter(status="succeeded").count() == await Refund.all().count() == SHOPPERS // 2
    # and stock + what open orders hold = what there was, for every SKU and its product
    for sku_id in skus:
        sku = await Sku.get(id=sku_id)
        held = sum(
            await OrderLine.filter(sku_id=sku_id, order__status__in=HOLDING).values_list(
                "quantity", flat=True
            )
        )
        assert sku.stock + held == STOCK, (sku.sku_code, sku.stock, held)
        assert (await Product.get(id=sku.product_id)).total_stock == sku.stock


async def _logged_in(crowd: Crowd, simulator) -> list[dict]:
    """SHOPPERS different shoppers, logged in through the simulator at once."""
    async with ClientSession() as http:

        async def log_in(n: int) -> dict:
            async with http.post(simulator.make_url("/wx/login-code"), json={"user": f"crowd{n}"}) as r:
                code = (await r.json())["code"]
            body = await crowd.call("login", "POST", "/api/v1/auth/login", 200, json={"code": code})
            return {"n": n, "headers": {"Authorization": f"Bearer {body['token']}"}}

        return list(await asyncio.gather(*(log_in(n) for n in range(SHOPPERS))))


async def _addresses(crowd: Crowd, shoppers: list[dict], post) -> None:
    """Create the first address (the default), a second one made default, edit the first,
    make it the default again, delete the second."""

    async def first(s):
        s["home"] = (await post("address create", s, "/api/v1/addresses", ADDRESS, 201))["id"]

    async def second(s):
        body = {**ADDRESS, "detail": "公司", "is_default": True}
        s["office"] = (await post("address create", s, "/api/v1/addresses", body, 201))["id"]

    async def edit(s):
        body = {**ADDRESS, "detail": f"科技园 {s['n']} 号"}
        await crowd.call(
            "address update", "PUT", f"/api/v1/addresses/{s['home']}", 200, json=body, headers=s["headers"]
        )

    async def make_default(s):
        body = {**ADDRESS, "detail": f"科技园 {s['n']} 号", "is_default": True}
        await crowd.call(
            "address default", "PUT", f"/api/v1/addresses/{s['home']}", 200, json=body, headers=s["headers"]
        )

    async def delete(s):
        await crowd.call(
            "address delete", "DELETE", f"/api/v1/addresses/{s['office']}", 204, headers=s["headers"]
        )

    for action in (first, second, edit, make_default, delete):
        await crowd.step(shoppers, action)


async def _cart_and_checkout(crowd: Crowd, shoppers: list[dict], post, skus: list[int]) -> None:
    """Add two SKUs, change one line's quantity, remove the other line, preview the cart."""

    async def add(s):
        for sku_id in (skus[s["n"] % 4], skus[(s["n"] + 1) % 4]):
            body = await post("cart add", s, "/api/v1/cart/items", {"sku_id": sku_id, "quantity": 1})
        s["lines"] = {line["sku_id"]: line["id"] for line in body["lines"]}

    async def change(s):
        line = s["lines"][skus[s["n"] % 4]]
        await crowd.call(
            "cart change",
            "PATCH",
            f"/api/v1/cart/items/{line}",
            200,
            json={"quantity": 2},
            headers=s["headers"],
        )

    async def remove(s):
        line = s["lines"][skus[(s["n"] + 1) % 4]]
        await crowd.call("cart remove", "DELETE", f"/api/v1/cart/items/{line}", 200, headers=s["headers"])

    async def preview(s):
        body = await post(
            "checkout preview", s, "/api/v1/checkout/preview", {"from_cart": True, "address_id": s["home"]}
        )
        assert [(line["sku_id"], line["quantity"]) for line in body["lines"]] == [(skus[s["n"] % 4], 2)]

    for action in (add, change, remove, preview):
        await crowd.step(shoppers, action)


async def _orders(crowd: Crowd, shoppers: list[dict], post, skus: list[int], simulator) -> None:
    """Order from the cart (the same key sent twice at once) and once more, cancel the second,
    pay the first; then half the shoppers ask for a refund before shipment while the other
    half, shipped meanwhile, confirm receipt, all at once."""

    async def from_cart(s):
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"from_cart": True, "address_id": s["home"]}
        twice = await asyncio.gather(
            *(post("order create", s, "/api/v1/orders", body, 201, key) for _ in range(2))
        )
        assert twice[0]["id"] == twice[1]["id"]
        s["paid"] = twice[0]["id"]

    async def another(s):
        items = [
            {"sku_id": skus[(s["n"] + 2) % 4], "quantity": 1},
            {"sku_id": skus[(s["n"] + 3) % 4], "quantity": 1},
        ]
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"items": items, "address_id": s["home"]}
        s["cancelled"] = (await post("order create", s, "/api/v1/orders", body, 201, key))["id"]

    async def cancel(s):
        await post("order cancel", s, f"/api/v1/orders/{s['cancelled']}/cancel", {"reason": "不要了"})

    async def pay(s):
        params = await post("order pay", s, f"/api/v1/orders/{s['paid']}/pay", None)
        assert (await confirm_payment(simulator, prepay_id_of(params)))["notified"] == [204]

    async def ship(s):  # the merchant ships the odd shoppers' orders through the core service
        if s["n"] % 2:
            await ship_order(
                order_id=s["paid"], carrier="顺丰速运", tracking_no=f"SF{s['n']:010d}", actor="staff:1"
            )

    async def refund_or_receive(s):
        if s["n"] % 2:
            await post("order confirm receipt", s, f"/api/v1/orders/{s['paid']}/confirm-receipt", None)
        else:
            await post("order refund", s, f"/api/v1/orders/{s['paid']}/refunds", {"reason": "不想要了"}, 201)

    for action in (from_cart, another, cancel, pay, ship, refund_or_receive):
        await crowd.step(shoppers, action)

    async def all_refunded() -> bool:
        return await Order.filter(status="closed").count() == len(shoppers) // 2

    await eventually(all_refunded, within=30)


# Two merchants' tea, fewer units than shoppers: every shopper checks out one of each at once.
TWO_MERCHANTS = {"race-a": ("甲店", 120), "race-b": ("乙店", 170)}
B_SHIPPING_FEE = 800  # merchant B's own template; A pays the platform's default


async def test_two_hundred_shoppers_check_out_two_merchants_at_once_without_overselling(
    client, simulator, wired_settings
):
    # given two merchants' tea (120 and 170 units), B with a shipping template of its own,
    # and 200 different shoppers, each with an address
    skus: dict[str, int] = {}
    for code, (name, stock) in TWO_MERCHANTS.items():
        merchant = await ensure_merchant(code=code, name=name)
        tea = sku_row(
            f"{code}-T",
            f"{code}-T-1",
            title=f"{name}茶叶",
            category="食品 > 茶叶 > 绿茶",
            price="19.90",
            stock=stock,
        )
        assert not (await import_rows([tea], merchant_id=merchant)).problems
        skus[code] = (await Sku.get(sku_code=f"{code}-T-1")).id
    await save_template(
        merchant_id=await ensure_merchant(code="race-b"),
        staff_merchant_id=None,
        fee=B_SHIPPING_FEE,
        free_from=None,
        provinces=[],
        version=0,
        actor="staff:1",
        settings=wired_settings,
    )
    crowd = Crowd(client)
    retried_before = transactions.lock_conflict_retries()
    shoppers = await _logged_in(crowd, simulator)

    async def address(s):
        s["home"] = (
            await crowd.call(
                "address create", "POST", "/api/v1/addresses", 201, json=ADDRESS, headers=s["headers"]
            )
        )["id"]

    async def check_out(s):  # one unit of each merchant's tea: one checkout, two orders
        items = [{"sku_id": skus["race-a"], "quantity": 1}, {"sku_id": skus["race-b"], "quantity": 1}]
        body = await crowd.call(
            "two-merchant order create",
            "POST",
            "/api/v1/orders",
            (201, 409),
            json={"items": items, "address_id": s["home"]},
            headers={**s["headers"], "Idempotency-Key": uuid.uuid4().hex},
        )
        s["checkout"] = body["checkout"] if body["status"] == 201 else None
        s["refusal"] = body.get("error", {}).get("code")

    async def pay_or_cancel(s):  # half of those who got the goods pay, the others cancel
        if s["checkout"] is None:
            return
        first = s["checkout"]["orders"][0]["id"]
        if s["n"] % 2:
            await crowd.call(
                "checkout cancel",
                "POST",
                f"/api/v1/orders/{first}/cancel",
                200,
                json={"reason": "不要了"},
                headers=s["headers"],
            )
            return
        params = await crowd.call(
            "checkout pay", "POST", f"/api/v1/orders/{first}/pay", 200, headers=s["headers"]
        )
        assert (await confirm_payment(simulator, prepay_id_of(params)))["notified"] == [204]

    try:
        for action in (address, check_out, pay_or_cancel):
            await crowd.step(shoppers, action)
    finally:
        log.warning(
            "two merchants: 5xx per step %s; lock conflicts retried %d; seconds per step %s",
            crowd.server_errors(),
            transactions.lock_conflict_retries() - retried_before,
            crowd.seconds,
        )

    # then no request failed on the server, and the scarcer tea decided who got both: 120
    # checkouts of two orders each, the other 80 refused as sold out (nothing of B taken for them)
    assert crowd.server_errors() == {}
    placed = [s for s in shoppers if s["checkout"] is not None]
    assert len(placed) == TWO_MERCHANTS["race-a"][1]
    assert {s["refusal"] for s in shoppers if s["checkout"] is None} == {"out_of_stock"}
    assert all(len(s["checkout"]["orders"]) == 2 for s in placed)
    # and each checkout is one payment (paid) or cancelled whole; a payment's amount is the
    # sum of its orders', B's orders carrying B's own shipping fee
    for s in placed:
        checkout = await Checkout.get(id=s["checkout"]["id"])
        orders = await Order.filter(checkout_id=checkout.id).order_by("id")
        assert sum(o.payable for o in orders) == checkout.payable == s["checkout"]["payable"]
        merchants = {o.merchant_id: o for o in orders}
        assert merchants[await ensure_merchant(code="race-b")].shipping_fee == B_SHIPPING_FEE
        payments = await Payment.filter(checkout_id=checkout.id)
        if s["n"] % 2:
            assert {o.status for o in orders} == {OrderStatus.CANCELLED} and not payments
        else:
            assert {o.status for o in orders} == {OrderStatus.PAID}
            assert [(p.status, p.amount) for p in payments] == [(PaymentStatus.PAID, checkout.payable)]
    # and for both SKUs: stock + units sold + units reserved = what there was, every claim of a
    # cancelled checkout given back once, never below zero
    for code, (_, stock) in TWO_MERCHANTS.items():
        sku = await Sku.get(id=skus[code])
        sold = await _units(sku.id, OrderStatus.PAID)
        reserved = await _units(sku.id, OrderStatus.PENDING_PAYMENT)
        held = sum(
            await OrderClaim.filter(kind="stock", ref=str(sku.id), released_at=None).values_list(
                "quantity", flat=True
            )
        )
        assert sku.stock >= 0 and sku.stock + sold + reserved == stock == sku.stock + held, (code, sku.stock)
        assert (await Product.get(id=sku.product_id)).total_stock == sku.stock
        assert sold == len([s for s in placed if s["n"] % 2 == 0]) and reserved == 0


async def _units(sku_id: int, status: OrderStatus) -> int:
    return sum(await OrderLine.filter(sku_id=sku_id, order__status=status).values_list("quantity", flat=True))


async def test_one_shopper_tapping_add_address_at_once_gets_one_default(client, simulator):
    # given a shopper without addresses
    headers = await auth_headers(client, simulator, "tapper")
    # when the mini-program sends ten first addresses at the same moment (all asking to be default)
    body = {**ADDRESS, "is_default": True}
    responses = await asyncio.gather(
        *(client.post("/api/v1/addresses", json=body, headers=headers) for _ in range(10))
    )
    # then all are kept and exactly one is the default
    assert [r.status for r in responses] == [201] * 10
    listed = (await (await client.get("/api/v1/addresses", headers=headers)).json())["items"]
    assert len(listed) == 10 and sum(a["is_default"] for a in listed) == 1


async def test_one_shopper_tapping_add_address_at_the_cap_stays_within_it(client, simulator):
    # given a shopper with 15 of the 20 addresses allowed
    from commerce.users.addresses import MAX_ADDRESSES

    headers = await auth_headers(client, simulator, "collector")
    for _ in range(MAX_ADDRESSES - 5):
        assert (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).status == 201
    # when ten more arrive at the same moment
    responses = await asyncio.gather(
        *(client.post("/api/v1/addresses", json=ADDRESS, headers=headers) for _ in range(10))
    )
    # then five are kept and five refused: the cap holds however they race
    assert sorted(r.status for r in responses) == [201] * 5 + [409] * 5
    listed = (await (await client.get("/api/v1/addresses", headers=headers)).json())["items"]
    assert len(listed) == MAX_ADDRESSES and sum(a["is_default"] for a in listed) == 1
