"""Orders in the admin web: staff see what their role allows, merchants only their own, and
shipping from the page is the core's shipping (WeChat hears of it), recorded in the audit log."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

from openpyxl import Workbook, load_workbook

from commerce import clock
from commerce.audit.models import AuditEntry
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Product, Sku
from commerce.merchants.services import ensure_merchant
from commerce.orders.models import Order, OrderEvent
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin
from commerce.staff.states import StaffRole
from tests.builders import (
    CABLE,
    PASSWORD,
    add_staff,
    csrf_of,
    file_form,
    paid_order,
    shopper_with_address,
    sign_in,
)
from tests.edges.paying import pay_order, sim
from tests.edges.shoppers import ADDRESS
from tests.factories import seed_small_catalog

BOB_ADDRESS = {**ADDRESS, "receiver_name": "李四", "phone": "13900139111"}


async def test_the_platform_ships_a_paid_order_from_its_page(client, simulator):
    order = await paid_order(client, simulator)
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    listed = await (await client.get("/admin/orders", params={"status": "paid"})).text()
    assert order["order_no"] in listed
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    # the platform too sees the phone and address masked until it reveals them (recorded)
    assert "138****8000" in page and "13800138000" not in page and "发货" in page
    # when the admin ships it
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    # then the order is shipped by them, WeChat has the shipment, and the audit log has it
    assert shipped.status == 302
    assert (await Order.get(id=order["id"])).status == "shipped"
    admin = await StaffAccount.get(username="boss")
    assert await OrderEvent.filter(
        order_id=order["id"], to_status="shipped", actor=f"staff:{admin.id}"
    ).exists()
    _, state = await sim(simulator, "GET", "/pay/state")
    assert state["shipping"][order["transaction_id"]][0]["shipping_list"][0]["tracking_no"] == "SF1234567890"
    assert await AuditEntry.filter(action="order.ship", object_id=str(order["id"])).exists()
    # a bad tracking number is refused clearly
    again = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": csrf_of(page)},
    )
    assert again.status == 409


async def test_an_agent_sees_orders_masked_and_cannot_ship(client, simulator):
    order = await paid_order(client, simulator)
    await add_staff("agent-1", StaffRole.AGENT)
    await sign_in(client, "agent-1")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "138****8000" in page and "13800138000" not in page and "科技园" not in page
    assert "/ship" not in page  # no ship form
    refused = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": csrf_of(page)},
    )
    assert refused.status == 403 and (await Order.get(id=order["id"])).status == "paid"


async def test_a_merchant_sees_only_orders_of_its_products(client, simulator):
    order = await paid_order(client, simulator)
    other = await ensure_merchant(code="other", name="别家")
    own = await ensure_merchant()  # the demo products belong to the platform's own shop
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    await add_staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await sign_in(client, "other-owner")
    assert order["order_no"] not in await (await client.get("/admin/orders")).text()
    assert (await client.get(f"/admin/orders/{order['id']}")).status == 404
    page = await (await client.get("/admin/")).text()
    forged = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": csrf_of(page)},
    )
    assert forged.status == 404 and (await Order.get(id=order["id"])).status == "paid"
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    # the merchant whose product it is ships it
    await sign_in(client, "own-clerk")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "中通快递", "tracking_no": "ZT1234567890", "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    assert shipped.status == 302 and (await Order.get(id=order["id"])).status == "shipped"
    assert (await Product.filter(merchant_id=own).count()) > 0


async def test_an_order_stays_with_its_merchant_when_the_product_moves_to_another(client, simulator):
    # given a paid order of the platform's own shop's earbuds
    order = await paid_order(client, simulator)
    own = await ensure_merchant()
    other = await ensure_merchant(code="other", name="别家")
    await add_staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    # and the earbuds handed over to another merchant since
    product_id = (await Sku.get(sku_code="P2-W")).product_id
    await Product.filter(id=product_id).update(merchant_id=other)
    # when the new owner looks for the order, opens it and tries to ship or note it
    await sign_in(client, "other-owner")
    page = await (await client.get("/admin/")).text()
    assert order["order_no"] not in await (await client.get("/admin/orders")).text()
    assert (await client.get(f"/admin/orders/{order['id']}")).status == 404
    form = {"carrier": "顺丰速运", "tracking_no": "SF1234567890", "csrf_token": csrf_of(page)}
    assert (await client.post(f"/admin/orders/{order['id']}/ship", data=form)).status == 404
    noted = await client.post(
        f"/admin/orders/{order['id']}/notes", data={"text": "x", "csrf_token": csrf_of(page)}
    )
    # then none of it is theirs: not found, nothing changed
    assert noted.status == 404 and (await Order.get(id=order["id"])).status == "paid"
    assert 'data-figure="to-ship">0<' in page
    await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    # while the merchant it was bought from still lists it, counts it, opens it and ships it
    await sign_in(client, "own-clerk")
    dashboard = await (await client.get("/admin/")).text()
    assert 'data-figure="to-ship">1<' in dashboard
    assert order["order_no"] in await (await client.get("/admin/orders")).text()
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "发货" in page and f"{order['payable'] / 100:.2f}" in page
    shipped = await client.post(
        f"/admin/orders/{order['id']}/ship",
        data={"carrier": "中通快递", "tracking_no": "ZT1234567890", "csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    assert shipped.status == 302 and (await Order.get(id=order["id"])).status == "shipped"


async def _place(client, simulator, shopper: dict, sku_code: str, *, paid: bool = True) -> dict:
    sku = await Sku.get(sku_code=sku_code)
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "address_id": shopper["address_id"]}
    response = await client.post(
        "/api/v1/orders", json=body, headers={**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status == 201, await response.text()
    order = await response.json()
    if paid:
        await pay_order(client, simulator, shopper["headers"], order["id"])
    return order


def _listed(html: str, *orders: dict) -> list[str]:
    return [o["order_no"] for o in orders if o["order_no"] in html]


async def test_staff_filter_orders_by_shanghai_date_keyword_and_status(client, simulator):
    await seed_small_catalog()
    await import_rows([CABLE])
    # given alice ordered earbuds late on 1 May and bob a cable just after midnight (Shanghai):
    # the same day in UTC, two days in Shanghai
    with clock.frozen(datetime(2026, 5, 1, 23, 30, tzinfo=clock.SHANGHAI)):
        alice = await shopper_with_address(client, simulator, "alice", ADDRESS)
        late = await _place(client, simulator, alice, "P2-W", paid=False)
    with clock.frozen(datetime(2026, 5, 2, 0, 30, tzinfo=clock.SHANGHAI)):
        bob = await shopper_with_address(client, simulator, "bob", BOB_ADDRESS)
        early = await _place(client, simulator, bob, "P9-1", paid=False)
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")

    async def listed(**params) -> list[str]:
        html = await (await client.get("/admin/orders", params=params)).text()
        return _listed(html, late, early)

    assert await listed() == [late["order_no"], early["order_no"]]
    assert await listed(**{"from": "2026-05-01", "to": "2026-05-01"}) == [late["order_no"]]
    assert await listed(**{"from": "2026-05-02"}) == [early["order_no"]]
    assert await listed(to="2026-04-30") == []
    # keyword: the last four digits of a phone, a whole phone, a name, a product title, a number
    assert await listed(q="8000") == [late["order_no"]]
    assert await listed(q="13900139111") == [early["order_no"]]
    assert await listed(q="李四") == [early["order_no"]]
    assert await listed(q="数据线") == [early["order_no"]]
    assert await listed(q="FreeBuds") == [late["order_no"]]
    assert await listed(q=late["order_no"]) == [late["order_no"]]
    assert await listed(q="8000", status="paid") == []
    page = await (await client.get("/admin/orders", params={"q": "数据线", "from": "2026-05-02"})).text()
    assert "共 1 单" in page and "第 1 / 1 页" in page and 'value="数据线"' in page
    bad = await (await client.get("/admin/orders", params={"from": "5/1/2026"})).text()
    assert "日期格式" in bad and _listed(bad, late, early) == [late["order_no"], early["order_no"]]


async def test_the_order_page_shows_payments_refunds_and_a_timeline_with_notes(client, simulator):
    order = await paid_order(client, simulator)
    await create_platform_admin(username="boss", password=PASSWORD)
    await sign_in(client, "boss")
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    # the payment record: our number, WeChat Pay's, amount, status, when
    assert order["order_no"] in page and order["transaction_id"] in page and "已支付" in page
    # when the admin adds a note, and one that tries to run a script
    url = f"/admin/orders/{order['id']}/notes"
    noted = await client.post(
        url, data={"csrf_token": csrf_of(page), "text": "买家来电：周末再送"}, allow_redirects=False
    )
    assert noted.status == 302
    await client.post(url, data={"csrf_token": csrf_of(page), "text": "<script>alert(1)</script>"})
    # then the timeline shows both, with who wrote them, the script as text
    page = await (await client.get(f"/admin/orders/{order['id']}")).text()
    assert "买家来电：周末再送" in page and "boss（平台管理员）" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert await OrderEvent.filter(order_id=order["id"], type="note").count() == 2
    assert await AuditEntry.filter(action="order.note", object_id=str(order["id"])).count() == 2
    # an empty or over-long note is refused
    for text in (" ", "字" * 501):
        refused = await client.post(url, data={"csrf_token": csrf_of(page), "text": text})
        assert refused.status == 400 and "备注请填写" in await refused.text()
    # another merchant cannot note it
    other = await ensure_merchant(code="other", name="别家")
    await add_staff("other-owner", StaffRole.MERCHANT_OWNER, other)
    client.session.cookie_jar.clear()
    await sign_in(client, "other-owner")
    csrf = csrf_of(await (await client.get("/admin/")).text())
    assert (await client.post(url, data={"csrf_token": csrf, "text": "别家的备注"})).status == 404
    assert await OrderEvent.filter(order_id=order["id"], type="note").count() == 2


async def test_a_merchant_ships_many_orders_from_a_file_and_sees_each_rows_result(client, simulator):
    await seed_small_catalog()
    own = await ensure_merchant()
    other = await ensure_merchant(code="other", name="别家")
    await import_rows([CABLE], merchant_id=other)
    alice = await shopper_with_address(client, simulator, "alice", ADDRESS)
    first, second = (
        await _place(client, simulator, alice, "P2-W"),
        await _place(client, simulator, alice, "P2-W"),
    )
    others = await _place(client, simulator, alice, "P9-1")
    unpaid = await _place(client, simulator, alice, "P2-W", paid=False)
    await add_staff("own-clerk", StaffRole.MERCHANT_STAFF, own)
    await sign_in(client, "own-clerk")
    page = await (await client.get("/admin/orders/ship-bulk")).text()
    assert "下载 Excel 模板" in page and "顺丰速运" in page
    # the template lists the carriers allowed
    template = await client.get("/admin/orders/ship-bulk/template.xlsx")
    book = load_workbook(io.BytesIO(await template.read()))
    assert [c.value for c in book["发货"][1]] == ["订单号", "快递公司", "快递单号"]
    assert "中通快递" in [row[0] for row in book["快递公司"].iter_rows(values_only=True)]
    # when the clerk uploads a CSV with good and bad rows
    csv_text = "\n".join(
        [
            "订单号,快递公司,快递单号",
            f"{first['order_no']},顺丰速运,SF1111111111",
            f"{others['order_no']},中通快递,ZT2222222222",
            f"{second['order_no']},鸽子快递,GZ3333333333",
            "26010100000000000000,圆通速递,YT4444444444",
            f"{first['order_no']},顺丰速运,SF1111111111",
            f"{unpaid['order_no']},顺丰速运,SF5555555555",
            ",,",
        ]
    )
    answer = await client.post(
        "/admin/orders/ship-bulk",
        data=file_form([("csrf_token", csrf_of(page))], "发货.csv", csv_text.encode("utf-8-sig"), "text/csv"),
    )
    html = await answer.text()
    # then each row says what happened: only the clerk's own paid order is shipped
    assert answer.status == 200 and "成功 1 单，失败 5 单" in html
    assert "订单不存在" in html and "请选择支持的快递公司" in html and "与第 2 行的订单重复" in html
    assert "订单不是待发货状态" in html
    assert (await Order.get(id=first["id"])).status == "shipped"
    assert [(await Order.get(id=o["id"])).status for o in (second, others, unpaid)] == [
        "paid",
        "paid",
        "pending_payment",
    ]
    assert await AuditEntry.filter(action="order.ship", object_id=str(first["id"])).exists()
    # an .xlsx works the same (carriers by name or by WeChat's code)
    sheet = Workbook()
    sheet.active.append(["订单号", "快递公司", "快递单号"])
    sheet.active.append([second["order_no"], "YTO", "YT6666666666"])
    out = io.BytesIO()
    sheet.save(out)
    xlsx = await client.post(
        "/admin/orders/ship-bulk",
        data=file_form(
            [("csrf_token", csrf_of(page))], "ship.xlsx", out.getvalue(), "application/octet-stream"
        ),
    )
    assert "成功 1 单，失败 0 单" in await xlsx.text()
    assert (await Order.get(id=second["id"])).carrier == "圆通速递"
    # other files are refused clearly
    for name, body, why in (
        ("orders.txt", b"hello", "只支持 CSV 或 Excel"),
        ("orders.xlsx", b"not a zip", "无法读取该 Excel 文件"),
        ("orders.csv", "订单号,快递单号\n1,2".encode(), "缺少 快递公司"),
        ("orders.csv", b"x" * (2 * 1024 * 1024 + 1), "超过 2 MB"),
    ):
        refused = await client.post(
            "/admin/orders/ship-bulk",
            data=file_form([("csrf_token", csrf_of(page))], name, body, "text/plain"),
        )
        assert refused.status == 400 and why in await refused.text()
