"""Personal data in the admin: a role that may not see phone numbers cannot confirm one by
searching orders for it (the last four digits only); a full phone number and address are masked
for everyone until revealed, and each look is recorded; a merchant's people see only their own
lines' money on an order that holds another merchant's products."""

from __future__ import annotations

import re

from commerce.audit.models import AuditEntry
from commerce.orders.models import Order
from commerce.staff.models import StaffAccount
from tests.builders import signed_in
from tests.edges.admin_world import ADMIN, AGENT, CLERK, OWNER, build_world
from tests.edges.shoppers import ADDRESS, log_in

PHONE = ADDRESS["phone"]  # every order of the world is sent to this number
MASKED = f"{PHONE[:3]}****{PHONE[-4:]}"
DETAIL = ADDRESS["detail"]


def _count(html: str) -> int:
    return int(re.search(r"共 (\d+) 单", html).group(1))


async def test_without_the_right_to_see_phones_orders_are_found_by_the_last_four_digits_only(
    client, simulator
):
    # given orders of both merchants sent to one phone number
    await build_world(client, simulator)
    everyone = await Order.filter(receiver_phone_tail=PHONE[-4:]).count()
    assert everyone >= 5
    for username, may_see in ((AGENT, False), (CLERK, False), (ADMIN, True), (OWNER, True)):
        await signed_in(client, username)
        # when they search orders for the whole number, and for its last four digits
        whole = await client.get("/admin/orders", params={"q": PHONE})
        tail = await client.get("/admin/orders", params={"q": PHONE[-4:]})
        whole_html, tail_html = await whole.text(), await tail.text()
        assert whole.status == tail.status == 200
        # then the last four digits find the orders they may see
        assert _count(tail_html) > 0, username
        if may_see:
            # and the whole number finds the same orders for those who may see it
            assert _count(whole_html) == _count(tail_html), username
            assert "只能按手机号后四位" not in whole_html
        else:
            # while for the others it matches nothing, and the page says why
            assert _count(whole_html) == 0, username
            assert "您的角色只能按手机号后四位查找订单" in whole_html, username
        assert PHONE not in tail_html and PHONE not in whole_html.replace(f'value="{PHONE}"', "")
    # a number that is also part of nothing else: a wrong whole number finds nothing for anyone
    await signed_in(client, ADMIN)
    assert _count(await (await client.get("/admin/orders", params={"q": "13912345678"})).text()) == 0


async def test_a_full_phone_and_address_are_masked_until_revealed_and_each_look_is_recorded(
    client, simulator
):
    # given the platform admin on an order of merchant A
    w = await build_world(client, simulator)
    csrf = await signed_in(client, ADMIN)
    page = await (await client.get(f"/admin/orders/{w.order_a}")).text()
    # then the phone and address are masked, with a way to reveal them
    assert MASKED in page and PHONE not in page and DETAIL not in page
    assert f"/admin/orders/{w.order_a}/reveal" in page and "将被记录" in page
    assert not await AuditEntry.filter(action="order.reveal_address").exists()
    # when the admin reveals them
    revealed = await client.post(f"/admin/orders/{w.order_a}/reveal", data={"csrf_token": csrf})
    # then they show in full, and the look is in the audit log by who looked
    text = await revealed.text()
    assert revealed.status == 200 and PHONE in text and DETAIL in text
    admin_id = (await StaffAccount.get(username=ADMIN)).id
    looks = await AuditEntry.filter(action="order.reveal_address").values_list("actor", "object_id")
    assert looks == [(f"staff:{admin_id}", str(w.order_a))]
    # and merchant A's owner reveals A's order (recorded), but not B's (not found)
    csrf = await signed_in(client, OWNER)
    assert PHONE not in await (await client.get(f"/admin/orders/{w.order_a}")).text()
    mine = await client.post(f"/admin/orders/{w.order_a}/reveal", data={"csrf_token": csrf})
    assert mine.status == 200 and PHONE in await mine.text()
    theirs = await client.post(f"/admin/orders/{w.order_b}/reveal", data={"csrf_token": csrf})
    assert theirs.status == 404 and PHONE not in await theirs.text()
    # and the clerk and the agent may not reveal at all, and see no button
    for username in (CLERK, AGENT):
        csrf = await signed_in(client, username)
        page = await (await client.get(f"/admin/orders/{w.order_a}")).text()
        assert MASKED in page and PHONE not in page and "/reveal" not in page
        refused = await client.post(f"/admin/orders/{w.order_a}/reveal", data={"csrf_token": csrf})
        assert refused.status == 403 and PHONE not in await refused.text()
    assert await AuditEntry.filter(action="order.reveal_address").count() == 2


async def test_a_merchants_people_see_only_their_own_order_of_a_two_merchant_checkout(client, simulator):
    # given one checkout of merchant A's tea (19.90) and merchant B's coffee (29.90): an order each
    w = await build_world(client, simulator)
    mine, theirs = await Order.get(id=w.order_mixed), await Order.get(id=w.order_mixed_b)
    assert (mine.checkout_id, mine.payable, theirs.payable) == (theirs.checkout_id, 2990, 3990)
    # when A's owner opens A's order, lists orders and opens the customer
    await signed_in(client, OWNER)
    page = await (await client.get(f"/admin/orders/{w.order_mixed}")).text()
    listed = await (await client.get("/admin/orders", params={"q": mine.order_no})).text()
    customer = await (await client.get(f"/admin/users/{w.alice}")).text()
    # then A's order and its money show, and nothing of B's order
    assert "甲店茶叶" in page and "19.90" in page
    for html in (page, listed):
        assert "乙店咖啡" not in html and "39.90" not in html and theirs.order_no not in html
    row = next(line for line in customer.splitlines() if mine.order_no in line)
    assert "¥29.90" in listed and "¥29.90" in row and theirs.order_no not in customer
    assert (await client.get(f"/admin/orders/{w.order_mixed_b}")).status == 404
    # when alice asks for her money back on A's order
    alice = await log_in(client, simulator, "alice")
    asked = await client.post(
        f"/api/v1/orders/{w.order_mixed}/refunds",
        json={"reason": "不想要了"},
        headers={"Authorization": f"Bearer {alice['token']}"},
    )
    assert asked.status == 201, await asked.text()
    # then A's after-sales list shows the request with its amount (A's money alone)
    listed = await (await client.get("/admin/aftersales")).text()
    lines = listed.splitlines()
    at = next(n for n, line in enumerate(lines) if mine.order_no in line)
    row = "".join(lines[at : at + 4])  # the order, the kind, the goods, the amount
    assert "<td>—</td>" not in row and "29.90" in row, row
    # while the platform admin sees B's order too
    await signed_in(client, ADMIN)
    page = await (await client.get(f"/admin/orders/{w.order_mixed_b}")).text()
    assert "乙店咖啡" in page and "29.90" in page and "39.90" in page
