"""A community leader's earnings and withdrawals. Commissions are withdrawn like any payee's
balance (the payouts of the books): POST /leader/withdrawals is the wallet's withdrawal for a
signed-in leader.

Errors: leader_not_found (404) for a shopper who is no leader; the wallet's withdrawal errors
(invalid_idempotency_key, payout_below_minimum, payout_not_enough_balance, …).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce import clock
from commerce.community import commission_queries as queries
from commerce.community.commission_queries import CommissionView
from commerce.users.services import Shopper
from miniprogram_api.routes import wallet
from miniprogram_api.routing import Router
from miniprogram_api.schemas.leader_earnings import EarningsOut
from miniprogram_api.schemas.wallet import WithdrawalIn, WithdrawalOut

router = Router()
TAG = "团长"


@router.get(
    "/leader/earnings",
    summary="团长收益：待结算、已结算、已提现、冲回的佣金，佣金与提现记录",
    tag=TAG,
    response=EarningsOut,
    auth=True,
)
async def leader_earnings(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    mine = await queries.earnings(user_id=shopper.user_id)
    return {
        "pending": mine.pending,
        "earned": mine.earned,
        "reversed": mine.reversed,
        "withdrawn": mine.withdrawn,
        "available": mine.available,
        "in_transit": mine.in_transit,
        "commissions": [_commission_json(c) for c in mine.commissions],
        "withdrawals": [wallet.withdrawal_json(request, p) for p in mine.withdrawals],
    }


@router.post(
    "/leader/withdrawals",
    summary="团长提现已结算佣金到微信零钱（请求头 Idempotency-Key 必填），与钱包提现相同",
    tag=TAG,
    body=WithdrawalIn,
    response=WithdrawalOut,
    auth=True,
    status=201,
)
async def leader_withdraw(request: web.Request, *, body: WithdrawalIn, shopper: Shopper) -> dict[str, Any]:
    await queries.leader_id_of(shopper.user_id)  # a shopper who is no leader: not found
    return await wallet.withdraw(request, body=body, shopper=shopper)


def _commission_json(c: CommissionView) -> dict[str, Any]:
    return {
        "id": c.id,
        "order_id": c.order_id,
        "order_no": c.order_no,
        "basis": c.basis,
        "amount": c.amount,
        "reversed": c.reversed,
        "earned": c.earned,
        "status": c.status,
        "accrued_at": clock.to_shanghai(c.accrued_at).isoformat(),
        "earned_at": clock.to_shanghai(c.earned_at).isoformat() if c.earned_at else None,
    }
