"""Reading WeChat Pay's CSV bills, and comparing their lines with ours, without a server: the
backquoted fields, the summary lines, yuan to fen exactly, a file that does not add up refused;
each kind of difference from the rules alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commerce.payments.queries import Movement
from commerce.reconciliation.compare import Seen, compare, fees_of, seen_in_fund_flow, seen_in_trade_bill
from commerce.reconciliation.states import DifferenceKind, Source, Subject
from commerce.wechat.bills import BillMalformed, fen_of, parse_fund_flow_bill, parse_trade_bill

# A trade bill (bill_type=ALL) as WeChat Pay writes it: a payment of 199.00, another of 0.01,
# and a partial refund of 50.00 of the first; fees at 0.6 %.
TRADE = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2026-12-06 09:15:02,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001234202612061234567890,"
    "`CK20261206A1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`199.00,`0.00,`,`,"
    "`0.00,`0.00,`,`,`龙井茶 等2件,`,`1.19,`0.60%,`199.00,`0.00,`\r\n"
    "`2026-12-06 23:59:59,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001234202612069876543210,"
    "`CK20261206B2,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`,`,"
    "`0.00,`0.00,`,`,`茶杯,`,`0.00,`0.60%,`0.01,`0.00,`\r\n"
    "`2026-12-06 15:30:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001234202612061234567890,"
    "`CK20261206A1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300000000120261206123456,`RF88,`50.00,`0.00,`ORIGINAL,`SUCCESS,`龙井茶 等2件,`,`-0.30,"
    "`0.60%,`0.00,`50.00,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`3,`199.01,`50.00,`0.00,`0.89,`199.01,`50.00\r\n"
)
FUND = (
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
    "资金变更提交申请人,备注,业务凭证号\r\n"
    "`2026-12-06 09:15:02,`4200001234202612061234567890,`190011,`交易,`交易,`收入,`199.00,`199.00,"
    "`system,`,`CK20261206A1\r\n"
    "`2026-12-06 09:15:02,`4200001234202612061234567890,`190012,`扣除交易手续费,`扣除交易手续费,`支出,"
    "`1.19,`197.81,`system,`,`CK20261206A1\r\n"
    "`2026-12-06 15:30:00,`50300000000120261206123456,`190013,`退款,`退款,`支出,`50.00,`147.81,"
    "`system,`,`RF88\r\n"
    "`2026-12-06 15:30:00,`50300000000120261206123456,`190014,`扣除交易手续费,`扣除交易手续费,`收入,"
    "`0.30,`148.11,`system,`,`RF88\r\n"
    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n"
    "`4,`2,`199.30,`2,`51.19\r\n"
)


def test_yuan_is_read_as_fen_exactly():
    assert [fen_of(t) for t in ("199.00", "0.01", "-0.30", "5", "12.5", "0.07")] == [
        19900,
        1,
        -30,
        500,
        1250,
        7,
    ]
    # float would say 0.07 * 100 = 7.000000000000001; 1.005 has three decimals: refused
    for bad in ("1.005", "1e3", "", "¥1.00", "1,000.00", "NaN"):
        with pytest.raises(BillMalformed):
            fen_of(bad)


def test_a_trade_bill_is_read_row_by_row_without_backquotes():
    bill = parse_trade_bill(TRADE)

    first, small, refund = bill.rows
    assert (first.out_trade_no, first.trade_state, first.settlement_total, first.fee) == (
        "CK20261206A1",
        "SUCCESS",
        19900,
        119,
    )
    assert first.traded_at == datetime(2026, 12, 6, 1, 15, 2, tzinfo=UTC)  # 09:15 Beijing time
    assert not first.is_refund and (small.settlement_total, small.fee) == (1, 0)
    assert refund.is_refund and (refund.out_refund_no, refund.refund, refund.refund_status) == (
        "RF88",
        5000,
        "SUCCESS",
    )
    assert refund.fee == -30 and refund.settlement_total == 0
    assert bill.summary["总交易单数"] == "3"


def test_a_fund_flow_bill_is_read_and_its_fees_summed_net():
    bill = parse_fund_flow_bill(FUND)

    assert [(r.business_type, r.signed, r.voucher) for r in bill.rows] == [
        ("交易", 19900, "CK20261206A1"),
        ("扣除交易手续费", -119, "CK20261206A1"),
        ("退款", -5000, "RF88"),
        ("扣除交易手续费", 30, "RF88"),
    ]
    assert fees_of(bill.rows) == 89
    assert [(s.subject, s.reference, s.amount) for s in seen_in_fund_flow(bill.rows)] == [
        (Subject.PAYMENT, "CK20261206A1", 19900),
        (Subject.REFUND, "RF88", 5000),
    ]


def test_a_bom_and_blank_lines_are_no_trouble():
    assert len(parse_trade_bill("\ufeff" + TRADE.replace("\r\n总交易", "\r\n\r\n总交易")).rows) == 3


@pytest.mark.parametrize(
    "broken",
    [
        TRADE.replace("`3,`199.01", "`2,`199.01"),  # a row more than the summary counts
        TRADE.replace("`0.89,", "`0.90,"),  # fees that do not add up
        TRADE.replace("`199.00,`0.00,`,`,", "`199.10,`0.00,`,`,", 1),  # an amount changed
        TRADE.split("总交易单数")[0],  # cut before the summary
        TRADE.replace("`JSAPI,`SUCCESS,", "`JSAPI,", 1),  # a field missing
        TRADE.replace("`199.00,`0.00,`,`,", "`一百,`0.00,`,`,", 1),  # not an amount
        TRADE.replace("`2026-12-06 09:15:02", "`06/12/2026", 1),  # not a time
        TRADE.replace("商户订单号", "订单号"),  # a column we read is gone
        "",
    ],
)
def test_a_bill_that_does_not_add_up_is_refused(broken):
    with pytest.raises(BillMalformed):
        parse_trade_bill(broken)


def test_a_fund_flow_bill_that_does_not_add_up_is_refused():
    with pytest.raises(BillMalformed):
        parse_fund_flow_bill(FUND.replace("`51.19", "`51.20"))
    with pytest.raises(BillMalformed):
        parse_fund_flow_bill(FUND.replace("`收入,`199.00", "`进账,`199.00"))


def _compare(seen: list[Seen], day: dict, known: dict) -> set[tuple[str, str, str]]:
    ours_that_day = {
        Subject.PAYMENT: day.get(Subject.PAYMENT, []),
        Subject.REFUND: day.get(Subject.REFUND, []),
    }
    by_reference = {
        Subject.PAYMENT: known.get(Subject.PAYMENT, {}),
        Subject.REFUND: known.get(Subject.REFUND, {}),
    }
    found = compare(seen, ours_that_day, by_reference, Source.TRADE)
    return {(f.kind.value, f.subject.value, f.reference) for f in found}


def test_a_bill_matching_our_day_finds_nothing():
    bill = parse_trade_bill(TRADE)
    paid = [Movement("CK20261206A1", 19900, "paid", None), Movement("CK20261206B2", 1, "paid", None)]
    refunded = [Movement("RF88", 5000, "succeeded", None)]
    known = {Subject.PAYMENT: {m.reference: m for m in paid}, Subject.REFUND: {"RF88": refunded[0]}}

    assert (
        _compare(seen_in_trade_bill(bill.rows), {Subject.PAYMENT: paid, Subject.REFUND: refunded}, known)
        == set()
    )


def test_each_kind_of_difference_follows_from_the_rules():
    ours_paid = Movement("P-OURS", 100, "paid", None)  # not in the bill
    amount = Movement("P-AMOUNT", 100, "paid", None)
    closed = Movement("P-CLOSED", 100, "closed", None)  # the bill says it was paid
    failed = Movement("R-FAILED", 30, "failed", None)  # the bill says it was refunded
    refunded = Movement("R-OURS", 30, "succeeded", None)  # not in the bill
    seen = [
        Seen(Subject.PAYMENT, "P-AMOUNT", 90, "SUCCESS", Source.TRADE),
        Seen(Subject.PAYMENT, "P-CLOSED", 100, "SUCCESS", Source.TRADE),
        Seen(Subject.PAYMENT, "P-STRANGER", 100, "SUCCESS", Source.TRADE),
        Seen(Subject.REFUND, "R-FAILED", 30, "SUCCESS", Source.TRADE),
        Seen(Subject.REFUND, "R-STRANGER", 30, "SUCCESS", Source.TRADE),
        Seen(Subject.REFUND, "R-PENDING", 30, "PROCESSING", Source.TRADE),  # not ours, not moved
    ]
    day = {Subject.PAYMENT: [ours_paid, amount], Subject.REFUND: [refunded]}
    known = {
        Subject.PAYMENT: {m.reference: m for m in (ours_paid, amount, closed)},
        Subject.REFUND: {m.reference: m for m in (failed, refunded)},
    }

    assert _compare(seen, day, known) == {
        ("missing_at_wechat", "payment", "P-OURS"),
        ("amount", "payment", "P-AMOUNT"),
        ("state", "payment", "P-CLOSED"),
        ("missing_here", "payment", "P-STRANGER"),
        ("state", "refund", "R-FAILED"),
        ("missing_here", "refund", "R-STRANGER"),
        ("missing_at_wechat", "refund", "R-OURS"),
    }
    assert {k.value for k in DifferenceKind} == {"missing_at_wechat", "missing_here", "amount", "state"}


def test_a_payment_of_another_day_in_the_bill_is_no_difference():
    # paid just before midnight by WeChat's clock, noted by us just after: it is in the bill of
    # one day and among our payments of the next, and neither day calls it missing here
    late = Movement("P-LATE", 100, "paid", None)
    seen = [Seen(Subject.PAYMENT, "P-LATE", 100, "SUCCESS", Source.TRADE)]

    assert _compare(seen, {}, {Subject.PAYMENT: {"P-LATE": late}}) == set()
