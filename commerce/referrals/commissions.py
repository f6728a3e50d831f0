"""KOLs' commissions in the books. The platform pays them out of its commission (merchants'
payables and statements are untouched), one commission per paid attributed order and level:
level 1 the KOL the order is attributed to, level 2 (when the attribution has one) the KOL who
recruited them.

ACCRUED `kol_commission:{order_id}:{level}:accrued`, once the order's attribution is frozen at
payment: platform_commission +c, kol_pending(KOL's user) −c, c = Σ lines
round_half_up(line.payable × rate / 10000) over each line's paid amount after discounts; the
rate (rates.py: the tier's rate of the category or its nearest ancestor, else the tier's
default; level 2: the flat second-level rate of that KOL's tier) stamped on the lines. A KOL
with an open fraud flag accrues HELD: not earned until the review releases it.
REVERSED `kol_commission:{order_id}:{level}:refund:{refund_id}`, on refund.succeeded: each
line's cumulative share of what it accrued (a line refunded in full reverses exactly its
commission) minus what was reversed before: kol_pending +Δ, platform_commission −Δ (from
payee_payable if it was earned already; refused while the KOL has withdrawn it: finance
adjusts by hand). Everything refunded: pending or held → reversed. A voided commission
reverses nothing more. Counting a refund is commission_reversal's, shared with leaders'.
Earning (commission_earning) and the fraud review's hold, release and void (holds) are apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce import clock, commission_lines, commission_reversal
from commerce.db import fetch_rows, insert, insert_many, model_row
from commerce.jobs import services as jobs
from commerce.ledger import services as ledger
from commerce.ledger.queries import round_half_up
from commerce.ledger.states import EntryKind
from commerce.orders import queries as orders
from commerce.orders.queries import ChargedLine
from commerce.payments import queries as payments
from commerce.payments.events import RefundSucceeded
from commerce.payments.states import RefundStatus
from commerce.referrals import rates, rollups
from commerce.referrals.commission_lifecycle import COMMISSION, SYSTEM, append_event
from commerce.referrals.commission_models import KolCommission, KolCommissionLine, KolCommissionRefund
from commerce.referrals.errors import KolCommissionError
from commerce.referrals.models import Kol, KolFlag, ReferralAttribution
from commerce.referrals.states import AttributionStatus, KolCommissionEventType, KolCommissionStatus
from commerce.transactions import unit_of_work, write_transaction

BPS = 10_000
ACCRUE_JOB = "kol_commissions_accrue"
OPEN = (KolCommissionStatus.PENDING, KolCommissionStatus.HELD)


def accrued_key(order_id: int, level: int) -> str:
    return f"kol_commission:{order_id}:{level}:accrued"


# --- accrued at payment ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    level: int
    kol: Kol
    held: bool
    parts: list[tuple[ChargedLine, rates.LineRate, int]]

    @property
    def amount(self) -> int:
        return sum(part for _, _, part in self.parts)

    @property
    def basis(self) -> int:
        return sum(line.payable for line, _, _ in self.parts)


@unit_of_work
async def accrue(*, order_id: int) -> list[int]:
    """The commissions accrued on a paid order with a frozen attribution (ids, by level), once:
    called by paid.on_paid after the freeze, and by the job's catch-up. [] when the order has
    no frozen attribution."""
    found = await ReferralAttribution.get_or_none(order_id=order_id, status=AttributionStatus.FROZEN)
    if found is None:
        return []
    wanted = {1: found.kol_id}
    if found.parent_kol_id is not None:
        wanted[2] = found.parent_kol_id
    existing = dict(await KolCommission.filter(order_id=order_id).values_list("level", "id"))
    missing = {level: kol_id for level, kol_id in wanted.items() if level not in existing}
    if not missing:
        return [existing[level] for level in sorted(existing)]
    facts = await orders.order_facts(order_id)
    if facts is None or facts.paid_at is None:
        return [existing[level] for level in sorted(existing)]
    kols = {k.id: k for k in await Kol.filter(id__in=sorted(set(missing.values())))}
    flagged = set(await KolFlag.filter(open_key__in=sorted(kols) or [0]).values_list("open_key", flat=True))
    [order] = await orders.charged_orders([order_id])
    products = [line.product_id for line in order.lines]
    plans = []
    for level, kol_id in sorted(missing.items()):
        kol = kols.get(kol_id)
        if kol is None:
            continue
        if level == 1:
            found_rates = await rates.rates_for_products(kol.tier_id, products)
        else:
            found_rates = await rates.second_level_rates(kol.tier_id, products)
        parts = [
            (
                line,
                found_rates[line.product_id],
                round_half_up(line.payable * found_rates[line.product_id].rate_bps, BPS),
            )
            for line in order.lines
        ]
        plans.append(_Plan(level, kol, kol.id in flagged, parts))
    accounts = [ledger.PLATFORM_COMMISSION, *(ledger.kol_pending(p.kol.user_id) for p in plans)]
    await ledger.ensure_accounts(accounts)
    try:
        async with write_transaction() as conn:
            for plan in plans:
                await _accrue_one(conn, plan, found, order.order_no, facts.paid_at)
    except IntegrityError:  # accrued at the same moment by another delivery: that one stands
        pass
    rows = await KolCommission.filter(order_id=order_id).order_by("level").values_list("id", flat=True)
    return list(rows)


async def _accrue_one(
    conn: Any, plan: _Plan, found: ReferralAttribution, order_no: str, paid_at: datetime
) -> int:
    now = clock.now()
    order_id, kol, amount = found.order_id, plan.kol, plan.amount
    status = KolCommissionStatus.HELD if plan.held else KolCommissionStatus.PENDING
    commission_id = await insert(
        "kol_commission",
        model_row(
            KolCommission,
            {
                "order_id": order_id,
                "order_no": order_no,
                "level": plan.level,
                "kol_id": kol.id,
                "kol_user_id": kol.user_id,
                "tier_id": kol.tier_id or 0,
                "channel": found.channel.value,
                "basis": plan.basis,
                "amount": amount,
                "status": status,
                "accrued_at": now,
                "updated_at": now,
            },
        ),
        connection=conn,
    )
    await insert_many(
        "kol_commission_line",
        [
            model_row(
                KolCommissionLine,
                {
                    "commission_id": commission_id,
                    "order_line_id": line.id,
                    "category_id": rate.category_id,
                    "basis": line.payable,
                    "rate_bps": rate.rate_bps,
                    "amount": part,
                },
            )
            for line, rate, part in plan.parts
        ],
        connection=conn,
    )
    params = {"amount": amount, "basis": plan.basis, "level": plan.level, "held": plan.held}
    await append_event(conn, commission_id, KolCommissionEventType.ACCRUED, params)
    if amount:
        pending = ledger.kol_pending(kol.user_id)
        await ledger.post(
            conn,
            key=accrued_key(order_id, plan.level),
            kind=EntryKind.KOL_COMMISSION_ACCRUED,
            lines=[
                ledger.Line(ledger.PLATFORM_COMMISSION, amount, order_id=order_id),
                ledger.Line(pending, -amount, order_id=order_id),
            ],
            memo=f"推广佣金计提：订单 {order_no}（{plan.level} 级，推广员 {kol.name}）",
            detail={
                "kol_id": kol.id,
                "level": plan.level,
                "lines": {
                    str(line.id): [line.payable, rate.rate_bps, part] for line, rate, part in plan.parts
                },
            },
            occurred_at=paid_at,
        )
    await rollups.bump(conn, kol_id=kol.id, at=paid_at, channel=found.channel, commission_pending=amount)
    return commission_id


async def accrue_missing() -> int:
    """The job's catch-up: frozen attributions with a level not accrued yet (the payment's
    subscriber failed, or its delivery was lost)."""
    rows = await fetch_rows(
        "SELECT ra.`order_id` FROM `referral_attribution` ra"
        " LEFT JOIN `kol_commission` k1 ON k1.`order_id` = ra.`order_id` AND k1.`level` = 1"
        " LEFT JOIN `kol_commission` k2 ON k2.`order_id` = ra.`order_id` AND k2.`level` = 2"
        " WHERE ra.`status` = ? AND (k1.`id` IS NULL OR (ra.`parent_kol_id` IS NOT NULL AND k2.`id` IS NULL))"
        " ORDER BY ra.`order_id` LIMIT 1000",
        [AttributionStatus.FROZEN.value],
    )

    async def one(order_id: int) -> bool:
        return bool(await accrue(order_id=order_id))

    return await jobs.each_item(
        job=ACCRUE_JOB, item_kind="order", items=[r["order_id"] for r in rows], item_id=int, handle=one
    )


# --- reversed on refunds ---------------------------------------------------------------------


async def reverse_refunded(event: RefundSucceeded) -> None:
    """Subscriber of refund.succeeded: each level's share of what was refunded goes back."""
    refund = await payments.refund_facts(event.refund_id)
    if refund is None or refund.status is not RefundStatus.SUCCEEDED or refund.automatic:
        return
    rows = await KolCommission.filter(order_id=refund.order_id).order_by("level")
    if not rows:
        if await ReferralAttribution.exists(order_id=refund.order_id, status=AttributionStatus.FROZEN):
            raise KolCommissionError.NOT_ACCRUED.error(order_id=refund.order_id)  # retried after it
        return
    counted = set(
        await KolCommissionRefund.filter(refund_id=refund.id).values_list("commission_id", flat=True)
    )
    todo = [row for row in rows if row.id not in counted]
    if not todo:
        return
    parts = await commission_lines.refunded_line_parts(refund.order_id, refund.amount, event.aftersale_id)
    for row in todo:
        await reverse(commission_id=row.id, refund_id=refund.id, parts=parts, at=refund.succeeded_at)


def _reversal_entry(state: dict, refund_id: int, held: ledger.Account) -> commission_reversal.Entry:
    order_id, level = int(state["order_id"]), int(state["level"])
    return commission_reversal.Entry(
        key=f"kol_commission:{order_id}:{level}:refund:{refund_id}",
        kind=EntryKind.KOL_COMMISSION_REVERSED,
        memo=f"推广佣金冲回：订单 {state['order_no']} 退款（{level} 级）",
        detail={"refund_id": refund_id, "from": held.code, "level": level},
    )


async def _roll_up_reversal(conn: Any, state: dict, amount: int, at: datetime) -> None:
    await rollups.bump(
        conn, kol_id=int(state["kol_id"]), at=at, channel=state["channel"], commission_reversed=amount
    )


REVERSAL = commission_reversal.Reversal(
    table="kol_commission",
    model=KolCommission,
    refund_model=KolCommissionRefund,
    lifecycle=COMMISSION,
    payee_of=lambda row: row.kol_user_id,
    accounts=lambda user: (ledger.kol_pending(user), ledger.payee_payable(user)),
    open=OPEN,
    reversed=KolCommissionStatus.REVERSED,
    voided=KolCommissionStatus.VOIDED,
    reversed_part=KolCommissionEventType.REVERSED_PART,
    append_event=append_event,
    actor=SYSTEM,
    entry=_reversal_entry,
    over_refunded=KolCommissionError.OVER_REFUNDED.error,
    already_earned=KolCommissionError.ALREADY_EARNED.error,
    columns=("level", "kol_id", "channel"),
    also=_roll_up_reversal,
)


async def reverse(
    *, commission_id: int, refund_id: int, parts: dict[int, int], at: datetime | None = None
) -> int:
    """Count a refund's line parts against one commission; the fen reversed (from kol_pending,
    or from payee_payable if it was earned). Once per (refund, commission)."""
    return await commission_reversal.reverse(
        REVERSAL, commission_id=commission_id, refund_id=refund_id, parts=parts, at=at
    )
