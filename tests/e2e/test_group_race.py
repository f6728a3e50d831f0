"""拼团's last seats on two real `shop serve` processes sharing MariaDB and Redis: 50 different
shoppers race for the last 3 seats of a group, first at checkout (holding a seat), then at
payment (their holds lapsed, all paying at once, each notification to both processes). The
group ends with exactly N, every other payer is in a new group of the deal or refunded, and
every fen paid is in a kept order or refunded."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import aiohttp
from tortoise import Tortoise

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.config import load_settings
from commerce.db import tortoise_config
from commerce.groupbuy import deals, services
from commerce.groupbuy.models import Group, GroupSeat
from commerce.orders.models import Order
from commerce.payments.models import Payment, Refund
from shop.app import with_simulated_merchant
from tests.builders import genuine_pay_notification
from tests.concurrency import needs_real_database
from tests.e2e.serving import free_port, serving, shop_env
from tests.edges.shoppers import ADDRESS
from tests.factories import sku_row

pytestmark = needs_real_database

SIZE = 5
RACERS = 50
COPIES = 2  # of each notification, to each process


async def test_fifty_shoppers_race_for_the_last_three_seats_on_two_processes(tmp_path, shop_services):
    data_dir = tmp_path / "var"
    port_a, port_b = free_port(), free_port()
    env = {**shop_env(data_dir, shop_services), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port_a}"}
    await Tortoise.init(config=tortoise_config(env["DATABASE_URL"]))
    try:
        await Tortoise.generate_schemas()
        row = sku_row(
            "GBR", "GBR-1", title="拼团茶具", category="家居 > 茶具 > 套装", price="199.00", stock=500
        )
        assert not (await import_rows([row])).problems
        sku_id = (await Sku.get(sku_code="GBR-1")).id
        with serving(env, port_a) as a, serving(env, port_b) as b:
            async with aiohttp.ClientSession() as http:
                settings = with_simulated_merchant(
                    load_settings(shop_data_dir=data_dir, wechat_mode="simulator")
                )
                bases = [a, b]

                async def pay_all(paying: list[tuple[dict, dict]], first_n: int) -> None:
                    notices = [
                        await _paid_notice(http, data_dir, settings, s, o, first_n + n)
                        for n, (s, o) in enumerate(paying)
                    ]
                    sent = [
                        _post(http, f"{base}/pay/wechat/notify", headers, body)
                        for headers, body in notices
                        for base in bases
                        for _ in range(COPIES)
                    ]
                    assert set(await asyncio.gather(*sent)) <= {200, 204}

                # given a deal for groups of five, a group opened and joined: 2 paid, 3 seats left
                deal = {"deal_id": await _deal(sku_id), "sku_id": sku_id}
                opener = await _shopper(http, a, a, "opener")
                status, first = await _order(http, opener, deal, None)
                assert status == 201, first
                group_id = (await GroupSeat.get(order_id=first["id"])).group_id
                second = await _shopper(http, a, b, "second")
                status, joined = await _order(http, second, deal, group_id)
                assert status == 201, joined
                await pay_all([(opener, first), (second, joined)], 0)
                assert (await Group.get(id=group_id)).paid == 2

                # when 50 shoppers join it at once, half through each process
                racers = await asyncio.gather(
                    *(_shopper(http, a, bases[n % 2], f"racer{n}") for n in range(RACERS))
                )
                answers = await asyncio.gather(*(_order(http, s, deal, group_id) for s in racers))
                # then all are placed; exactly 3 hold a seat in the group, 47 in new groups
                assert Counter(status for status, _ in answers) == {201: RACERS}, answers[:3]
                orders = [body for _, body in answers]
                seats = [await GroupSeat.get(order_id=o["id"]) for o in orders]
                assert sum(seat.group_id == group_id for seat in seats) == SIZE - 2
                assert len({seat.group_id for seat in seats if seat.group_id != group_id}) == RACERS - 3
                assert (await Group.get(id=group_id)).taken == SIZE

                # when every hold lapses, each racer joins the group again (one at a time, each
                # hold lapsing but the last racer's: one seat held, two free), and then all 50
                # pay at the same moment
                await _lapse_holds()
                again = []
                for n, shopper in enumerate(racers):
                    status, order = await _order(http, shopper, deal, group_id)
                    assert status == 201, order
                    again.append(order)
                    if n < RACERS - 1:
                        await _lapse_holds()
                assert (await Group.get(id=group_id)).taken == 3
                # (the holder of the last hold pays after the crowd: the held seat is theirs)
                crowd = list(zip(racers, again, strict=True))
                await pay_all(crowd[:-1], 100)
                assert (await Group.get(id=group_id)).taken == SIZE
                await pay_all(crowd[-1:], 200)

        # then the group holds exactly five and succeeded; no group of the deal is over five
        group = await Group.get(id=group_id)
        assert (group.status.value, group.taken, group.paid) == ("succeeded", SIZE, SIZE)
        for other in await Group.filter(deal_id=deal["deal_id"]):
            assert other.paid <= other.taken <= SIZE
        in_group = await GroupSeat.filter(group_id=group_id, status="paid").values_list("order_id", flat=True)
        assert len(in_group) == SIZE
        assert all(o.status.value == "paid" for o in await Order.filter(id__in=in_group))
        # every other payer waits in a new group of their own, paid once
        moved = [o for o in again if o["id"] not in in_group]
        assert len(moved) == RACERS - 3
        for order in moved:
            seat = await GroupSeat.get(order_id=order["id"])
            assert seat.group_id != group_id and seat.status.value == "paid"
            assert (await Order.get(id=order["id"])).status.value == "grouping"
        # and every fen is accounted for: payments = kept orders + refunds
        paid = sum(await Payment.filter(status="paid").values_list("amount", flat=True))
        kept = await Order.filter(status__in=("paid", "grouping")).values_list("payable", "refunded")
        refunded = sum(await Refund.all().values_list("amount", flat=True))
        assert paid == sum(payable - back for payable, back in kept) + refunded
        assert await Order.filter(status__in=("paid", "grouping")).count() == 2 + RACERS
    finally:
        await Tortoise.close_connections()


async def _deal(sku_id: int) -> int:
    return await deals.create_deal(
        deal=deals.DealInput(
            title="茶具五人团",
            prices={sku_id: 9900},
            group_size=SIZE,
            time_limit_minutes=24 * 60,
            per_shopper_limit=5,
            starts_at=clock.now() - timedelta(minutes=1),
            ends_at=clock.now() + timedelta(days=3),
        ),
        merchant_id=None,
    )


async def _lapse_holds() -> None:
    """Time passes for every hold (the processes share no clock with the test: the rows move)."""
    await GroupSeat.filter(status="held").update(held_until=clock.now() - timedelta(seconds=1))
    await services.lapse_holds()


async def _shopper(http: aiohttp.ClientSession, simulator_base: str, base: str, user: str) -> dict:
    async with http.post(f"{simulator_base}/_sim/wx/login-code", json={"user": user}) as response:
        code = (await response.json())["code"]
    async with http.post(f"{base}/api/v1/auth/login", json={"code": code}) as response:
        assert response.status == 200, await response.text()
        headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    async with http.post(f"{base}/api/v1/addresses", json=ADDRESS, headers=headers) as response:
        assert response.status == 201, await response.text()
        return {"base": base, "headers": headers, "address_id": (await response.json())["id"]}


async def _order(http, shopper: dict, deal: dict, group_id: int | None) -> tuple[int, dict]:
    body = {
        "items": [{"sku_id": deal["sku_id"], "quantity": 1}],
        "address_id": shopper["address_id"],
        "group": {"deal_id": deal["deal_id"], "group_id": group_id},
    }
    headers = {**shopper["headers"], "Idempotency-Key": uuid.uuid4().hex}
    async with http.post(f"{shopper['base']}/api/v1/orders", json=body, headers=headers) as response:
        return response.status, await response.json()


async def _paid_notice(http, data_dir, settings, shopper: dict, order: dict, n: int) -> tuple[dict, bytes]:
    async with http.post(
        f"{shopper['base']}/api/v1/orders/{order['id']}/pay", headers=shopper["headers"]
    ) as r:
        assert r.status == 200, await r.text()
    return await genuine_pay_notification(data_dir, settings, order, f"4200000000202612070000{n:06d}")


async def _post(http, url: str, headers: dict, body: bytes) -> int:
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status
