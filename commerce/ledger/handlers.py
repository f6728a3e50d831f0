"""The books follow the money: a payment received and a refund succeeded become entries.

PAYMENT `payment:{id}` (at paid_at), per order the payment paid:
    clearing +payable; platform_commission −commission; payment_fees −fee;
    merchant_payable(merchant) −(payable − commission − fee)
  commission = Σ lines round_half_up(line.payable × line.commission_rate_bps / 10000) (shipping
  carries none); fee = round_half_up(payable × payment_fee_bps / 10000). Per order it could not
  pay (the money goes back): clearing +payable, refunds_due −payable.
REFUND `refund:{id}` (at succeeded_at), an after-sales refund of r:
    clearing −r; platform_commission +Δcommission; payment_fees +Δfee;
    merchant_payable +(r − Δcommission − Δfee)
  where each line's Δ is round_half_up(charged × refunded so far / paid) minus what was reversed
  before (ledger_charge_reversal), and the fee's likewise on the order's payable, so a fully
  refunded line or order reverses exactly what was charged. An automatic refund (money an
  order could not take): refunds_due +r, clearing −r.

Subscribers run at least once: an entry posts once per key, and the reversal counters move in
the same transaction as the refund's entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from commerce.aftersales import queries as aftersales
from commerce.db import execute, fetch_rows, insert_many, model_row
from commerce.ledger.errors import LedgerError
from commerce.ledger.models import ChargeReversal
from commerce.ledger.queries import round_half_up, terms
from commerce.ledger.services import (
    CLEARING,
    PAYMENT_FEES,
    PLATFORM_COMMISSION,
    REFUNDS_DUE,
    Line,
    ensure_accounts,
    is_posted,
    merchant_payable,
    post,
    record,
)
from commerce.ledger.states import EntryKind
from commerce.money import split_largest_remainder
from commerce.orders import queries as orders
from commerce.orders.queries import ChargedOrder
from commerce.payments import queries as payments
from commerce.payments.events import PaymentReceived, RefundSucceeded
from commerce.payments.states import RefundStatus
from commerce.transactions import unit_of_work, write_transaction

BPS = 10_000


def charges(order: ChargedOrder) -> tuple[dict[int, int], int]:
    """The order's commission per line, and its payment fee."""
    default = terms()
    per_line = {
        line.id: round_half_up(
            line.payable
            * (
                line.commission_rate_bps
                if line.commission_rate_bps is not None
                else default.commission_default_bps
            ),
            BPS,
        )
        for line in order.lines
    }
    fee_bps = order.payment_fee_bps if order.payment_fee_bps is not None else default.payment_fee_bps
    return per_line, round_half_up(order.payable * fee_bps, BPS)


async def post_payment(event: PaymentReceived) -> None:
    """Subscriber of payment.received: the PAYMENT entry."""
    key = f"payment:{event.payment_id}"
    if await is_posted(key):
        return
    charged = {o.id: o for o in await orders.charged_orders(event.paid_order_ids + event.returned_order_ids)}
    await post_charged_payment(
        key=key,
        paid=[charged[i] for i in event.paid_order_ids],
        returned=[charged[i] for i in event.returned_order_ids],
        paid_at=await payments.paid_at(event.payment_id),
    )


@unit_of_work
async def post_charged_payment(
    *, key: str, paid: list[ChargedOrder], returned: list[ChargedOrder], paid_at: datetime | None
) -> None:
    """The PAYMENT entry of orders as the books read them, with their reversal rows."""
    lines: list[Line] = []
    reversals: list[dict[str, Any]] = []
    detail: dict[str, Any] = {"paid": {}, "returned": {}}
    for o in paid:
        per_line, fee = charges(o)
        commission = sum(per_line.values())
        lines += [
            Line(CLEARING, o.payable, order_id=o.id),
            Line(PLATFORM_COMMISSION, -commission, order_id=o.id),
            Line(PAYMENT_FEES, -fee, order_id=o.id),
            Line(merchant_payable(o.merchant_id), -(o.payable - commission - fee), order_id=o.id),
        ]
        reversals.append(_reversal(o.id, 0, o.payable, fee))
        reversals += [_reversal(o.id, line.id, line.payable, per_line[line.id]) for line in o.lines]
        detail["paid"][str(o.id)] = {
            "order_no": o.order_no,
            "payable": o.payable,
            "fee_bps": o.payment_fee_bps,
            "fee": fee,
            "commission": commission,
            "lines": {
                str(line.id): [line.payable, line.commission_rate_bps, per_line[line.id]] for line in o.lines
            },
        }
    for o in returned:
        lines += [Line(CLEARING, o.payable, order_id=o.id), Line(REFUNDS_DUE, -o.payable, order_id=o.id)]
        detail["returned"][str(o.id)] = {"order_no": o.order_no, "payable": o.payable}
    numbers = "、".join(o.order_no for o in paid + returned)
    await ensure_accounts(line.account for line in lines)
    try:
        async with write_transaction() as conn:
            posted = await post(
                conn,
                key=key,
                kind=EntryKind.PAYMENT,
                lines=lines,
                memo=f"微信支付收款：订单 {numbers}",
                detail=detail,
                occurred_at=paid_at,
            )
            if posted is not None:
                await insert_many("ledger_charge_reversal", reversals, connection=conn)
    except IntegrityError:
        if not await is_posted(key):
            raise


def _reversal(order_id: int, line_id: int, basis: int, charged: int) -> dict[str, Any]:
    return model_row(
        ChargeReversal,
        {"order_id": order_id, "order_line_id": line_id, "basis": basis, "charged": charged},
    )


async def post_refund(event: RefundSucceeded) -> None:
    """Subscriber of refund.succeeded: the REFUND entry."""
    refund = await payments.refund_facts(event.refund_id)
    if refund is None or refund.status is not RefundStatus.SUCCEEDED:
        return
    key = f"refund:{refund.id}"
    memo = f"退款 {refund.out_refund_no}"
    if refund.automatic:
        await record(
            key=key,
            kind=EntryKind.REFUND,
            lines=[
                Line(REFUNDS_DUE, refund.amount, order_id=refund.order_id),
                Line(CLEARING, -refund.amount, order_id=refund.order_id),
            ],
            memo=f"{memo}（款项原路退回）",
            detail={"amount": refund.amount, "automatic": True},
            occurred_at=refund.succeeded_at,
        )
        return
    [order] = await orders.charged_orders([refund.order_id])
    parts = await _parts(order, refund.amount, event.aftersale_id)
    await post_order_refund(
        key=key, order=order, amount=refund.amount, parts=parts, memo=memo, at=refund.succeeded_at
    )


async def _parts(order: ChargedOrder, amount: int, aftersale_id: int | None) -> dict[int, int]:
    """The refund's fen per order line (0: the shipping fee's part, which carries no
    commission): the after-sales request's lines; for a refund without a request (rows from
    before after-sales), the amount split over what the lines and the shipping were paid."""
    parts = None
    if aftersale_id is not None:
        parts = await aftersales.refunded_parts(aftersale_id)
    if parts is not None:
        by_line = {line_id: share for line_id, share in parts.lines.items() if share}
    else:
        weights = [line.payable for line in order.lines]
        weights.append(order.payable - sum(weights))
        shares = split_largest_remainder(amount, weights)
        by_line = {line.id: share for line, share in zip(order.lines, shares, strict=False) if share}
    shipping = amount - sum(by_line.values())
    if shipping < 0:
        raise LedgerError.UNBALANCED.error(amount=amount, lines=by_line)
    return by_line | ({0: shipping} if shipping else {})


@unit_of_work
async def post_order_refund(
    *, key: str, order: ChargedOrder, amount: int, parts: dict[int, int], memo: str, at: datetime | None
) -> None:
    """The REFUND entry of `amount` of a paid order, `parts` its fen per order line (0: the
    shipping fee's part), reversing commission and fee by what is refunded so far."""
    merchant = merchant_payable(order.merchant_id)
    await ensure_accounts([CLEARING, PLATFORM_COMMISSION, PAYMENT_FEES, merchant])
    try:
        async with write_transaction() as conn:
            if await is_posted(key, connection=conn):
                return
            commission, fee = await _reverse(conn, order.id, amount, parts)
            await post(
                conn,
                key=key,
                kind=EntryKind.REFUND,
                lines=[
                    Line(CLEARING, -amount, order_id=order.id),
                    Line(PLATFORM_COMMISSION, commission, order_id=order.id),
                    Line(PAYMENT_FEES, fee, order_id=order.id),
                    Line(merchant, amount - commission - fee, order_id=order.id),
                ],
                memo=f"{memo}：订单 {order.order_no}",
                detail={
                    "amount": amount,
                    "parts": {str(k): v for k, v in parts.items()},
                    "commission_reversed": commission,
                    "fee_reversed": fee,
                },
                occurred_at=at,
            )
    except IntegrityError:  # the same refund posted at the same moment elsewhere
        if not await is_posted(key):
            raise


async def _reverse(conn: Any, order_id: int, amount: int, parts: dict[int, int]) -> tuple[int, int]:
    """Count the refund on the order's and its lines' reversal rows; the commission and the fee
    it reverses. The order's row is updated first: concurrent refunds of one order queue there."""
    taken = await execute(
        "UPDATE `ledger_charge_reversal` SET `refunded` = `refunded` + ?"
        " WHERE `order_id` = ? AND `order_line_id` = 0 AND `refunded` + ? <= `basis`",
        [amount, order_id, amount],
        connection=conn,
    )
    rows = {
        row["order_line_id"]: row
        for row in await fetch_rows(
            "SELECT `id`, `order_line_id`, `basis`, `charged`, `refunded`, `reversed`"
            " FROM `ledger_charge_reversal` WHERE `order_id` = ?",
            [order_id],
            connection=conn,
        )
    }
    if not taken:
        if 0 not in rows:  # its payment's entry is not posted yet: retried after it
            raise LedgerError.PAYMENT_NOT_POSTED.error(order_id=order_id)
        raise LedgerError.UNBALANCED.error(order_id=order_id, amount=amount)  # more than paid: a bug
    fee = await _move(conn, rows[0], 0)  # `refunded` counted above
    commission = 0
    for line_id, share in parts.items():
        if line_id:
            commission += await _move(conn, rows[line_id], share)
    return commission, fee


async def _move(conn: Any, row: dict[str, Any], share: int) -> int:
    """Add `share` to the row's refunded and set its reversed to the cumulative share of what
    was charged; the difference reversed now."""
    refunded = int(row["refunded"]) + share
    basis, charged, reversed_before = int(row["basis"]), int(row["charged"]), int(row["reversed"])
    if refunded > basis:
        raise LedgerError.UNBALANCED.error(row=row["id"], refunded=refunded, basis=basis)
    reversed_now = charged if refunded == basis else round_half_up(charged * refunded, basis)
    moved = await execute(
        "UPDATE `ledger_charge_reversal` SET `refunded` = ?, `reversed` = ?"
        " WHERE `id` = ? AND `refunded` = ? AND `reversed` = ?",
        [refunded, reversed_now, row["id"], int(row["refunded"]), reversed_before],
        connection=conn,
    )
    if not moved:
        raise LedgerError.UNBALANCED.error(row=row["id"])  # cannot happen: the order's row is locked
    return reversed_now - reversed_before
