"""How a refund ends at WeChat Pay, told to us however WeChat Pay repeats itself: SUCCESS,
ABNORMAL (the bank refused the original path) or CLOSED is applied once, whether the
notification comes once, again and again, or from several servers at the same moment; an
ABNORMAL refund the merchant resolves at the merchant platform completes; a refund whose
notification was lost is finished by reconciliation asking WeChat Pay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from commerce import clock
from commerce.aftersales.models import AfterSale, AfterSaleEvent
from commerce.catalog.models import Product, Sku
from commerce.orders.models import Order, OrderEvent
from commerce.outbox import OutboxEvent
from commerce.payments.models import Refund
from commerce.payments.reconcile import reconcile_payments
from shop.app import CORE
from tests.edges.paying import eventually, pay_order, settle_outbox, sim
from tests.edges.shoppers import ADDRESS, auth_headers
from tests.factories import seed_small_catalog

OUTCOMES = ("SUCCESS", "ABNORMAL", "CLOSED", "ABNORMAL_RESOLVED")


@pytest.fixture
async def paid(client, simulator) -> dict:
    """Alice's paid, unshipped order for 2 earbuds (30 in stock: 28 left); she follows the
    official account, so anything we tell her shows at the simulator."""
    await seed_small_catalog()
    await sim(simulator, "POST", "/mp/send", {"user": "alice", "type": "event", "event": "subscribe"})
    headers = await auth_headers(client, simulator, "alice")
    address = await (await client.post("/api/v1/addresses", json=ADDRESS, headers=headers)).json()
    sku = await Sku.get(sku_code="P2-W")
    created = await client.post(
        "/api/v1/orders",
        json={"items": [{"sku_id": sku.id, "quantity": 2}], "address_id": address["id"]},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    order = await created.json()
    await pay_order(client, simulator, headers, order["id"])
    return {**order, "headers": headers, "sku_id": sku.id}


async def _ask_refund(client, order: dict) -> Refund:
    response = await client.post(
        f"/api/v1/orders/{order['id']}/refunds", json={"reason": "不想要了"}, headers=order["headers"]
    )
    assert response.status == 201, await response.text()
    return await Refund.get(order_id=order["id"])


async def _at_wechat(simulator, out_refund_no: str) -> str:
    _, state = await sim(simulator, "GET", "/pay/state")
    return state["refunds"][out_refund_no]["status"]


async def _ended_at_wechat(simulator, out_refund_no: str, status: str) -> None:
    async def ended() -> bool:
        return await _at_wechat(simulator, out_refund_no) == status

    await eventually(ended)


async def _ours(out_refund_no: str, *statuses: str) -> None:
    """Our refund is in one of these statuses, and after-sales heard of it (a succeeded one's
    request is refunded, a failed one's timeline shows it)."""

    async def there() -> bool:
        refund = await Refund.get(out_refund_no=out_refund_no)
        if refund.status == "succeeded":
            request = await AfterSale.get(id=refund.aftersale_id)
            return "succeeded" in statuses and request.status == "refunded"
        if refund.status == "failed":
            told = await AfterSaleEvent.filter(
                aftersale_id=refund.aftersale_id, type="refund_failed"
            ).exists()
            return "failed" in statuses and told
        return refund.status in statuses

    await eventually(there)


async def _world(simulator, order_id: int) -> dict:
    """Everywhere a refund's outcome could land: refund rows, the order and its events, stock,
    the outbox, and what reached WeChat (API calls, messages to the shopper)."""
    await settle_outbox()
    _, mp = await sim(simulator, "GET", "/mp/messages?user=alice")
    _, wx = await sim(simulator, "GET", "/wx/state")
    return {
        "refunds": await Refund.filter(order_id=order_id).order_by("id").values(),
        "order": await Order.filter(id=order_id).values("status", "refunded", "updated_at"),
        "events": await OrderEvent.filter(order_id=order_id)
        .order_by("id")
        .values_list("type", "from_status", "to_status", "params"),
        "stock": await Sku.all().order_by("id").values_list("id", "stock"),
        "total_stock": await Product.all().order_by("id").values_list("id", "total_stock"),
        "outbox": await OutboxEvent.all().order_by("id").values_list("id", "topic", "payload"),
        "messages": mp["messages"],
        "calls": wx["calls"],
        "pay_refunds": wx["pay"]["refunds"],
    }


async def _redeliver(simulator, out_refund_no: str) -> list:
    status, body = await sim(simulator, "POST", "/pay/redeliver", {"out_refund_no": out_refund_no})
    assert status == 200, body
    return body["notified"]


async def _end_refund(client, simulator, order: dict, outcome: str, *, lose_last: bool) -> Refund:
    """The shopper asks for a refund and WeChat Pay ends it so; with lose_last, the last
    notification about it never reached us (the test then redelivers it)."""
    final = "SUCCESS" if outcome == "ABNORMAL_RESOLVED" else outcome
    first = "ABNORMAL" if outcome == "ABNORMAL_RESOLVED" else outcome
    if first != "SUCCESS":
        await sim(simulator, "POST", "/pay/refund-outcome", {"outcome": first})
    if lose_last and outcome != "ABNORMAL_RESOLVED":
        await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    refund = await _ask_refund(client, order)
    await _ended_at_wechat(simulator, refund.out_refund_no, first)
    if outcome == "ABNORMAL_RESOLVED":
        await _ours(refund.out_refund_no, "failed")
        if lose_last:
            await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
        # the merchant handles it at the merchant platform
        status, body = await sim(
            simulator, "POST", "/pay/resolve-abnormal", {"out_refund_no": refund.out_refund_no}
        )
        assert status == 200, body
        await _ended_at_wechat(simulator, refund.out_refund_no, "SUCCESS")
    if not lose_last:
        await _ours(refund.out_refund_no, "succeeded" if final == "SUCCESS" else "failed")
    return refund


async def _check_outcome(order: dict, outcome: str) -> None:
    """The outcome applied exactly once."""
    await _ours((await Refund.get(order_id=order["id"])).out_refund_no, "succeeded", "failed")
    refund = await Refund.get(order_id=order["id"])
    status = (await Order.get(id=order["id"])).status
    events = await OrderEvent.filter(order_id=order["id"]).values_list("type", "to_status")
    topics = await OutboxEvent.all().values_list("topic", flat=True)
    stock = (await Sku.get(id=order["sku_id"])).stock
    request = await AfterSale.get(order_id=order["id"])
    timeline = await AfterSaleEvent.filter(aftersale_id=request.id).values_list("type", flat=True)
    # Refunded before shipment: the stock went back when the request was approved (at once).
    if outcome in ("SUCCESS", "ABNORMAL_RESOLVED"):
        assert (refund.status, request.status, status, stock) == ("succeeded", "refunded", "closed", 30)
        assert events.count(("status_changed", "closed")) == 1
        assert topics.count("refund.succeeded") == 1
    else:
        assert (refund.status, refund.failure_code, request.status, status, stock) == (
            "failed",
            outcome,
            "refunding",
            "paid",
            30,
        )
        assert topics.count("refund.succeeded") == 0
    failed_events = 1 if outcome != "SUCCESS" else 0
    assert [e for e in events if e[0] == "refund_failed"] == [("refund_failed", "paid")] * failed_events
    assert topics.count("refund.failed") == failed_events
    assert timeline.count("refund_failed") == failed_events


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_a_refund_outcome_told_again_changes_nothing(client, simulator, paid, outcome):
    # given a refund WeChat Pay ended so, and told us
    refund = await _end_refund(client, simulator, paid, outcome, lose_last=False)
    await _check_outcome(paid, outcome)
    before = await _world(simulator, paid["id"])
    # when WeChat Pay tells us again, twice
    assert await _redeliver(simulator, refund.out_refund_no) == [204]
    assert await _redeliver(simulator, refund.out_refund_no) == [204]
    # then nothing changed anywhere
    assert await _world(simulator, paid["id"]) == before


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_a_refund_outcome_from_several_servers_at_once_is_applied_once(
    client, simulator, paid, outcome
):
    # given a refund WeChat Pay ended so, whose notification has not reached us yet
    refund = await _end_refund(client, simulator, paid, outcome, lose_last=True)
    # when it arrives from five servers at the same moment
    answers = await asyncio.gather(*(_redeliver(simulator, refund.out_refund_no) for _ in range(5)))
    # then every copy is acknowledged and the outcome applied once
    assert answers == [[204]] * 5
    await _check_outcome(paid, outcome)
    # and five more at once change nothing
    before = await _world(simulator, paid["id"])
    await asyncio.gather(*(_redeliver(simulator, refund.out_refund_no) for _ in range(5)))
    assert await _world(simulator, paid["id"]) == before


async def test_an_abnormal_refund_resolved_at_the_merchant_platform_completes_the_refund(
    client, simulator, paid
):
    # given the bank refused the original path: the refund failed ABNORMAL, the order still paid
    # (its stock went back when the refund before shipment was approved)
    refund = await _end_refund(client, simulator, paid, "ABNORMAL", lose_last=False)
    assert (await Order.get(id=paid["id"])).status == "paid"
    assert (await Sku.get(id=paid["sku_id"])).stock == 30
    # when the merchant resolves it at the merchant platform and WeChat Pay says SUCCESS
    status, body = await sim(
        simulator, "POST", "/pay/resolve-abnormal", {"out_refund_no": refund.out_refund_no}
    )
    assert (status, body["status"]) == (200, "PROCESSING")
    await _ours(refund.out_refund_no, "succeeded")
    # then the refund succeeded, the order is closed and the unshipped stock is back on sale
    assert (await Order.get(id=paid["id"])).status == "closed"
    assert (await Sku.get(id=paid["sku_id"])).stock == 30
    assert (await Product.get(spu_code="P2")).total_stock == 30
    page = await (await client.get(f"/api/v1/orders/{paid['id']}", headers=paid["headers"])).json()
    assert page["status"] == "closed" and page["refunds"][0]["status"] == "succeeded"


async def test_a_lost_refund_notification_is_finished_by_reconciliation(client, simulator, paid):
    # given WeChat Pay refunded the money but its notification never reached us
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})
    refund = await _ask_refund(client, paid)
    await _ended_at_wechat(simulator, refund.out_refund_no, "SUCCESS")
    await _ours(refund.out_refund_no, "processing")
    assert (await Order.get(id=paid["id"])).status == "paid"
    # when reconciliation runs once the notification is overdue
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        done = await reconcile_payments(pay=client.app[CORE].pay)
    # then it asked WeChat Pay, and the order ends closed with its stock back
    assert done.refunds == 1
    assert (await Refund.get(id=refund.id)).status == "succeeded"
    await settle_outbox()  # after-sales learns it
    assert (await Order.get(id=paid["id"])).status == "closed"
    assert (await Sku.get(id=paid["sku_id"])).stock == 30


async def test_a_resolved_abnormal_refund_whose_notification_was_lost_is_found_by_reconciliation(
    client, simulator, paid
):
    # given an ABNORMAL refund the merchant resolved, whose SUCCESS notification was lost
    refund = await _end_refund(client, simulator, paid, "ABNORMAL_RESOLVED", lose_last=True)
    assert (await Refund.get(id=refund.id)).status == "failed"
    # when reconciliation runs (it looks at abnormal refunds less often than processing ones)
    with clock.frozen(clock.now() + timedelta(hours=1)):
        done = await reconcile_payments(pay=client.app[CORE].pay)
    # then the refund is complete
    assert done.refunds == 1
    await _check_outcome(paid, "ABNORMAL_RESOLVED")
