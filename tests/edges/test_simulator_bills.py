"""The simulator's WeChat Pay bills, as a merchant reaches them: the apply call signed and
answered with the file's SHA1 and a download URL, the file in WeChat's CSV (backquoted fields,
summary lines, yuan, 0.6 % fees), no bill before 10:00 the next day, none for a day without
movement, unsigned calls and bad parameters refused, the controls' bad input a 400."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import aiohttp
import pytest

from commerce import clock
from commerce.payments.models import Payment
from commerce.wechat.pay import WeChatPayRefused, WeChatPayUnavailable
from commerce.wechat.pay_bills import BillNotReady
from shop.app import CORE
from tests.builders import paid_order
from tests.edges.paying import sim
from wechat_simulator.pay_bill_files import FUND_HEADER, TRADE_HEADER, TRADE_SUMMARY, fee_of, yuan


def _today() -> str:
    return clock.to_shanghai(clock.now()).date().isoformat()


@pytest.fixture
def pay(client):
    return client.app[CORE].pay


async def test_a_days_trade_bill_is_wechats_csv_and_its_hash_is_the_files(client, simulator, pay):
    # given a payment today, and the day's bills made
    order = await paid_order(client, simulator)
    payment = await Payment.filter(checkout__orders__id=order["id"]).get()
    await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": _today()})

    # when the merchant applies for the trade bill and downloads it
    answer = await pay._request("GET", f"/v3/bill/tradebill?bill_date={_today()}&bill_type=ALL")
    content = await pay.download(answer["download_url"])

    # then the answer names the file's SHA1, and the file is WeChat's CSV
    assert answer["hash_type"] == "SHA1" and "/v3/billdownload/file?token=" in answer["download_url"]
    assert hashlib.sha1(content).hexdigest() == answer["hash_value"]
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0] == TRADE_HEADER and rows[2] == TRADE_SUMMARY and len(rows) == 4
    line = dict(zip(TRADE_HEADER, rows[1], strict=True))
    assert all(value.startswith("`") for value in rows[1]) and all(v.startswith("`") for v in rows[3])
    assert line["商户订单号"] == "`" + payment.out_trade_no and line["交易状态"] == "`SUCCESS"
    assert line["应结订单金额"] == "`" + yuan(payment.amount) and line["手续费"] == "`" + yuan(
        fee_of(payment.amount)
    )
    assert rows[3][0] == "`1"


async def test_the_fund_flow_bill_has_the_income_and_the_fee(client, simulator, pay):
    order = await paid_order(client, simulator)
    payment = await Payment.filter(checkout__orders__id=order["id"]).get()
    await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": _today()})

    answer = await pay._request("GET", f"/v3/bill/fundflowbill?bill_date={_today()}&account_type=BASIC")
    rows = list(csv.reader(io.StringIO((await pay.download(answer["download_url"])).decode("utf-8"))))

    assert rows[0] == FUND_HEADER
    moves = [(r[4], r[5], r[6]) for r in rows[1:3]]
    assert moves == [
        ("`交易", "`收入", "`" + yuan(payment.amount)),
        ("`扣除交易手续费", "`支出", "`" + yuan(fee_of(payment.amount))),
    ]


def test_fees_round_half_up_and_yuan_show_two_decimals():
    assert [fee_of(a) for a in (1, 83, 84, 250, 19900)] == [0, 0, 1, 2, 119]  # 0.498 → 0, 0.504 → 1
    assert [yuan(f) for f in (0, 1, 1999, -30)] == ["0.00", "0.01", "19.99", "-0.30"]


async def test_no_bill_before_the_next_morning_and_none_for_a_quiet_day(client, simulator, pay):
    await paid_order(client, simulator)
    today = clock.to_shanghai(clock.now()).date()

    with pytest.raises(BillNotReady):  # today's is made tomorrow after 10:00
        await pay.trade_bill(today)
    with pytest.raises(BillNotReady):
        await pay.fund_flow_bill(today + timedelta(days=3))
    quiet = today - timedelta(days=20)
    await sim(simulator, "POST", "/pay/bills/close-day", {"bill_date": quiet.isoformat()})
    assert (await pay.trade_bill(quiet)).rows == []  # NO_STATEMENT_EXIST: an empty day


@pytest.mark.parametrize(
    "query",
    [
        "bill_date=2026-1-1&bill_type=ALL",
        "bill_date=2026-02-30&bill_type=ALL",
        "bill_type=ALL",
        "bill_date=2026-01-01&bill_type=SUCCESS",
    ],
)
async def test_bad_parameters_are_refused(client, simulator, pay, query):
    with pytest.raises(WeChatPayRefused) as caught:
        await pay._request("GET", f"/v3/bill/tradebill?{query}")
    assert (caught.value.status, caught.value.code) == (400, "PARAM_ERROR")


async def test_unsigned_calls_and_unknown_files_are_refused(client, simulator, pay):
    base = str(simulator.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        for path in (f"/v3/bill/tradebill?bill_date={_today()}", "/v3/billdownload/file?token=x"):
            async with http.get(base + path) as response:
                assert response.status == 401 and (await response.json())["code"] == "SIGN_ERROR"
    with pytest.raises(WeChatPayUnavailable) as caught:
        await pay.download(base + "/v3/billdownload/file?token=made-up")
    assert "HTTP 400" in str(caught.value)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/pay/bills/drop", {"reference": "X123456"}),  # no bill_date
        ("/pay/bills/drop", {"bill_date": "2026-12-01"}),  # no reference
        ("/pay/bills/drop", {"bill_date": "2026-12-01", "reference": "X123456", "bill": "all"}),
        ("/pay/bills/alter", {"bill_date": "2026-12-01", "reference": "X123456"}),  # nothing to alter
        ("/pay/bills/alter", {"bill_date": "2026-12-01", "reference": "X1", "amount": -5}),
        ("/pay/bills/alter", {"bill_date": "2026-12-01", "reference": "X1", "state": "<b>"}),
        ("/pay/bills/add", {"bill_date": "2026-12-01", "out_trade_no": "短", "amount": 100}),
        ("/pay/bills/add", {"bill_date": "2026-12-01", "out_trade_no": "X1234567", "amount": 1.5}),
        ("/pay/bills/close-day", {"bill_date": "2026-13-01"}),
        ("/pay/bills/tamper", {"times": 0}),
    ],
)
async def test_the_controls_refuse_bad_input(simulator, path, body):
    status, answer = await sim(simulator, "POST", path, body)
    assert status == 400 and answer["error"]
