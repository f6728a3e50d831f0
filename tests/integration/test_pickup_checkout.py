"""Pickup chosen at checkout: the point must serve every merchant of the checkout (the
platform's points serve all, a merchant's its own), no shipping fee is charged, each order's
fulfilment awaits at the point, staff make it ready there only and never ship it by carrier."""

import asyncio

import pytest

from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.errors import CommerceError, CommonError
from commerce.fulfilment import queries, services
from commerce.fulfilment.choice import Contact, FulfilmentChoice
from commerce.fulfilment.errors import FulfilmentError
from commerce.fulfilment.models import Fulfilment
from commerce.fulfilment.states import FulfilmentKind, FulfilmentStatus
from commerce.merchants.services import ensure_merchant
from commerce.orders import services as orders
from commerce.orders.checkout import preview_checkout
from commerce.orders.models import Order
from commerce.orders.states import OrderStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import addresses
from commerce.users.addresses import AddressInput
from commerce.users.models import User
from commerce.users.services import Shopper
from tests.builders import refused
from tests.concurrency import needs_real_database
from tests.factories import sku_row

ADDRESS = AddressInput("张三", "13800138000", "广东省", "深圳市", "南山区", "科技园 1 号")
PICKUP = FulfilmentKind.PICKUP


class World:
    shopper: Shopper
    address_id: int
    merchant_a: int
    merchant_b: int
    tea: int  # A's, 19.90: below the free-shipping amount
    coffee: int  # B's
    point_a: int  # A's own
    point_b: int  # B's own
    point_p: int  # the platform's


async def _world() -> World:
    w = World()
    w.merchant_a = await ensure_merchant(code="A", name="甲店")
    w.merchant_b = await ensure_merchant(code="B", name="乙店")
    await import_rows(
        [sku_row("TEA", "TEA-1", title="茶", category="食品 > 茶", price="19.90", stock=50)],
        merchant_id=w.merchant_a,
    )
    await import_rows(
        [sku_row("COF", "COF-1", title="咖啡", category="食品 > 咖啡", price="29.90", stock=50)],
        merchant_id=w.merchant_b,
    )
    skus = dict(await Sku.all().values_list("sku_code", "id"))
    w.tea, w.coffee = skus["TEA-1"], skus["COF-1"]
    user = await User.create(openid="o-alice")
    w.shopper = Shopper(user_id=user.id, openid=user.openid)
    w.address_id = (await addresses.create_address(shopper=w.shopper, address=ADDRESS)).id
    w.point_a = (
        await services.create_pickup_point(name="甲店门店", address="甲路 1 号", merchant_id=w.merchant_a)
    ).id
    w.point_b = (
        await services.create_pickup_point(name="乙店门店", address="乙路 2 号", merchant_id=w.merchant_b)
    ).id
    w.point_p = (
        await services.create_pickup_point(
            name="平台驿站", address="中心路 9 号", merchant_id=None, opening_hours="每天 9:00-21:00"
        )
    ).id
    return w


def _pickup(point_id: int) -> FulfilmentChoice:
    return FulfilmentChoice(PICKUP, point_id)


async def _place(core, w: World, items, *, key="pickup-key-1", **choice):
    return await orders.place_order(
        shopper=w.shopper,
        idempotency_key=key,
        settings=core.settings,
        redis_client=core.redis,
        items=items,
        **choice,
    )


@unit_of_work
async def _pay(order_id: int) -> None:
    async with write_transaction() as conn:
        assert await orders.mark_paid(conn, order_id=order_id, actor="system:test", params={})


async def test_a_pickup_checkout_pays_no_shipping_and_its_order_awaits_at_the_point(core):
    # given tea of merchant A, below the free-shipping amount
    w = await _world()
    items = [(w.tea, 1)]
    delivered = await preview_checkout(
        shopper=w.shopper, items=items, address_id=w.address_id, settings=core.settings
    )
    assert delivered.quote.shipping_fee > 0
    # when the shopper previews and places it for pickup at A's point, the address's receiver collecting
    preview = await preview_checkout(
        shopper=w.shopper,
        items=items,
        address_id=w.address_id,
        settings=core.settings,
        fulfilment=_pickup(w.point_a),
    )
    placed = await _place(core, w, items, address_id=w.address_id, fulfilment=_pickup(w.point_a))
    # then no shipping fee is quoted nor charged
    assert preview.quote.shipping_fee == 0 and preview.quote.payable == 1990
    assert preview.pickup_point is not None and preview.pickup_point.id == w.point_a
    [order] = placed.orders
    row = await Order.get(id=order.id)
    assert (row.shipping_fee, row.payable) == (0, 1990)
    # and the order keeps who collects it, not a delivery address
    assert row.address == {
        "receiver_name": "张三",
        "phone": "13800138000",
        "province": "",
        "city": "",
        "district": "",
        "detail": "",
    }
    # and its fulfilment awaits at the chosen point (shown in the placed view too)
    fulfilment = await Fulfilment.get(order_id=order.id)
    assert (fulfilment.kind, fulfilment.status, fulfilment.pickup_point_id) == (
        PICKUP,
        FulfilmentStatus.AWAITING,
        w.point_a,
    )
    assert fulfilment.pickup_code == "" and fulfilment.open_code is None
    assert order.fulfilment is not None and order.fulfilment.pickup_point_name == "甲店门店"


async def test_a_checkout_of_two_merchants_may_be_collected_only_at_a_platform_point(core):
    # given tea of A and coffee of B in one checkout
    w = await _world()
    items = [(w.tea, 1), (w.coffee, 1)]
    # then only the platform's point serves both; either merchant alone has its own point too
    assert [p.id for p in await queries.points_serving([w.merchant_a, w.merchant_b])] == [w.point_p]
    assert [p.id for p in await queries.points_serving([w.merchant_a])] == [w.point_a, w.point_p]
    # when the shopper chooses A's point (or B's): refused, and nothing is placed
    for point in (w.point_a, w.point_b):
        with pytest.raises(CommerceError) as caught:
            await _place(core, w, items, address_id=w.address_id, fulfilment=_pickup(point))
        assert refused(caught, FulfilmentError.POINT_NOT_SERVING)
    assert not await Order.exists()
    # when they choose the platform's point with a contact: two orders, both collected there, no fees
    contact = Contact(name="李四", phone="13900139000")
    placed = await _place(core, w, items, fulfilment=_pickup(w.point_p), contact=contact)
    assert len(placed.orders) == 2 and placed.payable == 1990 + 2990
    for order in placed.orders:
        row = await Order.get(id=order.id)
        assert (row.shipping_fee, row.receiver_name, row.receiver_phone) == (0, "李四", "13900139000")
        fulfilment = await Fulfilment.get(order_id=order.id)
        assert (fulfilment.status, fulfilment.pickup_point_id) == (FulfilmentStatus.AWAITING, w.point_p)


async def test_a_closed_point_or_a_missing_contact_is_refused(core):
    w = await _world()
    items = [(w.tea, 1)]
    # given A's point closed by its merchant
    await services.set_pickup_point_active(
        point_id=w.point_a, staff_merchant_id=w.merchant_a, active=False, actor="t"
    )
    # then it is neither offered nor accepted
    assert w.point_a not in [p.id for p in await queries.points_serving([w.merchant_a])]
    with pytest.raises(CommerceError) as caught:
        await preview_checkout(
            shopper=w.shopper, items=items, settings=core.settings, fulfilment=_pickup(w.point_a)
        )
    assert refused(caught, FulfilmentError.POINT_NOT_FOUND)
    # and a pickup needs someone to collect it: neither an address nor a contact is refused
    with pytest.raises(CommerceError) as caught:
        await _place(core, w, items, fulfilment=_pickup(w.point_p))
    assert refused(caught, FulfilmentError.CONTACT_REQUIRED)
    with pytest.raises(CommerceError) as caught:
        await _place(core, w, items, fulfilment=_pickup(w.point_p), contact=Contact(name="李四", phone="12"))
    assert refused(caught, FulfilmentError.CONTACT_REQUIRED)
    assert not await Order.exists()


async def test_a_point_closed_between_quote_and_commit_refuses_the_checkout(core):
    # given a checkout planned for pickup at A's point, and the point closed before it commits
    w = await _world()
    stock = (await Sku.get(id=w.tea)).stock
    plan = await orders.plan_checkout(
        shopper=w.shopper,
        settings=core.settings,
        items=[(w.tea, 1)],
        from_cart=False,
        address_id=w.address_id,
        fulfilment=_pickup(w.point_a),
    )
    await services.set_pickup_point_active(
        point_id=w.point_a, staff_merchant_id=w.merchant_a, active=False, actor="t"
    )

    @unit_of_work
    async def commit():
        return await orders.commit_checkout(
            plan, shopper=w.shopper, idempotency_key="pickup-key-2", settings=core.settings, from_cart=False
        )

    with pytest.raises(CommerceError) as caught:
        await commit()
    # then nothing is placed and no stock is taken
    assert refused(caught, FulfilmentError.POINT_NOT_FOUND)
    assert not await Order.exists() and (await Sku.get(id=w.tea)).stock == stock


async def test_staff_make_a_pickup_order_ready_only_at_its_chosen_point_even_closed_and_never_ship_it(core):
    # given a paid order the shopper chose to collect at the platform's point
    w = await _world()
    placed = await _place(core, w, [(w.tea, 1)], address_id=w.address_id, fulfilment=_pickup(w.point_p))
    order_id = placed.orders[0].id
    await _pay(order_id)
    # and the point closed to new checkouts meanwhile: it keeps its word to this one
    await services.set_pickup_point_active(
        point_id=w.point_p, staff_merchant_id=None, active=False, actor="t"
    )
    # when A's staff try to ship it by carrier: refused, the order stays paid
    with pytest.raises(CommerceError) as caught:
        await orders.ship_order(
            order_id=order_id, carrier="顺丰速运", tracking_no="SF12345678", actor="staff:1"
        )
    assert refused(caught, FulfilmentError.IS_PICKUP)
    assert (await Order.get(id=order_id)).status == OrderStatus.PAID
    # when they make it ready at their own point instead: refused, the shopper chose another
    with pytest.raises(CommerceError) as caught:
        await services.mark_ready_for_pickup(
            order_id=order_id, point_id=w.point_a, merchant_id=w.merchant_a, actor="s"
        )
    assert refused(caught, FulfilmentError.NOT_CHOSEN_POINT) and "平台驿站" in caught.value.message
    # when they make it ready without naming a point: ready at the chosen one, with a code
    ready = await services.mark_ready_for_pickup(order_id=order_id, merchant_id=w.merchant_a, actor="staff:1")
    assert (ready.status, ready.pickup_point_id, ready.pickup_point_hours) == (
        FulfilmentStatus.READY,
        w.point_p,
        "每天 9:00-21:00",
    )
    assert ready.pickup_code.isdigit()
    # and a second time: refused, it is ready already
    with pytest.raises(CommerceError) as caught:
        await services.mark_ready_for_pickup(order_id=order_id, merchant_id=None, actor="s")
    assert refused(caught, FulfilmentError.ALREADY_ARRANGED)
    # then the code verifies at that point, once: the order is completed
    verified = await services.verify_pickup(
        point_id=w.point_p, code=ready.pickup_code, merchant_id=None, actor="s"
    )
    assert verified == order_id and (await Order.get(id=order_id)).status == OrderStatus.COMPLETED


async def test_pickup_points_are_managed_by_their_owner_and_audited(core):
    w = await _world()
    # when A's people edit their point: saved, and recorded
    edited = await services.update_pickup_point(
        point_id=w.point_a,
        staff_merchant_id=w.merchant_a,
        name="甲店旗舰店",
        address="甲路 10 号",
        opening_hours="周一至周五 10:00-20:00",
        contact_phone="021-12345678",
        actor="staff:7",
    )
    assert (edited.name, edited.opening_hours, edited.contact_phone) == (
        "甲店旗舰店",
        "周一至周五 10:00-20:00",
        "021-12345678",
    )
    entry = await AuditEntry.filter(action="pickup_point.update").get()
    assert (
        entry.actor == "staff:7"
        and entry.before["name"] == "甲店门店"
        and entry.after["name"] == "甲店旗舰店"
    )
    # then B's people do not find it; the platform sees it but leaves it to its merchant
    change = {"name": "x", "address": "y", "opening_hours": "", "contact_phone": "", "actor": "s"}
    with pytest.raises(CommerceError) as caught:
        await services.update_pickup_point(point_id=w.point_a, staff_merchant_id=w.merchant_b, **change)
    assert refused(caught, FulfilmentError.POINT_NOT_FOUND)
    with pytest.raises(CommerceError) as caught:
        await services.set_pickup_point_active(
            point_id=w.point_a, staff_merchant_id=None, active=False, actor="s"
        )
    assert refused(caught, CommonError.FORBIDDEN)
    assert [p.id for p in await queries.staff_points(merchant_id=None)] == [w.point_p, w.point_a, w.point_b]
    assert [p.id for p in await queries.staff_points(merchant_id=w.merchant_b)] == [w.point_b]
    # and a point needs a name and an address, and a phone of digits
    with pytest.raises(CommerceError) as caught:
        await services.update_pickup_point(
            point_id=w.point_p, staff_merchant_id=None, **{**change, "name": " "}
        )
    assert refused(caught, FulfilmentError.INVALID_POINT)
    with pytest.raises(CommerceError) as caught:
        await services.update_pickup_point(
            point_id=w.point_p, staff_merchant_id=None, **{**change, "contact_phone": "call me"}
        )
    assert refused(caught, FulfilmentError.INVALID_POINT)


@needs_real_database
async def test_many_shoppers_choose_one_point_at_once_and_each_order_awaits_there(core):
    # given twelve different shoppers, each with an address
    w = await _world()
    shoppers = []
    for n in range(12):
        user = await User.create(openid=f"o-many-{n}")
        shopper = Shopper(user_id=user.id, openid=user.openid)
        shoppers.append((shopper, (await addresses.create_address(shopper=shopper, address=ADDRESS)).id))

    async def place(shopper: Shopper, address_id: int):
        return await orders.place_order(
            shopper=shopper,
            idempotency_key=f"many-{shopper.user_id:08d}",
            settings=core.settings,
            redis_client=core.redis,
            items=[(w.tea, 1), (w.coffee, 1)],
            address_id=address_id,
            fulfilment=_pickup(w.point_p),
        )

    # when they all check out for pickup at the platform's point at once
    placed = await asyncio.gather(*(place(s, a) for s, a in shoppers))
    # then every checkout made its two orders, each awaiting at that point
    assert all(len(checkout.orders) == 2 for checkout in placed)
    awaiting = await Fulfilment.filter(pickup_point_id=w.point_p, status=FulfilmentStatus.AWAITING).count()
    assert awaiting == 24 == await Order.filter(shipping_fee=0).count()
