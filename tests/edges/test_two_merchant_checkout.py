"""Issue 11's proof, through the real app and the simulator: a cart holding two merchants' goods
is one payment and two orders; each merchant sees and ships only its own; WeChat's shipping
upload goes split and ends all delivered; part of one line is refunded to the fen of what that
line paid, and the other order is untouched."""

from __future__ import annotations

from commerce.aftersales import review
from commerce.aftersales import services as aftersales
from commerce.aftersales.services import LineAsk
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderLine
from commerce.payments.models import Payment, Refund
from commerce.staff.auth import Staff
from commerce.staff.models import StaffAccount
from commerce.staff.states import StaffRole
from commerce.users.models import User
from commerce.users.services import Shopper
from shop.app import CORE
from tests.builders import add_staff, signed_in
from tests.edges.paying import confirm_payment, eventually, pay_params, prepay_id_of, settle_outbox, sim
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import sku_row


async def _merchant_with_tea(code: str, name: str, price: str) -> tuple[int, int]:
    merchant = await ensure_merchant(code=code, name=name)
    tea = sku_row(f"{code}-T", f"{code}-T-1", title=f"{name}茶叶", category="食品 > 茶叶 > 绿茶", price=price)
    assert not (await import_rows([tea], merchant_id=merchant)).problems
    return merchant, (await Sku.get(sku_code=f"{code}-T-1")).id


async def _ship(client, username: str, order: dict, tracking_no: str) -> int:
    csrf = await signed_in(client, username)
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "中通快递", "tracking_no": tracking_no, "csrf_token": csrf},
        allow_redirects=False,
    )
    return shipped.status


async def test_a_cart_of_two_merchants_is_one_payment_two_orders_shipped_and_refunded_apart(
    client, simulator
):
    # given merchant A's tea (¥19.90) and merchant B's tea (¥59.90) in alice's cart
    a, a_tea = await _merchant_with_tea("A", "甲店", "19.90")
    b, b_tea = await _merchant_with_tea("B", "乙店", "59.90")
    await add_staff("a-owner", StaffRole.MERCHANT_OWNER, a)
    await add_staff("b-owner", StaffRole.MERCHANT_OWNER, b)
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    for sku_id, quantity in ((a_tea, 1), (b_tea, 2)):
        added = await client.post(
            "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=headers
        )
        assert added.status in (200, 201), await added.text()
    # when she checks out the cart and pays once
    placed = await client.post(
        "/api/v1/orders",
        json={"from_cart": True, "address_id": address["id"]},
        headers={**headers, "Idempotency-Key": "two-merchants-0001"},
    )
    assert placed.status == 201, await placed.text()
    ours, theirs = (await placed.json())["checkout"]["orders"]
    paid = await confirm_payment(simulator, prepay_id_of(await pay_params(client, headers, theirs["id"])))
    # then there is one payment of both orders, and both are paid
    payments = await Payment.all().values_list("amount", flat=True)
    assert payments == [ours["payable"] + theirs["payable"]]
    assert [o.status for o in await Order.all().order_by("id")] == ["paid", "paid"]
    # when B's owner ships: A's order is not found to B, B's ships
    assert await _ship(client, "b-owner", ours, "ZT1000000001") == 404
    assert await _ship(client, "b-owner", theirs, "ZT2000000002") == 302
    await settle_outbox()
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    # then WeChat hears of a split delivery, not yet all delivered
    assert [(u["delivery_mode"], u["is_all_delivered"]) for u in uploads] == [(2, False)]
    # when A's owner ships A's order (B's is not found to A)
    assert await _ship(client, "a-owner", theirs, "ZT3000000003") == 404
    assert await _ship(client, "a-owner", ours, "ZT1000000001") == 302
    await settle_outbox()
    _, state = await sim(simulator, "GET", "/pay/state")
    uploads = state["shipping"][paid["transaction_id"]]
    # then the last upload says all is delivered
    assert [(u["delivery_mode"], u["is_all_delivered"]) for u in uploads][-1] == (2, True)
    # when alice asks for one of the two teas of B's line back, and B's owner approves
    line = await OrderLine.get(order_id=theirs["id"])
    one_unit = line.payable // line.quantity
    user = await User.get(orders__id=theirs["id"])
    asked = await aftersales.request_aftersale(
        shopper=Shopper(user_id=user.id, openid=user.openid),
        order_id=theirs["id"],
        kind="refund_only",
        lines=[LineAsk(line.id, 1)],
        reason="少件/漏发",
        settings=client.app[CORE].settings,
    )
    b_owner = await StaffAccount.get(username="b-owner")
    staff = Staff(
        id=b_owner.id, username=b_owner.username, role=b_owner.role, merchant_id=b_owner.merchant_id
    )
    await review.approve(aftersale_id=asked.id, staff=staff, agent_refund_limit_fen=0)
    refund_id = (await Refund.get(aftersale_id=asked.id)).id

    async def refunded() -> bool:
        return (await Refund.get(id=refund_id)).status == "succeeded"

    await eventually(refunded)
    # then alice gets back exactly that unit's paid share, from the one transaction
    _, pay_state = await sim(simulator, "GET", "/pay/state")
    refund = await Refund.get(id=refund_id)
    assert refund.amount == one_unit == 5990
    asked = pay_state["refunds"][refund.out_refund_no]["amount"]
    assert (asked["refund"], asked["total"]) == (5990, ours["payable"] + theirs["payable"])
    # and B's order keeps its status with the refund counted; A's order is untouched
    b_order, a_order = await Order.get(id=theirs["id"]), await Order.get(id=ours["id"])
    assert (b_order.status, b_order.refunded) == ("shipped", 5990)
    assert (a_order.status, a_order.refunded) == ("shipped", 0)
    assert await Refund.filter(order_id=ours["id"]).count() == 0
