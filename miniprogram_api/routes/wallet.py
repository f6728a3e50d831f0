"""The payee's wallet: what is owed to them, what is on its way, their withdrawals to their
WeChat balance (WeChat Pay's merchant transfer, confirmed by the payee in the mini-program).

Errors (besides invalid_request / malformed_json, 400): invalid_idempotency_key,
payout_below_minimum, payout_real_name_required, invalid_payout_real_name (400);
payout_above_daily_cap, payout_not_enough_balance (409); another payee's withdrawal is 404
payout_not_found.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from commerce import clock
from commerce.payouts import queries, services
from commerce.payouts.queries import PayoutView
from commerce.payouts.services import PayoutRules
from commerce.users.services import Shopper
from miniprogram_api.keys import CORE
from miniprogram_api.routing import Router, path_id
from miniprogram_api.schemas.wallet import WalletOut, WithdrawalIn, WithdrawalOut

router = Router()
TAG = "钱包"


@router.get(
    "/wallet", summary="我的钱包：可提现余额、提现中金额、提现记录", tag=TAG, response=WalletOut, auth=True
)
async def wallet(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    mine = await queries.wallet(user_id=shopper.user_id)
    return {
        "owed": mine.owed,
        "in_transit": mine.in_transit,
        "withdrawals": [withdrawal_json(request, view) for view in mine.payouts],
    }


@router.post(
    "/wallet/withdrawals",
    summary="提现到微信零钱（请求头 Idempotency-Key 必填）；小额自动审核，其余由平台审核",
    tag=TAG,
    body=WithdrawalIn,
    response=WithdrawalOut,
    auth=True,
    status=201,
)
async def withdraw(request: web.Request, *, body: WithdrawalIn, shopper: Shopper) -> dict[str, Any]:
    core = request.app[CORE]
    view = await services.request_withdrawal(
        shopper=shopper,
        amount=body.amount,
        real_name=body.real_name,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        rules=PayoutRules.from_settings(core.settings),
        pay=core.pay,
    )
    return withdrawal_json(request, view)


@router.get(
    "/wallet/withdrawals/{id}",
    summary="提现详情；待确认收款时含 wx.requestMerchantTransfer 的参数",
    tag=TAG,
    response=WithdrawalOut,
    auth=True,
)
async def get_withdrawal(request: web.Request, *, shopper: Shopper) -> dict[str, Any]:
    view = await queries.payee_get(user_id=shopper.user_id, payout_id=path_id(request))
    return withdrawal_json(request, view)


def withdrawal_json(request: web.Request, view: PayoutView) -> dict[str, Any]:
    pay = request.app[CORE].pay
    transfer = None
    if view.package_info and pay is not None:
        creds = pay.credentials
        transfer = {"mchId": creds.mchid, "appId": creds.appid, "package": view.package_info}
    return {
        "id": view.id,
        "out_bill_no": view.out_bill_no,
        "amount": view.amount,
        "status": view.status,
        "created_at": _shanghai(view.created_at),
        "confirm_deadline": _shanghai(view.confirm_deadline) if view.package_info else None,
        "finished_at": _shanghai(view.finished_at),
        "refusal": view.refusal,
        "failure_reason": view.failure_reason,
        "transfer": transfer,
    }


def _shanghai(moment) -> str | None:
    return clock.to_shanghai(moment).isoformat() if moment else None
