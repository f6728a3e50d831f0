"""What the finance role changes in the books: commission rates per category, and adjustments
(a credit or a correction to a merchant's or a payee's payable, paid by the platform). Each
change is recorded in the audit log in its own transaction."""

from __future__ import annotations

import uuid
from typing import Literal

from commerce import clock
from commerce.audit import services as audit
from commerce.db import execute, insert, model_row
from commerce.errors import CommerceError, ErrorKind
from commerce.ledger import queries
from commerce.ledger.errors import LedgerError
from commerce.ledger.models import CommissionRate
from commerce.ledger.services import (
    PLATFORM_ADJUSTMENTS,
    Account,
    Line,
    ensure_accounts,
    merchant_payable,
    payee_payable,
    post,
)
from commerce.ledger.states import EntryKind
from commerce.merchants import services as merchants
from commerce.money import MAX_FEN, fen_to_yuan
from commerce.staff.auth import Staff
from commerce.staff.permissions import Permission, require
from commerce.transactions import unit_of_work, write_transaction
from commerce.users import directory as users

MAX_BPS = 10_000

Payable = Literal["merchant", "payee"]


@unit_of_work
async def set_commission_rate(*, staff: Staff, category_id: int, rate_bps: int) -> None:
    """The category's own commission rate (its descendants without one take it too)."""
    require(staff, Permission.FINANCE)
    if not 0 <= rate_bps <= MAX_BPS:
        raise LedgerError.INVALID_RATE.error()
    if not await queries.category_exists(category_id):
        raise LedgerError.CATEGORY_NOT_FOUND.error()
    async with write_transaction() as conn:
        before = await CommissionRate.filter(category_id=category_id).using_db(conn).first()
        now = clock.now()
        if before is None:
            row = {
                "category_id": category_id,
                "rate_bps": rate_bps,
                "updated_by": staff.actor,
                "updated_at": now,
            }
            await insert("commission_rate", model_row(CommissionRate, row), connection=conn)
        else:
            await execute(
                "UPDATE `commission_rate` SET `rate_bps` = ?, `updated_by` = ?, `updated_at` = ?"
                " WHERE `id` = ?",
                [rate_bps, staff.actor, now, before.id],
                connection=conn,
            )
        await _audit_rate(conn, staff, category_id, before.rate_bps if before else None, rate_bps)


@unit_of_work
async def clear_commission_rate(*, staff: Staff, category_id: int) -> None:
    """The category takes its nearest ancestor's rate (or the default) again."""
    require(staff, Permission.FINANCE)
    async with write_transaction() as conn:
        before = await CommissionRate.filter(category_id=category_id).using_db(conn).first()
        if before is None:
            return
        await execute("DELETE FROM `commission_rate` WHERE `id` = ?", [before.id], connection=conn)
        await _audit_rate(conn, staff, category_id, before.rate_bps, None)


async def _audit_rate(conn, staff: Staff, category_id: int, before: int | None, after: int | None) -> None:
    shown = "默认/上级" if after is None else f"{after / 100:g}%"
    await audit.record(
        actor=staff.actor,
        action="commission_rate.set" if after is not None else "commission_rate.clear",
        object_type="category",
        object_id=category_id,
        summary=f"类目 {category_id} 佣金费率改为 {shown}",
        before={"rate_bps": before},
        after={"rate_bps": after},
        connection=conn,
    )


@unit_of_work
async def adjust(*, staff: Staff, payable: Payable, owner_id: int, amount: int, reason: str) -> str:
    """Credit (`amount` > 0) or debit (< 0) a merchant's or a payee's payable against the
    platform's adjustments account; returns the entry's key. A debit that would take a payee
    below zero is refused (INSUFFICIENT_BALANCE)."""
    require(staff, Permission.FINANCE)
    reason = reason.strip()
    if not amount or abs(amount) > MAX_FEN or not 1 <= len(reason) <= 200:
        raise LedgerError.INVALID_ADJUSTMENT.error()
    account = await _payable_account(payable, owner_id)
    key = f"adjustment:{uuid.uuid4()}"
    await ensure_accounts([account, PLATFORM_ADJUSTMENTS])
    verb = "补记" if amount > 0 else "扣减"
    memo = f"财务调整：{verb} ¥{fen_to_yuan(abs(amount))}（{reason}）"
    async with write_transaction() as conn:
        await post(
            conn,
            key=key,
            kind=EntryKind.ADJUSTMENT,
            lines=[Line(PLATFORM_ADJUSTMENTS, amount), Line(account, -amount)],
            memo=memo,
            actor=staff.actor,
            detail={"reason": reason, "account": account.code, "amount": amount},
        )
        await audit.record(
            actor=staff.actor,
            action="ledger.adjust",
            object_type="ledger_account",
            object_id=account.code,
            summary=memo,
            after={"key": key, "amount": amount, "reason": reason},
            connection=conn,
        )
    return key


async def _payable_account(payable: Payable, owner_id: int) -> Account:
    try:
        if payable == "merchant":
            await merchants.get_merchant(merchant_id=owner_id)
            return merchant_payable(owner_id)
        if payable == "payee":
            await users.shopper_profile(user_id=owner_id)
            return payee_payable(owner_id)
    except CommerceError as exc:
        if exc.kind is ErrorKind.NOT_FOUND:
            raise LedgerError.ACCOUNT_NOT_FOUND.error() from None
        raise
    raise LedgerError.INVALID_ADJUSTMENT.error()
