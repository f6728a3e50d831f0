"""A community leader's earnings and withdrawals through the mini-program API: pending
commissions are shown but not withdrawable; earned ones are withdrawn to the leader's WeChat
balance through WeChat Pay's merchant transfer (the simulator), paid once, the books balanced;
a shopper who is no leader is told so."""

from __future__ import annotations

import uuid
from datetime import timedelta

from commerce import clock
from commerce.catalog.importer import import_rows
from commerce.catalog.models import Sku
from commerce.community import commission_earning as earning
from tests.community_builders import approved_leader, community_sale, paid_community_order, picked_up
from tests.edges.payees import books_balance, payee
from tests.edges.paying import sim
from tests.factories import sku_row

TEA = sku_row("LT1", "LT1-1", title="龙井茶", category="食品 > 茶叶", price="10.00", stock=50)


async def _earnings(client, who: dict) -> dict:
    response = await client.get("/api/v1/leader/earnings", headers=who["headers"])
    assert response.status == 200, await response.text()
    return await response.json()


async def _withdraw(client, who: dict, amount: int):
    return await client.post(
        "/api/v1/leader/withdrawals",
        json={"amount": amount},
        headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_a_leader_sees_pending_commission_and_withdraws_what_was_earned(client, simulator, settings):
    # given lily, a leader signed in to the mini-program, and two neighbours' orders at her
    # point: 5 teas (5000: 10% = 500) and 2 teas (2000: 200), the default rate
    assert not (await import_rows([TEA])).problems
    tea = (await Sku.get(sku_code="LT1-1")).id
    lily = await payee(client, simulator, "lily", owed=0)
    leader = await approved_leader(user_id=lily["user_id"], name="莉莉")
    sale = await community_sale()
    first = await paid_community_order(client, simulator, "mona", leader, sale, [(tea, 5)])
    second = await paid_community_order(client, simulator, "nora", leader, sale, [(tea, 2)])

    # then both are pending, nothing withdrawable yet
    shown = await _earnings(client, lily)
    assert (shown["pending"], shown["earned"], shown["available"], shown["withdrawn"]) == (700, 0, 0, 0)
    assert [(c["order_id"], c["amount"], c["status"]) for c in shown["commissions"]] == [
        (second, 200, "pending"),
        (first, 500, "pending"),
    ]
    assert shown["commissions"][0]["accrued_at"].endswith("+08:00")
    # and a withdrawal of pending commission is refused
    refused = await _withdraw(client, lily, 100)
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "payout_not_enough_balance"

    # when the first order is picked up and its after-sales window passes
    await picked_up(first, leader.point_id)
    with clock.frozen(clock.now() + timedelta(days=settings.aftersales_window_days, minutes=1)):
        assert await earning.earn_due(window_days=settings.aftersales_window_days) == 1

    # then its 500 are earned and withdrawable, the other's 200 still pending
    shown = await _earnings(client, lily)
    assert (shown["pending"], shown["earned"], shown["available"]) == (200, 500, 500)
    assert {c["order_id"]: c["status"] for c in shown["commissions"]} == {first: "earned", second: "pending"}

    # when lily withdraws 3.00 (small: approved by itself) and confirms it in WeChat
    response = await _withdraw(client, lily, 300)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["status"] == "waiting_confirmation"
    status, confirmed = await sim(
        simulator, "POST", "/pay/transfer-confirm", {"package_info": body["transfer"]["package"]}
    )
    assert status == 200 and confirmed["notified"] == [204], confirmed

    # then it is paid once: withdrawn 300, 200 left to withdraw, the books balanced
    shown = await _earnings(client, lily)
    assert (
        shown["pending"],
        shown["earned"],
        shown["withdrawn"],
        shown["available"],
        shown["in_transit"],
    ) == (
        200,
        500,
        300,
        200,
        0,
    )
    assert [(w["id"], w["status"]) for w in shown["withdrawals"]] == [(body["id"], "succeeded")]
    wallet = await (await client.get("/api/v1/wallet", headers=lily["headers"])).json()
    assert wallet["owed"] == 200
    await books_balance()


async def test_a_shopper_who_is_no_leader_has_no_earnings(client, simulator):
    # given a shopper owed money who is no leader
    olga = await payee(client, simulator, "olga", owed=1000)
    # when she asks for a leader's earnings or a leader's withdrawal
    earnings = await client.get("/api/v1/leader/earnings", headers=olga["headers"])
    withdrawal = await _withdraw(client, olga, 100)
    # then neither is found
    for response in (earnings, withdrawal):
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "leader_not_found"
    # and without signing in, nothing at all
    assert (await client.get("/api/v1/leader/earnings")).status == 401
