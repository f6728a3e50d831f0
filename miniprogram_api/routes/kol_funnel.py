"""A KOL's own funnel: GET /kol/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD&by=day|channel, from the
daily roll-ups (Beijing days, both ends included, at most 366 days).

Errors: kol_not_applied (403) for a shopper who is no KOL; kol_funnel_range_invalid (400) for
a range that ends before it starts, runs past 366 days or names no real day; invalid_request
(400) for a malformed date or `by`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from commerce.referrals import funnel
from commerce.referrals.errors import KolFunnelError
from commerce.referrals.funnel import Figures
from commerce.users.services import Shopper
from miniprogram_api.routing import Router
from miniprogram_api.schemas.kol_funnel import FunnelOut, FunnelQuery

router = Router()
TAG = "推广员"


@router.get(
    "/kol/funnel",
    summary="推广员漏斗：点击 → 新关注 → 新客户 → 付款订单 → 付款金额 → 佣金，按天或按渠道",
    tag=TAG,
    query=FunnelQuery,
    response=FunnelOut,
    auth=True,
)
async def kol_funnel(request: web.Request, *, query: FunnelQuery, shopper: Shopper) -> dict[str, Any]:
    try:
        start, end = date.fromisoformat(query.start), date.fromisoformat(query.end)
    except ValueError:
        raise KolFunnelError.INVALID_RANGE.error() from None
    found = await funnel.my_funnel(user_id=shopper.user_id, start=start, end=end, by=query.by)
    return {
        "from": found.start.isoformat(),
        "to": found.end.isoformat(),
        "by": found.by,
        "rows": [{"key": row.key, **figures_json(row.figures)} for row in found.rows],
        "totals": figures_json(found.totals),
    }


def figures_json(f: Figures) -> dict[str, int]:
    return {
        "touches": f.touches,
        "follows": f.follows,
        "customers": f.customers,
        "orders": f.orders,
        "paid_gmv": f.paid_gmv,
        "commission_pending": f.commission_pending,
        "commission_earned": f.commission_earned,
        "commission_reversed": f.commission_reversed,
        **f.rates(),
    }
