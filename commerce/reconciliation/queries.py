"""Reconciliation runs and differences as the finance page shows them, with what to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.functions import Count

from commerce.reconciliation.models import ReconciliationDifference, ReconciliationRun
from commerce.reconciliation.states import DifferenceKind, DifferenceStatus, RunStatus, Source, Subject

# What a finance person should do about each kind of difference, by what it is about.
WHAT_TO_DO: dict[tuple[DifferenceKind, Subject], str] = {
    (DifferenceKind.MISSING_AT_WECHAT, Subject.PAYMENT): (
        "我方记为已支付，但微信支付账单中没有这笔交易。请在商户平台按商户订单号查询："
        "若微信支付确无此交易，暂停该订单发货并联系技术排查；若交易在其他日期，核对该日账单后标记处理。"
    ),
    (DifferenceKind.MISSING_AT_WECHAT, Subject.REFUND): (
        "我方记为退款成功，但微信支付账单中没有这笔退款。请在商户平台按商户退款单号查询退款状态："
        "若微信支付未退款，联系用户确认并重新发起退款。"
    ),
    (DifferenceKind.MISSING_HERE, Subject.PAYMENT): (
        "微信支付账单中有这笔收款，我方没有对应的支付记录。请在商户平台核实交易与付款人，"
        "确认不是本店订单的，在商户平台原路退款给用户；是本店订单的，联系技术补录。"
    ),
    (DifferenceKind.MISSING_HERE, Subject.REFUND): (
        "微信支付账单中有这笔退款，我方没有对应的退款记录。请在商户平台核实退款由谁发起，"
        "并调整对应订单的应付商家款项。"
    ),
    (DifferenceKind.AMOUNT, Subject.PAYMENT): (
        "双方都有这笔交易但金额不同。请以商户平台的交易金额为准核对订单实付金额，"
        "多收的退给用户，少收的联系技术排查。"
    ),
    (DifferenceKind.AMOUNT, Subject.REFUND): (
        "双方都有这笔退款但金额不同。请以商户平台的退款金额为准，核对售后单与商家应付款项并做调整。"
    ),
    (DifferenceKind.STATE, Subject.PAYMENT): (
        "双方对这笔交易的状态不一致（如微信支付已收款而我方记为已关闭）。"
        "请在商户平台查询交易状态：已收款而订单已取消的，原路退款给用户。"
    ),
    (DifferenceKind.STATE, Subject.REFUND): (
        "双方对这笔退款的状态不一致（如微信支付显示退款成功而我方记为失败）。"
        "请在商户平台查询退款状态，避免重复退款；确认已退款的，不要再次发起。"
    ),
}
KIND_TEXT = {
    DifferenceKind.MISSING_AT_WECHAT: "微信支付缺失",
    DifferenceKind.MISSING_HERE: "我方缺失",
    DifferenceKind.AMOUNT: "金额不符",
    DifferenceKind.STATE: "状态不符",
}
SUBJECT_TEXT = {Subject.PAYMENT: "支付", Subject.REFUND: "退款"}
SOURCE_TEXT = {Source.TRADE: "交易账单", Source.FUND_FLOW: "资金账单"}
RUN_TEXT = {RunStatus.RUNNING: "对账中", RunStatus.DONE: "已完成", RunStatus.FAILED: "失败"}


@dataclass(frozen=True)
class RunView:
    bill_date: date
    status: RunStatus
    trade_rows: int
    fund_rows: int
    found: int
    open: int  # differences of the day not resolved yet
    fees: int | None
    attempts: int
    error: str
    requested_by: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class DifferenceView:
    id: int
    bill_date: date
    kind: DifferenceKind
    subject: Subject
    reference: str
    source: Source
    ours_amount: int | None
    theirs_amount: int | None
    ours_state: str
    theirs_state: str
    status: DifferenceStatus
    what_to_do: str
    resolution: str
    resolved_by: str
    resolved_at: datetime | None
    created_at: datetime


async def runs(*, limit: int = 60) -> list[RunView]:
    """The latest days reconciled, newest first, with their open differences."""
    rows = await ReconciliationRun.all().order_by("-bill_date").limit(limit)
    open_by_day = dict(
        await ReconciliationDifference.filter(
            status=DifferenceStatus.OPEN, bill_date__in=[r.bill_date for r in rows] or [date(2000, 1, 1)]
        )
        .annotate(n=Count("id"))
        .group_by("bill_date")
        .values_list("bill_date", "n")
    )
    return [_run_view(r, open_by_day.get(r.bill_date, 0)) for r in rows]


async def run_of(bill_date: date) -> RunView | None:
    row = await ReconciliationRun.get_or_none(bill_date=bill_date)
    if row is None:
        return None
    still_open = await ReconciliationDifference.filter(
        bill_date=bill_date, status=DifferenceStatus.OPEN
    ).count()
    return _run_view(row, still_open)


async def differences_of(bill_date: date) -> list[DifferenceView]:
    """The day's differences: open ones first, then by when found."""
    rows = await ReconciliationDifference.filter(bill_date=bill_date).order_by("id")
    views = [_difference_view(r) for r in rows]
    return sorted(views, key=lambda v: v.status is not DifferenceStatus.OPEN)


async def difference(difference_id: int) -> DifferenceView | None:
    row = await ReconciliationDifference.get_or_none(id=difference_id)
    return _difference_view(row) if row is not None else None


def _run_view(r: ReconciliationRun, still_open: int) -> RunView:
    return RunView(
        r.bill_date,
        RunStatus(r.status),
        r.trade_rows,
        r.fund_rows,
        r.found,
        still_open,
        r.fees,
        r.attempts,
        r.error,
        r.requested_by,
        r.started_at,
        r.finished_at,
    )


def _difference_view(r: ReconciliationDifference) -> DifferenceView:
    kind, subject = DifferenceKind(r.kind), Subject(r.subject)
    return DifferenceView(
        id=r.id,
        bill_date=r.bill_date,
        kind=kind,
        subject=subject,
        reference=r.reference,
        source=Source(r.source),
        ours_amount=r.ours_amount,
        theirs_amount=r.theirs_amount,
        ours_state=r.ours_state,
        theirs_state=r.theirs_state,
        status=DifferenceStatus(r.status),
        what_to_do=WHAT_TO_DO[(kind, subject)],
        resolution=r.resolution,
        resolved_by=r.resolved_by,
        resolved_at=r.resolved_at,
        created_at=r.created_at,
    )
