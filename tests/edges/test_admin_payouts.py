"""The finance role's withdrawals page: a large withdrawal waits for a person; approved, it goes
to WeChat Pay and waits for the payee; refused with a reason, the money returns; a second
decision on a decided one is refused on its page; the payee's real name shows masked."""

from __future__ import annotations

from commerce.ledger.models import JournalEntry
from commerce.payouts.models import Payout
from commerce.staff.states import StaffRole
from tests.builders import staff_signed_in
from tests.edges.payees import books_balance, payee, wallet, withdraw


async def test_finance_approves_one_withdrawal_and_refuses_another(client, simulator):
    # given alice asked for two withdrawals of ¥3,000 (a person decides; her name is required)
    alice = await payee(client, simulator, owed=700_000)
    first = await (await withdraw(client, alice, 300_000, real_name="张三")).json()
    second = await (await withdraw(client, alice, 150_000)).json()
    assert first["status"] == second["status"] == "requested"
    csrf = await staff_signed_in(client, "money-1", StaffRole.FINANCE)

    # when finance opens the list and the first one
    listing = await (await client.get("/admin/finance/payouts?status=requested")).text()
    page = await (await client.get(f"/admin/finance/payouts/{first['id']}")).text()

    # then both are listed; the name shows masked
    assert first["out_bill_no"] in listing and second["out_bill_no"] in listing
    assert "实名：张*" in page and "张三" not in page and "申请提现" in page

    # when finance approves the first
    approved = await client.post(
        f"/admin/finance/payouts/{first['id']}/approve", data={"csrf_token": csrf}, allow_redirects=False
    )

    # then it went to WeChat Pay and waits for alice
    assert approved.status == 302
    row = await Payout.get(id=first["id"])
    assert row.status.value == "waiting_confirmation" and row.approved_by.startswith("staff:")

    # when finance refuses the second without a reason, then with one
    empty = await client.post(
        f"/admin/finance/payouts/{second['id']}/refuse", data={"csrf_token": csrf, "reason": " "}
    )
    assert empty.status == 400 and "请填写拒绝原因" in await empty.text()
    refused = await client.post(
        f"/admin/finance/payouts/{second['id']}/refuse",
        data={"csrf_token": csrf, "reason": "账户信息待核实"},
        allow_redirects=False,
    )

    # then its money is back in her balance and she reads why
    assert refused.status == 302
    mine = await (
        await client.get(f"/api/v1/wallet/withdrawals/{second['id']}", headers=alice["headers"])
    ).json()
    assert (mine["status"], mine["refusal"]) == ("refused", "账户信息待核实")
    assert (await wallet(client, alice))["owed"] == 400_000
    assert await JournalEntry.filter(key=f"payout:{second['id']}:returned").exists()
    await books_balance()

    # and deciding it again is refused on its page, changing nothing
    again = await client.post(f"/admin/finance/payouts/{second['id']}/approve", data={"csrf_token": csrf})
    assert again.status == 409 and "该提现状态已变化" in await again.text()
    assert (await Payout.get(id=second["id"])).status.value == "refused"
