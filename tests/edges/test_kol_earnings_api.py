"""A KOL's earnings, commissions and withdrawals through the mini-program API, and the
platform's page of KOL commissions: pending commissions (held ones shown apart) are not
withdrawable; earned ones are withdrawn to the KOL's WeChat balance through WeChat Pay's
merchant transfer (the simulator), paid once, the books balanced; each KOL sees only their own;
a shopper who is no KOL is refused; finance lists, filters and exports."""

from __future__ import annotations

import io
import uuid

from openpyxl import load_workbook

from commerce import clock
from commerce.referrals import commission_earning as earning
from commerce.referrals import holds
from commerce.referrals.models import KolFlag
from commerce.referrals.states import FlagStatus
from commerce.staff.states import StaffRole
from tests.builders import Shopper, staff_signed_in
from tests.edges.payees import books_balance
from tests.edges.paying import sim
from tests.kol_commission_builders import WINDOW, after_window, completed, kol_catalog, referred_order
from tests.referral_builders import approved_kol, touched

PAGE = "/admin/kol-commissions"


async def _get(client, who: Shopper, path: str) -> dict:
    response = await client.get(path, headers=who.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def _withdraw(client, who: Shopper, amount: int):
    return await client.post(
        "/api/v1/kol/withdrawals",
        json={"amount": amount},
        headers={**who.headers, "Idempotency-Key": uuid.uuid4().hex},
    )


async def _kol_with_orders(client, simulator):
    """amy, a KOL (5% by default) who brought carol; carol's 4 teas (200) and a snack (39)."""
    await kol_catalog()
    amy, carol = [await Shopper.start(client, simulator, n) for n in ("amy", "carol")]
    kol = await approved_kol(user_id=amy.user_id, name="阿美")
    await touched(kol, carol.user_id)
    first = await referred_order(carol, {"KT1-1": 4})
    second = await referred_order(carol, {"KS1-1": 1})
    return kol, amy, carol, first, second


async def test_a_kol_sees_their_earnings_and_withdraws_what_was_earned(client, simulator, settings):
    kol, amy, carol, first, second = await _kol_with_orders(client, simulator)
    # then both are pending, nothing withdrawable yet
    shown = await _get(client, amy, "/api/v1/kol/earnings")
    assert shown == {
        "pending": 239,
        "held": 0,
        "earned": 0,
        "reversed": 0,
        "withdrawn": 0,
        "withdrawable": 0,
        "in_transit": 0,
    }
    # and the commissions page by page, newest first, the customer's order number masked
    page = await _get(client, amy, "/api/v1/kol/commissions?page_size=1")
    assert (page["total"], page["page"], page["page_size"]) == (2, 1, 1)
    [item] = page["items"]
    no = second["order_no"]
    assert item["order_no"] == no[:4] + "*" * (len(no) - 8) + no[-4:] != no
    assert (item["level"], item["channel"], item["basis"], item["amount"], item["status"]) == (
        1,
        "link",
        777,
        39,
        "pending",
    )
    assert item["accrued_at"].endswith("+08:00") and item["earned_at"] is None
    later = await _get(client, amy, "/api/v1/kol/commissions?page=2&page_size=1")
    assert [(c["basis"], c["amount"]) for c in later["items"]] == [(4000, 200)]
    # and a withdrawal of pending commission is refused
    refused = await _withdraw(client, amy, 100)
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "payout_not_enough_balance"

    # when the first order completes and its after-sales window passes
    await completed(carol, first)
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    shown = await _get(client, amy, "/api/v1/kol/earnings")
    assert (shown["pending"], shown["earned"], shown["withdrawable"]) == (39, 200, 200)

    # when amy withdraws 1.50 (small: approved by itself) and confirms it in WeChat
    response = await _withdraw(client, amy, 150)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["status"] == "waiting_confirmation"
    status, confirmed = await sim(
        simulator, "POST", "/pay/transfer-confirm", {"package_info": body["transfer"]["package"]}
    )
    assert status == 200 and confirmed["notified"] == [204], confirmed
    # then it is paid once: withdrawn 150, 50 left to withdraw
    shown = await _get(client, amy, "/api/v1/kol/earnings")
    assert (shown["earned"], shown["withdrawn"], shown["withdrawable"], shown["in_transit"]) == (
        200,
        150,
        50,
        0,
    )
    listed = await _get(client, amy, "/api/v1/kol/withdrawals")
    assert [(w["id"], w["amount"], w["status"]) for w in listed["items"]] == [(body["id"], 150, "succeeded")]
    assert (await _get(client, amy, f"/api/v1/kol/withdrawals/{body['id']}"))["status"] == "succeeded"

    # when the fraud review flags amy: what is pending is held, shown apart
    flag = await KolFlag.create(
        kol_id=kol.id,
        open_key=kol.id,
        status=FlagStatus.OPEN,
        kinds=["shared_address"],
        created_at=clock.now(),
    )
    assert await holds.hold_kol(kol_id=kol.id, flag_id=flag.id) == 39
    shown = await _get(client, amy, "/api/v1/kol/earnings")
    assert (shown["pending"], shown["held"]) == (39, 39)
    statuses = [c["status"] for c in (await _get(client, amy, "/api/v1/kol/commissions"))["items"]]
    assert statuses == ["held", "earned"]
    await books_balance()


async def test_each_kol_sees_only_their_own_and_a_shopper_who_is_no_kol_is_refused(client, simulator):
    _kol, amy, carol, first, _second = await _kol_with_orders(client, simulator)
    ben = await Shopper.start(client, simulator, "ben")
    await approved_kol(user_id=ben.user_id, name="阿斌")
    # then ben, another KOL, sees none of amy's commissions or earnings
    assert (await _get(client, ben, "/api/v1/kol/commissions"))["items"] == []
    assert (await _get(client, ben, "/api/v1/kol/earnings"))["pending"] == 0
    # and not amy's withdrawal either: not found
    await completed(carol, first)
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    mine = await _withdraw(client, amy, 150)
    assert mine.status == 201, await mine.text()
    theirs = await client.get(f"/api/v1/kol/withdrawals/{(await mine.json())['id']}", headers=ben.headers)
    assert theirs.status == 404
    assert (await theirs.json())["error"]["code"] == "payout_not_found"
    # and carol, who is no KOL, is refused everywhere
    for response in (
        await client.get("/api/v1/kol/earnings", headers=carol.headers),
        await client.get("/api/v1/kol/commissions", headers=carol.headers),
        await client.get("/api/v1/kol/withdrawals", headers=carol.headers),
        await _withdraw(client, carol, 100),
    ):
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "kol_not_applied"
    # and without signing in, nothing at all
    assert (await client.get("/api/v1/kol/earnings")).status == 401
    assert (await client.get("/api/v1/kol/commissions")).status == 401


async def test_finance_lists_filters_and_exports_kol_commissions(client, simulator):
    kol, _amy, carol, first, second = await _kol_with_orders(client, simulator)
    await completed(carol, first)
    with after_window():
        assert await earning.earn_due(window_days=WINDOW) == 1
    await staff_signed_in(client, "cfo", StaffRole.FINANCE)
    # then finance sees both, filtered by status and KOL
    page = await (await client.get(PAGE)).text()
    assert first["order_no"] in page and second["order_no"] in page and "阿美" in page
    earned = await (await client.get(f"{PAGE}?status=earned")).text()
    assert first["order_no"] in earned and second["order_no"] not in earned
    assert "没有符合条件的佣金" in await (await client.get(f"{PAGE}?kol={kol.id + 1}")).text()
    today = clock.to_shanghai(clock.now()).date().isoformat()
    assert second["order_no"] in await (await client.get(f"{PAGE}?from={today}&to={today}")).text()
    assert "没有符合条件的佣金" in await (await client.get(f"{PAGE}?to=2020-01-01")).text()
    odd = await client.get(f"{PAGE}?status=<b>&kol=x&from=2026-13-45&page=abc")
    assert odd.status == 200 and second["order_no"] in await odd.text()
    # and exports what it filtered as CSV and Excel, in yuan
    csv = await client.get(f"{PAGE}.csv?status=earned")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    text = (await csv.read()).decode("utf-8-sig").splitlines()
    assert text[0].startswith("订单号,级别,推广员编号") and len(text) == 2
    assert f"{first['order_no']},1,{kol.id},阿美,link,40.00,2.00,0.00,0.00,2.00,已结算" in text[1]
    xlsx = await client.get(f"{PAGE}.xlsx")
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(await xlsx.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[0][0] == "订单号"
    assert {(r[0], float(r[6]), r[10]) for r in rows[1:]} == {
        (first["order_no"], 2.0, "已结算"),
        (second["order_no"], 0.39, "待结算"),
    }
    # and another role is refused
    await staff_signed_in(client, "agent", StaffRole.AGENT)
    for path in (PAGE, f"{PAGE}.csv", f"{PAGE}.xlsx"):
        assert (await client.get(path, allow_redirects=False)).status == 403
