"""The scheduled jobs' failing items, for the platform admin: which job, which order, payment,
refund or conversation, the error, how often it failed and when it is tried again."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.security import session_for
from commerce import clock
from commerce.jobs.queries import job_failures
from commerce.staff.permissions import Permission, require

JOB_TEXT = {
    "cancel_expired_orders": "超时未支付订单自动取消",
    "complete_shipped_orders": "已发货订单自动确认收货",
    "reconcile_payments": "微信支付对账",
    "reconcile_bills": "微信支付账单对账",
    "close_idle_conversations": "空闲客服会话自动关闭",
    "approve_overdue_aftersales": "超时未审核售后自动同意",
    "issue_statements": "商家结算单出单",
    "ledger_balance_check": "账本余额核对",
    "check_payouts": "提现转账查询与超时撤销",
}
KIND_TEXT = {
    "order": "订单",
    "payment": "支付单",
    "refund": "退款",
    "conversation": "客服会话",
    "aftersale": "售后申请",
    "merchant": "商家",
    "ledger_account": "账本账户",
    "payout": "提现",
    "bill_date": "账单日期",
}


@aiohttp_jinja2.template("jobs.html")
async def jobs_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.JOBS)
    show_resolved = request.query.get("all") == "1"
    return {
        "active": "jobs",
        "failures": await job_failures(open_only=not show_resolved),
        "show_resolved": show_resolved,
        "job_text": JOB_TEXT,
        "kind_text": KIND_TEXT,
        "shown": lambda moment: clock.to_shanghai(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "",
    }
