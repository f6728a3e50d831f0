"""Community sales for edge tests: leaders with their points (applied and approved through
the leaders' services), shoppers bound to a leader (by their share code), orders placed in a
sale through the API and paid by WeChat Pay's genuine notification at the clock's time (the
clock may be moved)."""

from __future__ import annotations

import uuid
from datetime import date

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.community import binding, leaders, sales
from commerce.community import queries as community_queries
from commerce.community.states import BindingSource
from commerce.payments.models import Payment
from shop.app import CORE
from tests.builders import shopper_with_address
from tests.edges import wechatpay_forgery as forge
from tests.edges.paying import pay_params, settle_outbox
from tests.factories import sku_row

EGGS = sku_row(
    "C1", "C1-EGG", title="土鸡蛋 30枚", category="食品生鲜 > 蛋类 > 鸡蛋", price="39.90", stock=500
)
MILK = sku_row(
    "C2", "C2-MILK", title="鲜牛奶 1L", category="食品生鲜 > 乳品 > 鲜奶", price="15.00", stock=500
)
RICE = sku_row(
    "C3", "C3-RICE", title="五常大米 5kg", category="食品生鲜 > 粮油 > 大米", price="69.00", stock=500
)
CONTACT = {"name": "王五", "phone": "13700137000"}


async def seed_groceries() -> dict[str, int]:
    """The sale's goods (and rice, in no sale); sku code -> id."""
    report = await import_rows([EGGS, MILK, RICE])
    assert not report.problems, report.problems
    return {code: (await Sku.get(sku_code=code)).id for code in ("C1-EGG", "C2-MILK", "C3-RICE")}


# What a shopper sends to apply as a leader (POST /api/v1/leader/application).
LEADER_APPLICATION = {
    "name": "王芳",
    "phone": "13800138000",
    "address": "深圳市南山区科技园 1 号楼下便利店",
    "latitude": 22.5450,
    "longitude": 113.9380,
    "opening_hours": "每天 9:00-21:00",
}


async def approved_leader(client, simulator, user: str, point_name: str) -> dict:
    """A shopper who applied to be a leader and was approved (their point open):
    {"id", "point_id", "headers", "user_id"}."""
    shopper = await shopper_with_address(client, simulator, user)
    application = leaders.Application(
        name=user,
        phone="13600136000",
        address=f"{point_name} 1 号",
        latitude=31.2304,
        longitude=121.4737,
        opening_hours="每天 8:00-21:00",
        point_name=point_name,
    )
    applied = await leaders.apply(user_id=shopper["user_id"], application=application)
    await leaders.approve(leader_id=applied.id, actor="staff:1")
    return {"id": applied.id, "point_id": applied.point.id, **shopper}


async def bind(user_id: int, leader_id: int) -> None:
    """The shopper takes this leader now, as scanning their QR code does."""
    share_code = (await community_queries.get_leader(leader_id)).share_code
    await binding.bind_by_share_code(user_id=user_id, share_code=share_code, source=BindingSource.QR)


async def open_sale(skus: dict[str, int], *, day: date, hour: int = 23, title: str = "今日团购") -> int:
    """The platform's sale of eggs at 29.90 and milk at 9.90 on that day, cut off at hour:00."""
    sale = await sales.create_sale(
        title=title,
        sale_date=day,
        items=[(skus["C1-EGG"], 2990), (skus["C2-MILK"], 990)],
        merchant_id=None,
        cutoff_hour=hour,
        actor="staff:1",
    )
    return sale.id


async def place_in_sale(client, shopper: dict, *, sale_id: int, point_id: int, items: dict[int, int]):
    """POST /orders in the sale, collected at the point: the response."""
    body = {
        "items": [{"sku_id": sku, "quantity": n} for sku, n in items.items()],
        "fulfilment": {"kind": "pickup", "pickup_point_id": point_id},
        "contact": CONTACT,
        "community_sale_id": sale_id,
    }
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def pay_now(client, data_dir, shopper: dict, order_id: int) -> None:
    """The shopper pays; WeChat Pay's genuine notification arrives at the clock's time."""
    await pay_params(client, shopper["headers"], order_id)
    payment = await Payment.filter(checkout__orders__id=order_id).order_by("-id").first()
    settings = client.app[CORE].settings
    transaction = forge.paid_transaction(
        appid=settings.miniapp_appid,
        mchid=settings.wechat_pay_mchid,
        out_trade_no=payment.out_trade_no,
        total=payment.amount,
        openid=payment.payer_openid,
        transaction_id="42" + uuid.uuid4().hex[:26],
    )
    headers, body = forge.notification(
        forge.platform(data_dir), transaction, timestamp=int(clock.now().timestamp())
    )
    answer = await client.post("/pay/wechat/notify", data=body, headers=headers)
    assert answer.status == 204, await answer.text()
    await settle_outbox()


async def paid_in_sale(
    client, data_dir, shopper: dict, *, sale_id: int, point_id: int, items: dict[int, int]
) -> dict:
    placed = await place_in_sale(client, shopper, sale_id=sale_id, point_id=point_id, items=items)
    assert placed.status == 201, await placed.text()
    order = await placed.json()
    await pay_now(client, data_dir, shopper, order["id"])
    return order
