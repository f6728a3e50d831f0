"""KOLs' funnels from the daily roll-ups, on a real database, with touches written by the real
touch service and orders through the real checkout and the simulated WeChat Pay: by Beijing
day (a touch at 23:50 and one at 00:10 fall on two days, though on one UTC date) and by
channel, with totals and rates; the platform's view per KOL (sorted by GMV, paged) and per
tier; the exports; ranges refused past 366 days."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from commerce import clock
from commerce.errors import CommerceError
from commerce.referrals import funnel
from commerce.referrals.commission_models import KolCommission
from commerce.referrals.states import TouchChannel
from tests.builders import Shopper
from tests.edges.paying import settle_outbox
from tests.kol_commission_builders import kol_catalog, referred_order, tier
from tests.referral_builders import approved_kol, touched


def _shanghai(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)


def _today() -> date:
    return clock.to_shanghai(clock.now()).date()


async def _people(client, simulator, *names: str) -> list[Shopper]:
    await kol_catalog()
    return [await Shopper.start(client, simulator, name) for name in names]


async def test_a_kols_funnel_by_day_and_by_channel_counts_beijing_days(client, simulator, settings):
    # given a KOL, and two shoppers touched ten minutes either side of a Beijing midnight (one
    # UTC date): ben by a link at 23:50, carol by the mini-program code at 00:10
    amy, ben, carol = await _people(client, simulator, "amy", "ben", "carol")
    kol = await approved_kol(user_id=amy.user_id)
    day1 = _today() - timedelta(days=3)
    day2 = day1 + timedelta(days=1)
    await touched(kol, ben.user_id, at=_shanghai(day1, 23, 50))
    await touched(kol, carol.user_id, at=_shanghai(day2, 0, 10), channel=TouchChannel.MP_CODE)
    # and three anonymous visitors opened the link on the second day
    for minute in (1, 2, 3):
        await touched(kol, None, at=_shanghai(day2, 9, minute))
    # when both shoppers order and pay today
    ben_order = await referred_order(ben, {"KT1-1": 2})
    carol_order = await referred_order(carol, {"KR1-1": 1})
    await settle_outbox()
    today = _today()
    # then by day: a touch and a new customer on each side of midnight, the orders today
    mine = await funnel.kol_funnel(kol_id=kol.id, start=day1, end=today, by="day")
    by_day = {row.key: row.figures for row in mine.rows}
    assert list(by_day) == [(day1 + timedelta(days=n)).isoformat() for n in range((today - day1).days + 1)]
    assert (by_day[day1.isoformat()].touches, by_day[day1.isoformat()].customers) == (1, 1)
    assert (by_day[day2.isoformat()].touches, by_day[day2.isoformat()].customers) == (4, 1)
    assert (by_day[today.isoformat()].orders, by_day[today.isoformat()].paid_gmv) == (
        2,
        ben_order["payable"] + carol_order["payable"],
    )
    # and the totals, the rates and the commissions accrued at payment
    totals = mine.totals
    assert (totals.touches, totals.customers, totals.orders) == (5, 2, 2)
    assert totals.paid_gmv == ben_order["payable"] + carol_order["payable"]
    assert (totals.customer_rate_bps, totals.order_rate_bps, totals.orders_per_customer_bps) == (
        4000,
        4000,
        10000,
    )
    accrued = sum(await KolCommission.filter(kol_id=kol.id).values_list("amount", flat=True))
    assert accrued > 0
    assert totals.commission_pending == accrued
    # and by channel: each order in the channel of the touch that won it
    by_channel = {
        row.key: row.figures
        for row in (await funnel.kol_funnel(kol_id=kol.id, start=day1, end=today, by="channel")).rows
    }
    assert list(by_channel) == [c.value for c in TouchChannel]
    assert (by_channel["link"].touches, by_channel["link"].orders, by_channel["link"].paid_gmv) == (
        4,
        1,
        ben_order["payable"],
    )
    assert (by_channel["mp_code"].touches, by_channel["mp_code"].orders, by_channel["mp_code"].paid_gmv) == (
        1,
        1,
        carol_order["payable"],
    )
    assert by_channel["qr_follow"].touches == 0
    # and a range of the first day alone leaves carol's touch at 00:10 out
    first = await funnel.kol_funnel(kol_id=kol.id, start=day1, end=day1, by="channel")
    assert (first.totals.touches, first.totals.customers, first.totals.orders) == (1, 1, 0)
    # and the shopper sees the same through their own funnel
    assert (await funnel.my_funnel(user_id=amy.user_id, start=day1, end=today)).totals == totals


async def test_the_platform_sees_each_kol_by_gmv_and_each_tier_and_exports_them(client, simulator, settings):
    # given two tiers and three KOLs: A (gold) brings one big order, B and C (standard) one each
    amy, ann, abe, ben, carol, dan = await _people(
        client, simulator, "amy", "ann", "abe", "ben", "carol", "dan"
    )
    gold = await tier("金牌", rate_bps=800)
    standard = await tier("标准", rate_bps=500)
    a = await approved_kol(user_id=amy.user_id, name="阿美", tier_id=gold)
    b = await approved_kol(user_id=ann.user_id, name="安妮", tier_id=standard)
    c = await approved_kol(user_id=abe.user_id, name="阿贝", tier_id=standard)
    for kol, shopper in ((a, ben), (b, carol), (c, dan)):
        await touched(kol, shopper.user_id)
    big = await referred_order(ben, {"KT1-1": 5})
    mid = await referred_order(carol, {"KR1-1": 2})
    small = await referred_order(dan, {"KS1-1": 1})
    today = _today()
    start = today - timedelta(days=6)
    # when the platform reads the KOLs by GMV
    page = await funnel.per_kol(start=start, end=today)
    # then the biggest first, with their tier, and the totals of all
    assert [(r.kol_id, r.tier_name, r.figures.paid_gmv) for r in page.items] == [
        (a.id, "金牌", big["payable"]),
        (b.id, "标准", mid["payable"]),
        (c.id, "标准", small["payable"]),
    ]
    assert (page.total, page.totals.orders, page.totals.paid_gmv) == (
        3,
        3,
        big["payable"] + mid["payable"] + small["payable"],
    )
    # and a page of one is the second KOL alone; sorted by touches ties fall back on the id
    second = await funnel.per_kol(start=start, end=today, page=2, page_size=1)
    assert ([r.kol_id for r in second.items], second.total) == ([b.id], 3)
    assert [r.kol_id for r in (await funnel.per_kol(start=start, end=today, sort="touches")).items] == [
        a.id,
        b.id,
        c.id,
    ]
    # and per tier: the gold one first (its GMV), the standard tier with two KOLs
    tiers = await funnel.per_tier(start=start, end=today)
    assert [(t.tier_name, t.kols, t.figures.orders, t.figures.paid_gmv) for t in tiers] == [
        ("金牌", 1, 1, big["payable"]),
        ("标准", 2, 2, mid["payable"] + small["payable"]),
    ]
    # and a range before any of it is empty
    empty = await funnel.per_kol(start=start - timedelta(days=30), end=start - timedelta(days=1))
    assert (empty.items, empty.total) == ([], 0)
    # and the CSV and the Excel file hold the same rows, amounts in yuan
    rows = list(
        csv.reader(io.StringIO((await funnel.export_csv(start=start, end=today)).decode("utf-8-sig")))
    )
    assert rows[0][:4] == ["推广员编号", "推广员", "推广码", "等级"]
    assert [(r[0], r[1], r[8]) for r in rows[1:]] == [
        (str(a.id), "阿美", f"{big['payable'] / 100:.2f}"),
        (str(b.id), "安妮", f"{mid['payable'] / 100:.2f}"),
        (str(c.id), "阿贝", f"{small['payable'] / 100:.2f}"),
    ]
    sheet = load_workbook(io.BytesIO(await funnel.export_xlsx(start=start, end=today))).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == funnel.EXPORT_COLUMNS
    assert [(r[0], r[1], float(r[8])) for r in cells[1:]] == [
        (a.id, "阿美", big["payable"] / 100),
        (b.id, "安妮", mid["payable"] / 100),
        (c.id, "阿贝", small["payable"] / 100),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 1, 1), date(2027, 1, 2)), (date(2026, 3, 2), date(2026, 3, 1))],
)
async def test_a_range_past_366_days_or_backwards_is_refused(db, start, end):
    with pytest.raises(CommerceError) as refused:
        await funnel.kol_funnel(kol_id=1, start=start, end=end)
    assert refused.value.code == "kol_funnel_range_invalid"
    with pytest.raises(CommerceError):
        await funnel.per_kol(start=start, end=end)


async def test_a_full_year_of_366_days_is_read(db):
    found = await funnel.kol_funnel(kol_id=1, start=date(2028, 1, 1), end=date(2028, 12, 31))
    assert (len(found.rows), found.totals) == (366, funnel.Figures())
