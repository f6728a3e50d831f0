"""A KOL's own funnel through the mini-program API (GET /api/v1/kol/funnel): by day and by channel
over Beijing days, their own figures only; a shopper who is no KOL is told to apply; ranges
past 366 days, backwards, or not dates are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce import clock
from commerce.referrals.states import TouchChannel
from tests.builders import Shopper
from tests.kol_commission_builders import kol_catalog, referred_order
from tests.referral_builders import approved_kol, touched


async def _funnel(client, shopper: Shopper, **query: str):
    return await client.get("/api/v1/kol/funnel", params=query, headers=shopper.headers)


async def test_a_kol_reads_their_funnel_by_day_and_by_channel(client, simulator):
    # given amy, a KOL who brought ben by a link (he ordered and paid) and had two anonymous
    # mini-program-code opens; and ann, another KOL who brought carol
    await kol_catalog()
    amy, ann, ben, carol = [await Shopper.start(client, simulator, n) for n in ("amy", "ann", "ben", "carol")]
    mine = await approved_kol(user_id=amy.user_id)
    theirs = await approved_kol(user_id=ann.user_id)
    await touched(mine, ben.user_id)
    await touched(mine, None, channel=TouchChannel.MP_CODE)
    await touched(mine, None, channel=TouchChannel.MP_CODE)
    await touched(theirs, carol.user_id)
    order = await referred_order(ben, {"KT1-1": 3})
    await referred_order(carol, {"KR1-1": 1})
    today = clock.to_shanghai(clock.now()).date()
    week = (today - timedelta(days=6)).isoformat()
    # when amy reads her week by day
    response = await _funnel(client, amy, **{"from": week, "to": today.isoformat()})
    # then seven days, today's figures hers alone, money in fen, rates in basis points
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["from"], body["to"], body["by"], len(body["rows"])) == (week, today.isoformat(), "day", 7)
    assert body["rows"][-1]["key"] == today.isoformat()
    totals = body["totals"]
    assert (totals["touches"], totals["customers"], totals["orders"], totals["paid_gmv"]) == (
        3,
        1,
        1,
        order["payable"],
    )
    assert (totals["customer_rate_bps"], totals["order_rate_bps"]) == (3333, 3333)
    assert totals["commission_pending"] > 0
    # when by channel
    by_channel = await (
        await _funnel(client, amy, **{"from": week, "to": today.isoformat(), "by": "channel"})
    ).json()
    rows = {row["key"]: row for row in by_channel["rows"]}
    assert (rows["link"]["touches"], rows["link"]["orders"], rows["mp_code"]["touches"]) == (1, 1, 2)
    assert by_channel["totals"] == totals


async def test_a_shopper_who_is_no_kol_is_told_to_apply(client, simulator):
    ben = await Shopper.start(client, simulator, "ben")
    response = await _funnel(client, ben, **{"from": "2026-12-01", "to": "2026-12-07"})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "kol_not_applied"


async def test_signing_in_is_required(client):
    response = await client.get("/api/v1/kol/funnel", params={"from": "2026-12-01", "to": "2026-12-07"})
    assert response.status == 401


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2026-01-01", "to": "2027-01-02"}, "kol_funnel_range_invalid"),  # 367 days
        ({"from": "2026-12-07", "to": "2026-12-01"}, "kol_funnel_range_invalid"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "kol_funnel_range_invalid"),
        ({"from": "20261201", "to": "2026-12-07"}, "invalid_request"),
        ({"to": "2026-12-07"}, "invalid_request"),
        ({"from": "2026-12-01", "to": "2026-12-07", "by": "week"}, "invalid_request"),
    ],
)
async def test_odd_ranges_are_refused(client, simulator, query, code):
    amy = await Shopper.start(client, simulator, "amy")
    await approved_kol(user_id=amy.user_id)
    response = await _funnel(client, amy, **query)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code


async def test_a_whole_leap_year_is_read(client, simulator):
    amy = await Shopper.start(client, simulator, "amy")
    await approved_kol(user_id=amy.user_id)
    response = await _funnel(client, amy, **{"from": "2028-01-01", "to": "2028-12-31"})
    assert response.status == 200
    assert len((await response.json())["rows"]) == 366
