"""Payouts to WeChat balance, through the mini-program API and WeChat Pay's merchant transfer
(the simulator): a withdrawal is held in the books, approved (small ones by themselves),
transferred, confirmed by the payee, and paid once; a failed, refused or unconfirmed transfer
returns the money; a notification told again changes nothing; a transfer whose answer was lost
is asked again with the same out_bill_no and pays once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import wechatpayv3.utils

from commerce import clock
from commerce.ledger.models import JournalEntry, Posting
from commerce.outbox import OutboxEvent
from commerce.payouts import transfers
from commerce.payouts.models import Payout, PayoutEvent
from shop.app import CORE
from tests.builders import new_follower
from tests.edges.payees import books_balance, entry_keys, payee, wallet, withdraw
from tests.edges.paying import eventually, settle_outbox, sim
from wechat_simulator.keys import STATE


async def bills(simulator) -> dict:
    status, state = await sim(simulator, "GET", "/pay/transfers")
    assert status == 200
    return state["bills"]


async def fingerprint(simulator) -> tuple:
    """What a notification could change: our rows, timeline, books and outbox, and the
    messages the official account sent."""
    _, state = await sim(simulator, "GET", "/wx/state")
    return (
        state["mp"]["custom_messages"],
        await Payout.all().order_by("id").values_list("id", "status", "wechat_state", "failure_reason"),
        await PayoutEvent.all().count(),
        await JournalEntry.all().count(),
        await Posting.all().count(),
        await OutboxEvent.all().count(),
    )


async def test_a_small_withdrawal_goes_to_the_payee_who_confirms_it_and_is_paid_once(client, simulator):
    # given alice is owed ¥50
    alice = await payee(client, simulator, owed=5000)

    # when she withdraws ¥30 (small: approved by itself) and the transfer waits for her
    response = await withdraw(client, alice, 3000)

    # then it waits for her confirmation, with what wx.requestMerchantTransfer needs
    assert response.status == 201, await response.text()
    body = await response.json()
    pay = client.app[CORE].pay
    assert body["status"] == "waiting_confirmation"
    assert body["transfer"]["mchId"] == pay.credentials.mchid
    assert body["transfer"]["appId"] == pay.credentials.appid
    bill = (await bills(simulator))[body["out_bill_no"]]
    assert bill["state"] == "WAIT_USER_CONFIRM" and bill["transfer_amount"] == 3000
    assert bill["package_info"] == body["transfer"]["package"] and bill["user_name"] == ""
    assert (await wallet(client, alice))["owed"] == 2000
    assert (await wallet(client, alice))["in_transit"] == 3000

    # when she confirms in WeChat
    status, confirmed = await sim(
        simulator, "POST", "/pay/transfer-confirm", {"package_info": body["transfer"]["package"]}
    )

    # then WeChat Pay told us, and the payout is paid once, in the books too
    assert status == 200 and confirmed["notified"] == [204], confirmed
    shown = await (
        await client.get(f"/api/v1/wallet/withdrawals/{body['id']}", headers=alice["headers"])
    ).json()
    assert shown["status"] == "succeeded" and shown["transfer"] is None
    assert await entry_keys(body["id"]) == [f"payout:{body['id']}:paid", f"payout:{body['id']}:requested"]
    assert (await wallet(client, alice))["in_transit"] == 0
    assert (await wallet(client, alice))["owed"] == 2000
    await books_balance()

    # when WeChat Pay tells it again, twice at once
    before = await fingerprint(simulator)
    status, again = await sim(
        simulator, "POST", "/pay/transfer-redeliver", {"out_bill_no": body["out_bill_no"]}
    )
    assert status == 200 and again["notified"] == [204]

    # then nothing changed: rows, timeline, books, outbox
    assert await fingerprint(simulator) == before


async def test_a_failed_transfer_returns_the_money(client, simulator):
    # given alice is owed ¥50 and her WeChat account cannot take transfers
    alice = await payee(client, simulator, owed=5000)
    await sim(simulator, "POST", "/pay/transfer-outcome", {"outcome": "FAIL", "reason": "ACCOUNT_FROZEN"})

    # when she withdraws ¥30
    body = await (await withdraw(client, alice, 3000)).json()
    assert body["status"] == "approved"  # accepted by WeChat Pay, not yet ended

    # then WeChat Pay's FAIL returns it to her balance
    async def failed() -> bool:
        return (await Payout.get(id=body["id"])).status.value == "failed"

    await eventually(failed)
    shown = await (
        await client.get(f"/api/v1/wallet/withdrawals/{body['id']}", headers=alice["headers"])
    ).json()
    assert shown["failure_reason"] == "收款人微信账户被冻结"
    assert await entry_keys(body["id"]) == [f"payout:{body['id']}:requested", f"payout:{body['id']}:returned"]
    assert (await wallet(client, alice)) | {"withdrawals": []} == {
        "owed": 5000,
        "in_transit": 0,
        "withdrawals": [],
    }
    await books_balance()

    # and a notification told again returns nothing twice
    before = await fingerprint(simulator)
    await sim(simulator, "POST", "/pay/transfer-redeliver", {"out_bill_no": body["out_bill_no"]})
    assert await fingerprint(simulator) == before


@pytest.fixture
def frozen_everywhere(simulator, monkeypatch):
    """Our clock and WeChat's, frozen together: the simulator reads ours, and so does the
    Authorization header of our WeChat Pay calls (wechatpayv3 reads time.time())."""
    state = simulator.app[STATE]
    with clock.frozen(datetime.now(UTC)) as frozen:
        state.config = dataclasses.replace(state.config, now=clock.now)
        monkeypatch.setattr(wechatpayv3.utils, "time", SimpleNamespace(time=lambda: clock.now().timestamp()))
        yield frozen


async def test_an_unconfirmed_transfer_is_closed_after_24_hours_and_the_money_returns(
    client, simulator, frozen_everywhere
):
    # given alice's ¥30 transfer waits for her confirmation
    alice = await payee(client, simulator, owed=5000)
    body = await (await withdraw(client, alice, 3000)).json()
    assert body["status"] == "waiting_confirmation"
    deadline = datetime.fromisoformat(body["confirm_deadline"])
    assert deadline == clock.now() + timedelta(hours=24)

    # when she lets 24 hours pass and the job asks WeChat Pay
    frozen_everywhere.advance(timedelta(hours=24, minutes=1))
    core = client.app[CORE]
    await transfers.check_payouts(pay=core.pay, confirm_hours=24, scene_id="1005")

    # then WeChat Pay closed it and her money is back
    row = await Payout.get(id=body["id"])
    assert row.status.value == "failed" and row.failure_reason == "收款人超时未确认收款，已关闭"
    assert (await wallet(client, alice))["owed"] == 5000
    assert await entry_keys(body["id"]) == [f"payout:{body['id']}:requested", f"payout:{body['id']}:returned"]
    await books_balance()
    # and confirming now is too late
    status, _ = await sim(simulator, "POST", "/pay/transfer-confirm", {"out_bill_no": body["out_bill_no"]})
    assert status == 400


async def test_a_transfer_not_confirmed_within_our_limit_is_cancelled_and_the_money_returns(
    client, simulator, frozen_everywhere
):
    # given alice's transfer waits for her confirmation
    alice = await payee(client, simulator, owed=5000)
    body = await (await withdraw(client, alice, 3000)).json()

    # when our shorter limit (1 hour) passes and the job runs
    frozen_everywhere.advance(timedelta(hours=2))
    await Payout.filter(id=body["id"]).update(confirm_deadline=clock.now() - timedelta(hours=1))
    core = client.app[CORE]
    await transfers.check_payouts(pay=core.pay, confirm_hours=1, scene_id="1005")

    # then the job cancelled it at WeChat Pay, whose notification returns the money
    async def cancelled() -> bool:
        return (await Payout.get(id=body["id"])).status.value == "cancelled"

    await eventually(cancelled)
    assert (await bills(simulator))[body["out_bill_no"]]["state"] == "CANCELLED"
    types = await PayoutEvent.filter(payout_id=body["id"]).values_list("type", flat=True)
    assert "cancel_asked" in [str(getattr(t, "value", t)) for t in types]
    assert (await wallet(client, alice))["owed"] == 5000
    await books_balance()


async def test_a_retry_after_a_lost_answer_reuses_the_out_bill_no_and_pays_once(
    client, simulator, frozen_everywhere
):
    # given WeChat Pay will make the next transfer but its answer never reaches us
    alice = await payee(client, simulator, owed=5000)
    await sim(simulator, "POST", "/pay/transfer-lose-answer", {"times": 1})

    # when alice withdraws ¥30
    body = await (await withdraw(client, alice, 3000)).json()

    # then we do not know: still approved, and WeChat Pay holds one bill
    assert body["status"] == "approved"
    assert list(await bills(simulator)) == [body["out_bill_no"]]

    # when the outbox tries again after its backoff
    frozen_everywhere.advance(timedelta(minutes=1))
    await settle_outbox()

    # then the same out_bill_no was asked again: the same bill, now known to wait for her
    _, state = await sim(simulator, "GET", "/wx/state")
    assert state["calls"]["transfer_bills"] == 2
    assert list(await bills(simulator)) == [body["out_bill_no"]]
    row = await Payout.get(id=body["id"])
    assert row.status.value == "waiting_confirmation"

    # and once confirmed it is paid once
    _, confirmed = await sim(simulator, "POST", "/pay/transfer-confirm", {"out_bill_no": body["out_bill_no"]})
    assert confirmed["notified"] == [204]
    assert await entry_keys(body["id"]) == [f"payout:{body['id']}:paid", f"payout:{body['id']}:requested"]
    assert (await wallet(client, alice))["owed"] == 2000
    await books_balance()


async def test_the_withdrawal_rules_refuse_with_stable_codes(client, simulator):
    alice = await payee(client, simulator, owed=700_000)

    async def refused(amount: int, **extra) -> tuple[int, str]:
        response = await withdraw(client, alice, amount, **extra)
        return response.status, (await response.json())["error"]["code"]

    assert await refused(99) == (400, "payout_below_minimum")
    assert await refused(200_000) == (400, "payout_real_name_required")
    assert await refused(200_000, real_name="张") == (400, "invalid_payout_real_name")
    assert await refused(800_000, real_name="张三") == (409, "payout_not_enough_balance")
    response = await withdraw(client, alice, 100, key="short")
    assert (response.status, (await response.json())["error"]["code"]) == (400, "invalid_idempotency_key")

    # a large one: the name goes to WeChat Pay encrypted; staff see it masked; a person approves
    big = await withdraw(client, alice, 300_000, real_name="张三")
    assert big.status == 201, await big.text()
    body = await big.json()
    assert body["status"] == "requested"
    row = await Payout.get(id=body["id"])
    assert row.real_name_masked == "张*" and "张三" not in (row.real_name_cipher or "")
    # the day's cap (¥5,000) counts what is withdrawn today
    assert await refused(250_000, real_name="张三") == (409, "payout_above_daily_cap")
    assert (await wallet(client, alice))["owed"] == 400_000
    await books_balance()


async def test_the_same_idempotency_key_is_the_same_withdrawal(client, simulator):
    alice = await payee(client, simulator, owed=5000)
    first = await withdraw(client, alice, 1000, key="withdraw-0001")
    again = await withdraw(client, alice, 1000, key="withdraw-0001")
    assert first.status == again.status == 201
    assert (await first.json())["id"] == (await again.json())["id"]
    assert await Payout.all().count() == 1
    assert (await wallet(client, alice))["owed"] == 4000


async def test_another_payees_withdrawal_is_not_found(client, simulator):
    alice = await payee(client, simulator, owed=5000)
    bob = await payee(client, simulator, "bob", owed=0)
    body = await (await withdraw(client, alice, 1000)).json()
    response = await client.get(f"/api/v1/wallet/withdrawals/{body['id']}", headers=bob["headers"])
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "payout_not_found"
    assert (await client.get("/api/v1/wallet/withdrawals/99999999999", headers=bob["headers"])).status == 404
    assert (await wallet(client, bob)) == {"owed": 0, "in_transit": 0, "withdrawals": []}


async def test_a_forged_transfer_notification_changes_nothing(client, simulator):
    alice = await payee(client, simulator, owed=5000)
    await withdraw(client, alice, 1000)
    before = await fingerprint(simulator)
    response = await client.post(
        "/pay/wechat/transfer-notify",
        data=b'{"id":"x","event_type":"MCHTRANSFER.BILL.FINISHED","resource":{}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 401
    assert await fingerprint(simulator) == before


async def test_a_transfer_wechat_pay_refuses_for_good_returns_the_money(client, simulator):
    # given WeChat Pay will refuse the next transfer outright (and makes no bill)
    alice = await payee(client, simulator, owed=5000)
    fault = {"api": "transfer_bills", "http_status": 400, "code": "INVALID_REQUEST"}
    await sim(simulator, "POST", "/wx/faults", fault)

    # when alice withdraws ¥30
    body = await (await withdraw(client, alice, 3000)).json()

    # then WeChat Pay was asked whether it holds the bill (it does not), and the money is back
    assert body["status"] == "failed" and body["failure_reason"].startswith("微信支付拒绝转账")
    _, state = await sim(simulator, "GET", "/wx/state")
    assert state["calls"]["transfer_query"] == 1 and await bills(simulator) == {}
    assert (await wallet(client, alice))["owed"] == 5000
    await books_balance()


async def test_a_transfer_that_never_reached_wechat_pay_is_submitted_again_by_the_job(
    client, simulator, frozen_everywhere
):
    # given WeChat Pay's gateway failed the transfer (no bill made)
    alice = await payee(client, simulator, owed=5000)
    await sim(simulator, "POST", "/wx/faults", {"api": "transfer_bills", "http_status": 502})
    body = await (await withdraw(client, alice, 3000)).json()
    assert body["status"] == "approved" and await bills(simulator) == {}

    # when the job looks at it ten minutes later
    frozen_everywhere.advance(timedelta(minutes=11))
    core = client.app[CORE]
    await transfers.check_payouts(pay=core.pay, confirm_hours=24, scene_id="1005")

    # then it was submitted again under the same out_bill_no and waits for alice
    assert list(await bills(simulator)) == [body["out_bill_no"]]
    assert (await Payout.get(id=body["id"])).status.value == "waiting_confirmation"


async def test_a_lost_success_notification_is_found_by_the_job(client, simulator, frozen_everywhere):
    # given alice's transfer waits, and WeChat Pay's notifications are lost
    alice = await payee(client, simulator, owed=5000)
    body = await (await withdraw(client, alice, 3000)).json()
    await sim(simulator, "POST", "/pay/lose-notifications", {"times": 1})

    # when she confirms, and we hear nothing
    _, confirmed = await sim(simulator, "POST", "/pay/transfer-confirm", {"out_bill_no": body["out_bill_no"]})
    assert confirmed["notified"] == [None]
    assert (await Payout.get(id=body["id"])).status.value == "waiting_confirmation"

    # then the job asks WeChat Pay after a while, and it is paid once
    frozen_everywhere.advance(timedelta(minutes=11))
    core = client.app[CORE]
    await transfers.check_payouts(pay=core.pay, confirm_hours=24, scene_id="1005")
    assert (await Payout.get(id=body["id"])).status.value == "succeeded"
    assert await entry_keys(body["id"]) == [f"payout:{body['id']}:paid", f"payout:{body['id']}:requested"]
    await books_balance()


async def test_the_payee_is_told_when_a_withdrawal_ends(client, simulator):
    # given alice follows the official account and is owed ¥50
    await new_follower(simulator, "alice")
    alice = await payee(client, simulator, owed=5000)

    # when she withdraws ¥30 and confirms it in WeChat
    body = await (await withdraw(client, alice, 3000)).json()
    await sim(simulator, "POST", "/pay/transfer-confirm", {"package_info": body["transfer"]["package"]})
    await settle_outbox()

    # then the official account tells her it is in her WeChat balance
    assert await _told(simulator) == ["您的提现 ¥30.00 已到账微信零钱，请注意查收。"]

    # when her next withdrawal fails at WeChat Pay
    await sim(simulator, "POST", "/pay/transfer-outcome", {"outcome": "FAIL", "reason": "ACCOUNT_FROZEN"})
    failed = await (await withdraw(client, alice, 1000)).json()

    async def ended() -> bool:
        return (await Payout.get(id=failed["id"])).status.value == "failed"

    await eventually(ended)
    await settle_outbox()

    # then she reads that the money is back, and why
    told = await _told(simulator)
    assert len(told) == 2 and told[1].startswith("您的提现 ¥10.00 未成功，金额已退回可提现余额。"), told
    assert "收款人微信账户被冻结" in told[1]


async def _told(simulator, user: str = "alice") -> list[str]:
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]
