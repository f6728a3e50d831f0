"""Finance: the hub, the books (accounts and their postings, the last balance check, an
adjustment form) and the commission rates per category. Permission FINANCE."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_web.orders import page_number, shown
from admin_web.security import path_id, read_form, session_for
from commerce.errors import CommerceError, ErrorKind
from commerce.ledger import finance, queries
from commerce.ledger.states import AccountKind
from commerce.money import MAX_FEN, fen_to_yuan
from commerce.staff.permissions import Permission, require

PAGE_SIZE = 50
KIND_TEXT = {
    AccountKind.CLEARING: "微信支付资金（清算）",
    AccountKind.PLATFORM_COMMISSION: "平台佣金收入",
    AccountKind.PAYMENT_FEES: "支付手续费",
    AccountKind.PLATFORM_ADJUSTMENTS: "平台调整支出",
    AccountKind.MERCHANT_PAYABLE: "应付商家",
    AccountKind.PAYEE_PAYABLE: "应付个人（可提现）",
    AccountKind.PAYOUTS_IN_TRANSIT: "提现在途",
    AccountKind.REFUNDS_DUE: "待退回款项",
    AccountKind.LEADER_PENDING: "团长待结佣金",
    AccountKind.KOL_PENDING: "推广员待结佣金",
}
ENTRY_TEXT = {
    "payment": "支付",
    "refund": "退款",
    "settlement_paid": "商家结算",
    "payout_requested": "提现申请",
    "payout_paid": "提现到账",
    "payout_returned": "提现退回",
    "wechat_fees": "微信手续费",
    "adjustment": "财务调整",
    "leader_commission_accrued": "团长佣金计提",
    "leader_commission_earned": "团长佣金结算",
    "leader_commission_reversed": "团长佣金冲回",
    "kol_commission_accrued": "推广佣金计提",
    "kol_commission_earned": "推广佣金结算",
    "kol_commission_reversed": "推广佣金冲回",
    "kol_commission_voided": "推广佣金作废",
}
LINKS = (  # the hub: the books here, the other pages by their own helpers
    ("账本", "/admin/finance/ledger", "各账户余额、分录明细、余额核对与财务调整"),
    ("佣金费率", "/admin/finance/commission", "按类目设置平台佣金费率"),
    ("结算单", "/admin/statements", "商家结算单的审核、付款与导出"),
    ("对账", "/admin/finance/reconciliation", "与微信支付账单逐笔核对"),
    ("提现", "/admin/finance/payouts", "个人提现到微信零钱"),
    ("团长佣金", "/admin/finance/leader-commissions", "团长佣金费率、佣金明细与各团长合计"),
    ("推广佣金", "/admin/kol-commissions", "推广员佣金明细，按推广员、状态、日期筛选与导出"),
)
_AMOUNT = re.compile(r"^-?\d{1,10}(\.\d{1,2})?$")
_RATE = re.compile(r"^\d{1,3}(\.\d{1,2})?$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/finance", hub)
    router.add_get("/finance/ledger", ledger_page)
    router.add_get("/finance/ledger/accounts/{id}", account_page)
    router.add_post("/finance/adjustments", adjust)
    router.add_get("/finance/commission", commission_page)
    router.add_post("/finance/commission", set_rate)


@aiohttp_jinja2.template("finance.html")
async def hub(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.FINANCE)
    return {"active": "finance", "links": LINKS}


async def ledger_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _render_ledger(request)


async def _render_ledger(
    request: web.Request, *, error: str = "", done: str = "", form: Any = None, status: int = 200
) -> web.Response:
    accounts = await queries.accounts()
    groups = [(kind, KIND_TEXT[kind], [a for a in accounts if a.kind is kind]) for kind in AccountKind]
    context = {
        "active": "finance",
        "groups": [g for g in groups if g[2]],
        "check": await queries.last_balance_check(),
        "yuan": fen_to_yuan,
        "shown": shown,
        "error": error,
        "done": done,
        "form": form or {},
    }
    return aiohttp_jinja2.render_template("finance_ledger.html", request, context, status=status)


@aiohttp_jinja2.template("finance_account.html")
async def account_page(request: web.Request) -> dict[str, Any]:
    require(session_for(request).staff, Permission.FINANCE)
    account_id = path_id(request)
    page = page_number(request.query.get("page", ""))
    account = await queries.account(account_id)
    found = await queries.postings_of_account(account_id, page=page, page_size=PAGE_SIZE)
    return {
        "active": "finance",
        "account": account,
        "kind_text": KIND_TEXT[account.kind],
        "postings": found.items,
        "page": found.page,
        "pages": max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "page_url": lambda n: f"/admin/finance/ledger/accounts/{account_id}?page={n}",
        "entry_text": ENTRY_TEXT,
        "yuan": fen_to_yuan,
        "shown": shown,
    }


async def adjust(request: web.Request) -> web.Response:
    """A finance person credits (a positive amount) or debits a payable, with a reason."""
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    form = await read_form(request)
    payable = str(form.get("payable", ""))
    owner = str(form.get("owner_id", "")).strip()
    amount = str(form.get("amount", "")).strip()
    if payable not in ("merchant", "payee") or not (owner.isascii() and owner.isdigit() and len(owner) < 10):
        return await _render_ledger(request, error="请选择商家或个人，并填写其编号", form=form, status=400)
    fen = int(Decimal(amount) * 100) if _AMOUNT.match(amount) else 0
    if not fen or abs(fen) > MAX_FEN:
        return await _render_ledger(request, error="请填写调整金额（元，可为负数）", form=form, status=400)
    try:
        key = await finance.adjust(
            staff=staff, payable=payable, owner_id=int(owner), amount=fen, reason=str(form.get("reason", ""))
        )
    except CommerceError as error:
        status = 404 if error.kind is ErrorKind.NOT_FOUND else 400 if error.kind is ErrorKind.INVALID else 409
        return await _render_ledger(request, error=error.message, form=form, status=status)
    return await _render_ledger(request, done=key)


async def commission_page(request: web.Request) -> web.Response:
    require(session_for(request).staff, Permission.FINANCE)
    return await _render_rates(request)


async def _render_rates(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    context = {
        "active": "finance",
        "rates": await queries.category_rates(),
        "default_bps": queries.terms().commission_default_bps,
        "percent": lambda bps: f"{Decimal(bps) / 100:.2f}%",
        "shown": shown,
        "error": error,
    }
    return aiohttp_jinja2.render_template("finance_commission.html", request, context, status=status)


async def set_rate(request: web.Request) -> web.Response:
    """A category's rate in percent (two decimals at most); blank: take the ancestor's again."""
    staff = session_for(request).staff
    require(staff, Permission.FINANCE)
    form = await read_form(request)
    category = str(form.get("category_id", ""))
    rate = str(form.get("rate", "")).strip().removesuffix("%")
    if not (category.isascii() and category.isdigit() and len(category) < 10):
        raise web.HTTPNotFound()
    try:
        if not rate:
            await finance.clear_commission_rate(staff=staff, category_id=int(category))
        elif _RATE.match(rate):
            bps = int(Decimal(rate) * 100)
            await finance.set_commission_rate(staff=staff, category_id=int(category), rate_bps=bps)
        else:
            return await _render_rates(request, error="费率请填写百分数，如 5 或 4.5", status=400)
    except CommerceError as error:
        if error.kind is ErrorKind.NOT_FOUND:
            raise
        return await _render_rates(request, error=error.message, status=400)
    raise web.HTTPFound("/admin/finance/commission")
