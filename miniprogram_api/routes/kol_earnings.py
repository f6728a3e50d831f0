"""A KOL's earnings, commissions and withdrawals. Commissions are withdrawn like any payee's
balance (the payouts of the books): POST /kol/withdrawals is the wallet's withdrawal for a
signed-in KOL.

Errors: kol_not_applied (403) for a shopper who is no KOL; another's withdrawal is 404
payout_not_found; the wallet's withdrawal errors (invalid_idempotency_key,
payout_below_minimum, payout_not_enough_balance, …).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce import clock
from commerce.payouts import queries as payouts
from commerce.referrals import commission_queries as queries
from commerce.referrals.commission_queries import CommissionView
from commerce.users.services import Shopper
from miniprogram_api.routes import wallet
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.kol_earnings import (
    KolCommissionPageOut,
    KolCommissionsQuery,
    KolEarningsOut,
    KolWithdrawalsOut,
)
from miniprogram_api.schemas.wallet import WithdrawalIn, WithdrawalOut

router = Router()
TAG = "推广员"


@router.get(
    "/kol/earnings",
    summary="推广收益：待结算（含冻结）、冻结、已结算、冲回、已提现、可提现",
    tag=TAG,
    response=KolEarningsOut,
    auth=True,
)
async def kol_earnings(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    mine = await queries.earnings(user_id=shopper.user_id)
    return {
        "pending": mine.pending,
        "held": mine.held,
        "earned": mine.earned,
        "reversed": mine.reversed,
        "withdrawn": mine.withdrawn,
        "withdrawable": mine.withdrawable,
        "in_transit": mine.in_transit,
    }


@router.get(
    "/kol/commissions",
    summary="我的推广佣金（按订单与级别，新的在前）",
    tag=TAG,
    query=KolCommissionsQuery,
    response=KolCommissionPageOut,
    auth=True,
)
async def kol_commissions(
    request: web.Request, *, query: KolCommissionsQuery, shopper: Shopper
) -> dict[str, Any]:
    page = await queries.kol_commissions(user_id=shopper.user_id, page=query.page, page_size=query.page_size)
    return {
        "items": [_commission_json(c) for c in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


@router.post(
    "/kol/withdrawals",
    summary="推广员提现已结算佣金到微信零钱（请求头 Idempotency-Key 必填），与钱包提现相同",
    tag=TAG,
    body=WithdrawalIn,
    response=WithdrawalOut,
    auth=True,
    status=201,
)
async def kol_withdraw(request: web.Request, *, body: WithdrawalIn, shopper: Shopper) -> dict[str, Any]:
    await queries.kol_id_of(shopper.user_id)  # a shopper who is no KOL: forbidden
    return await wallet.withdraw(request, body=body, shopper=shopper)


@router.get("/kol/withdrawals", summary="推广员的提现记录", tag=TAG, response=KolWithdrawalsOut, auth=True)
async def kol_withdrawals(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    found = await queries.withdrawals(user_id=shopper.user_id)
    return {"items": [wallet.withdrawal_json(request, p) for p in found]}


@router.get("/kol/withdrawals/{id}", summary="推广员的一笔提现", tag=TAG, response=WithdrawalOut, auth=True)
async def kol_withdrawal(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    await queries.kol_id_of(shopper.user_id)
    view = await payouts.payee_get(user_id=shopper.user_id, payout_id=path_id(request))
    return wallet.withdrawal_json(request, view)


def _commission_json(c: CommissionView) -> dict[str, Any]:
    return {
        "id": c.id,
        "order_no": c.masked_order_no,
        "level": c.level,
        "channel": c.channel,
        "basis": c.basis,
        "amount": c.amount,
        "reversed": c.reversed,
        "earned": c.earned,
        "status": c.status,
        "accrued_at": clock.to_shanghai(c.accrued_at).isoformat(),
        "earned_at": clock.to_shanghai(c.earned_at).isoformat() if c.earned_at else None,
    }
