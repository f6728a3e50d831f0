"""Checkout as a quote and a commit: one order per merchant under one checkout, every
adjustment and claim stored with its order, claims taken all or nothing and released once."""

import asyncio

import pytest

from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.db import model_row
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.orders import claims, services
from commerce.orders.checkout import preview_checkout
from commerce.orders.models import Checkout, Order, OrderAdjustment, OrderClaim, OrderLine
from commerce.orders.states import OrderStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import addresses
from commerce.users.addresses import AddressInput
from commerce.users.models import User
from commerce.users.services import Shopper
from tests.concurrency import needs_real_database
from tests.factories import sku_row

ADDRESS = AddressInput("张三", "13800138000", "广东省", "深圳市", "南山区", "科技园 1 号")


async def _world() -> tuple[Shopper, int, dict[str, int]]:
    """A shopper with an address; merchant A sells tea (19.90), B coffee (29.90) and a kettle
    (99.00)."""
    a = await ensure_merchant(code="A", name="甲店")
    b = await ensure_merchant(code="B", name="乙店")
    await import_rows(
        [sku_row("TEA", "TEA-1", title="甲店茶叶", category="食品 > 茶", price="19.90")], merchant_id=a
    )
    await import_rows(
        [
            sku_row("COF", "COF-1", title="乙店咖啡", category="食品 > 咖啡", price="29.90", stock=3),
            sku_row("KET", "KET-1", title="乙店水壶", category="家居 > 厨具", price="99.00", stock=1),
        ],
        merchant_id=b,
    )
    user = await User.create(openid="o-alice")
    shopper = Shopper(user_id=user.id, openid=user.openid)
    address = await addresses.create_address(shopper=shopper, address=ADDRESS)
    skus = dict(await Sku.all().values_list("sku_code", "id"))
    return shopper, address.id, skus


async def _place(core, shopper, address_id, items, key="checkout-key-1"):
    return await services.place_order(
        shopper=shopper,
        idempotency_key=key,
        settings=core.settings,
        redis_client=core.redis,
        items=items,
        address_id=address_id,
    )


@unit_of_work
async def _release(order_id: int) -> int:
    async with write_transaction() as conn:
        return await claims.release_all(conn, order_id=order_id)


async def _stock(skus: dict[str, int]) -> dict[str, int]:
    ids = {v: k for k, v in skus.items()}
    return {ids[i]: stock for i, stock in await Sku.all().values_list("id", "stock")}


async def test_a_checkout_of_two_merchants_makes_one_order_each_under_one_checkout(core):
    # given tea from A and two coffees from B
    shopper, address_id, skus = await _world()
    items = [(skus["TEA-1"], 1), (skus["COF-1"], 2)]
    # when the shopper previews and then places the checkout
    preview = await preview_checkout(
        shopper=shopper, items=items, address_id=address_id, settings=core.settings
    )
    placed = await _place(core, shopper, address_id, items)
    # then the preview's groups are the orders placed: one per merchant, each with its shipping
    assert [(o.merchant_id, o.payable) for o in preview.quote.orders] == [
        (await ensure_merchant(code="A"), 1990 + 1000),
        (await ensure_merchant(code="B"), 5980 + 1000),
    ]
    assert [o.payable for o in placed.orders] == [2990, 6980]
    assert placed.payable == preview.quote.payable == 9970
    checkout = await Checkout.get(id=placed.id)
    assert (checkout.payable, checkout.idempotency_key) == (9970, "checkout-key-1")
    orders = await Order.filter(checkout_id=placed.id).order_by("id")
    assert [o.merchant_id for o in orders] == [o.merchant_id for o in preview.quote.orders]
    assert orders[0].order_no == checkout.checkout_no
    # and each order keeps its lines, its shipping adjustment and its stock claims
    for order in orders:
        lines = await OrderLine.filter(order_id=order.id)
        assert {line.merchant_id for line in lines} == {order.merchant_id}
        assert sum(line.payable for line in lines) + order.shipping_fee == order.payable
        adjustments = await OrderAdjustment.filter(order_id=order.id).values("kind", "amount", "split")
        assert adjustments == [{"kind": "shipping", "amount": 1000, "split": {}}]
        taken = await OrderClaim.filter(order_id=order.id).values_list(
            "kind", "ref", "quantity", "released_at"
        )
        assert taken == [("stock", str(line.sku_id), line.quantity, None) for line in lines]
    assert await _stock(skus) == {"TEA-1": 9, "COF-1": 1, "KET-1": 1}
    # when the same key is sent again, the same checkout comes back and nothing more is taken
    again = await _place(core, shopper, address_id, items)
    assert again.id == placed.id and [o.id for o in again.orders] == [o.id for o in placed.orders]
    assert await Order.all().count() == 2 and await _stock(skus) == {"TEA-1": 9, "COF-1": 1, "KET-1": 1}


async def test_when_one_merchants_claim_fails_nothing_is_taken(core):
    # given a kettle of which one is left, and another shopper who bought it meanwhile
    shopper, address_id, skus = await _world()
    items = [(skus["TEA-1"], 2), (skus["KET-1"], 1)]
    plan = await services.plan_checkout(
        shopper=shopper, settings=core.settings, items=items, from_cart=False, address_id=address_id
    )
    await Sku.filter(id=skus["KET-1"]).update(stock=0)
    # when the planned checkout is committed
    with pytest.raises(CommerceError) as refused:
        await unit_of_work(services.commit_checkout)(
            plan, shopper=shopper, idempotency_key="checkout-key-2", settings=core.settings, from_cart=False
        )
    # then it is refused and A's tea is not taken either; no rows remain
    assert refused.value.code == "out_of_stock"
    assert (await _stock(skus))["TEA-1"] == 10
    assert not await Checkout.exists() and not await Order.exists() and not await OrderClaim.exists()


async def test_cancelling_releases_each_claim_once(core):
    # given a placed checkout
    shopper, address_id, skus = await _world()
    placed = await _place(core, shopper, address_id, [(skus["COF-1"], 2)])
    order_id = placed.orders[0].id
    assert (await _stock(skus))["COF-1"] == 1
    # when the shopper cancels it, and a late release runs again
    await services.cancel_order(shopper=shopper, order_id=order_id)
    again = await _release(order_id)
    # then the stock came back once, and the claim says when
    assert again == 0
    assert (await _stock(skus))["COF-1"] == 3
    assert await OrderClaim.filter(order_id=order_id, released_at__isnull=True).count() == 0
    assert (await Order.get(id=order_id)).status == OrderStatus.CANCELLED


@needs_real_database
async def test_two_racing_releases_give_the_stock_back_once(core):
    # given an order holding two coffees
    shopper, address_id, skus = await _world()
    placed = await _place(core, shopper, address_id, [(skus["COF-1"], 2)])
    order_id = placed.orders[0].id
    both_read = asyncio.Barrier(2)

    @unit_of_work
    async def release() -> int:
        async with write_transaction() as conn:
            # both transactions see the claim unreleased before either marks it
            await OrderClaim.filter(order_id=order_id, released_at__isnull=True).using_db(conn).count()
            await both_read.wait()
            return await claims.release_all(conn, order_id=order_id)

    # when two releases race
    released = await asyncio.gather(release(), release())
    # then exactly one released the claim, and the stock came back once
    assert sorted(released) == [0, 1]
    assert (await _stock(skus))["COF-1"] == 3


def test_a_row_missing_a_required_column_is_refused_before_it_reaches_the_database():
    values = {
        "order_no": "1",
        "user_id": 1,
        "checkout_id": 1,
        "merchant_id": 1,
        "idempotency_key": "k",
        "items_total": 1,
        "shipping_fee": 0,
        "discount_total": 0,
        "payable": 1,
        "address": {},
        "pay_deadline": None,
        "created_at": None,
        "updated_at": None,
    }
    row = model_row(Order, values)
    assert row["status"] == OrderStatus.PENDING_PAYMENT.value and row["paid_at"] is None
    for required in values:
        with pytest.raises(KeyError):
            model_row(Order, {k: v for k, v in values.items() if k != required})
