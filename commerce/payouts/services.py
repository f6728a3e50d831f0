"""What a payee and the finance staff do with payouts: ask to withdraw (the amount is held in
the same transaction: the ledger's no-debit guard refuses more than is owed, also to two
requests at once), approve (small amounts by themselves) or refuse.

What WeChat Pay says afterwards (the submission's answer, the transfer notification, a query)
is applied by commerce.payouts.transfers; the money returns there on a final failure.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time

from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum

from commerce import clock, outbox
from commerce.audit import services as audit
from commerce.clock import SHANGHAI
from commerce.config import Settings
from commerce.errors import CommerceError
from commerce.ledger import services as ledger
from commerce.ledger.errors import LedgerError
from commerce.ledger.states import EntryKind
from commerce.money import MAX_FEN, fen_to_yuan
from commerce.payouts import queries
from commerce.payouts.errors import PayoutError
from commerce.payouts.events import PayoutApproved, PayoutFinished
from commerce.payouts.lifecycle import PAYOUT, record
from commerce.payouts.models import Payout
from commerce.payouts.queries import PayoutView
from commerce.payouts.states import RETURNED, PayoutEventType, PayoutStatus
from commerce.staff.auth import Staff
from commerce.transactions import unit_of_work, write_transaction
from commerce.users.services import Shopper
from commerce.wechat import pay_transfer
from commerce.wechat.pay import WeChatPayClient

SYSTEM = "system:payouts"
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REFUSAL_MAX = 200
REAL_NAME = re.compile(r"^[^\x00-\x1f<>]{2,32}$")


@dataclass(frozen=True)
class PayoutRules:
    """The withdrawal rules (commerce.config: payout_*)."""

    min_fen: int = 100
    daily_cap_fen: int = 500_000
    auto_approve_max_fen: int = 10_000
    real_name_from_fen: int = pay_transfer.REAL_NAME_FROM_FEN
    confirm_hours: int = pay_transfer.CONFIRM_HOURS
    scene_id: str = pay_transfer.SCENE_COMMISSION

    @classmethod
    def from_settings(cls, settings: Settings) -> PayoutRules:
        return cls(
            min_fen=settings.payout_min_fen,
            daily_cap_fen=settings.payout_daily_cap_fen,
            auto_approve_max_fen=settings.payout_auto_approve_max_fen,
            real_name_from_fen=settings.payout_real_name_from_fen,
            confirm_hours=settings.payout_confirm_hours,
            scene_id=settings.payout_transfer_scene_id,
        )


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: staff see that a name was given, not the name."""
    return name[0] + "*" * (len(name) - 1)


async def request_withdrawal(
    *,
    shopper: Shopper,
    amount: int,
    idempotency_key: str,
    rules: PayoutRules,
    pay: WeChatPayClient | None,
    real_name: str | None = None,
) -> PayoutView:
    """Withdraw `amount` fen of what is owed to the shopper to their WeChat balance. The same
    idempotency key again answers the same payout."""
    if not _IDEMPOTENCY_KEY.match(idempotency_key or ""):
        raise PayoutError.INVALID_IDEMPOTENCY_KEY.error()
    existing = await Payout.get_or_none(payee_user_id=shopper.user_id, request_key=idempotency_key)
    if existing is not None:
        return await queries.payee_get(user_id=shopper.user_id, payout_id=existing.id)
    if type(amount) is not int or not 1 <= amount <= MAX_FEN:
        raise PayoutError.INVALID_AMOUNT.error()
    if amount < rules.min_fen:
        raise PayoutError.BELOW_MINIMUM.error(f"最低提现 ¥{fen_to_yuan(rules.min_fen)}")
    if pay is None:
        raise PayoutError.UNAVAILABLE.error()
    name = (real_name or "").strip()
    cipher, masked = None, ""
    if amount >= rules.real_name_from_fen:
        if not name:
            raise PayoutError.REAL_NAME_REQUIRED.error(
                f"单笔提现 ¥{fen_to_yuan(rules.real_name_from_fen)} 及以上需填写与微信实名一致的真实姓名"
            )
        if not REAL_NAME.match(name):
            raise PayoutError.INVALID_REAL_NAME.error()
        cipher, masked = pay_transfer.encrypt_sensitive(pay, name), mask_name(name)
    payee, transit = ledger.payee_payable(shopper.user_id), ledger.PAYOUTS_IN_TRANSIT
    await ledger.ensure_accounts([payee, transit])
    try:
        payout_id, events = await _hold(
            shopper=shopper, amount=amount, key=idempotency_key, rules=rules, cipher=cipher, masked=masked
        )
    except IntegrityError:  # the same key at the same moment: that payout is the answer
        existing = await Payout.get_or_none(payee_user_id=shopper.user_id, request_key=idempotency_key)
        if existing is None:
            raise
        return await queries.payee_get(user_id=shopper.user_id, payout_id=existing.id)
    await outbox.deliver(events)
    return await queries.payee_get(user_id=shopper.user_id, payout_id=payout_id)


@unit_of_work
async def _hold(
    *, shopper: Shopper, amount: int, key: str, rules: PayoutRules, cipher: str | None, masked: str
) -> tuple[int, list[outbox.OutboxEvent]]:
    """The payout row, its amount held (PAYOUT_REQUESTED), the day's cap checked and, for a
    small amount, its approval: one transaction, all or nothing."""
    now = clock.now()
    events: list[outbox.OutboxEvent] = []
    async with write_transaction() as conn:
        row = await Payout.create(
            out_bill_no=_new_out_bill_no(now),
            payee_user_id=shopper.user_id,
            openid=shopper.openid,
            amount=amount,
            status=PayoutStatus.REQUESTED,
            request_key=key,
            real_name_required=cipher is not None,
            real_name_masked=masked,
            real_name_cipher=cipher,
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
        params = {"amount": amount, **({"real_name": masked} if masked else {})}
        await record(conn, row.id, PayoutEventType.REQUESTED, f"shopper:{shopper.user_id}", to="requested",
                     params=params)  # fmt: skip
        try:
            # Locks the payee's account row until commit: a second request of the same payee
            # waits here, then sees this one (balance and the day's total) once committed.
            await post_entry(
                conn, row, EntryKind.PAYOUT_REQUESTED, memo=f"提现 {row.out_bill_no} 申请",
                actor=f"shopper:{shopper.user_id}",
            )  # fmt: skip
        except CommerceError as error:
            if error.code == LedgerError.INSUFFICIENT_BALANCE.code:
                raise PayoutError.NOT_ENOUGH_BALANCE.error() from None
            raise
        today = await _withdrawn_today(conn, shopper.user_id, now)
        if today > rules.daily_cap_fen:
            left = max(rules.daily_cap_fen - (today - amount), 0)
            raise PayoutError.ABOVE_DAILY_CAP.error(
                f"每日最多提现 ¥{fen_to_yuan(rules.daily_cap_fen)}，今日还可提现 ¥{fen_to_yuan(left)}"
            )
        if amount <= rules.auto_approve_max_fen:
            moved = await _approve_in(conn, row.id, actor=SYSTEM, why="小额自动审核")
            events.append(moved)
    return row.id, events


async def _withdrawn_today(conn, user_id: int, now: datetime) -> int:
    """What the payee asked to withdraw since midnight in Shanghai, less what came back."""
    midnight = datetime.combine(clock.to_shanghai(now).date(), time(), tzinfo=SHANGHAI).astimezone(UTC)
    rows = (
        await Payout.filter(payee_user_id=user_id, created_at__gte=midnight)
        .exclude(status__in=RETURNED)
        .using_db(conn)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return int(rows[0]["total"] or 0) if rows else 0


def _new_out_bill_no(now: datetime) -> str:
    """Ours at WeChat Pay: letters and digits only, at most 32."""
    return "PO" + clock.to_shanghai(now).strftime("%Y%m%d%H%M%S") + secrets.token_hex(6).upper()


async def _approve_in(conn, payout_id: int, *, actor: str, why: str = "") -> outbox.OutboxEvent:
    moved = await PAYOUT.move(
        conn,
        payout_id,
        PayoutStatus.REQUESTED,
        PayoutStatus.APPROVED,
        actor=actor,
        params={"why": why} if why else {},
        changes={"approved_by": actor, "approved_at": clock.now()},
        event=PayoutApproved(payout_id=payout_id),
    )
    assert moved.outbox is not None
    return moved.outbox


@unit_of_work
async def approve(*, payout_id: int, staff: Staff) -> PayoutView:
    """A person approves: the transfer goes to WeChat Pay (once, however many approve at once)."""
    row = await _get(payout_id)
    async with write_transaction() as conn:
        event = await _approve_in(conn, row.id, actor=staff.actor)
        await _audit(conn, staff, "payout.approve", row, {"status": "approved"})
    await outbox.deliver([event])
    return await queries.staff_get(payout_id=payout_id)


@unit_of_work
async def refuse(*, payout_id: int, staff: Staff, reason: str) -> PayoutView:
    """No: the money returns to the payee's balance; they read why."""
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= REFUSAL_MAX:
        raise PayoutError.INVALID_REFUSAL.error()
    row = await _get(payout_id)
    now = clock.now()
    async with write_transaction() as conn:
        await PAYOUT.move(
            conn,
            row.id,
            PayoutStatus.REQUESTED,
            PayoutStatus.REFUSED,
            actor=staff.actor,
            params={"reason": reason},
            changes={"refusal": reason, "finished_at": now},
            event=PayoutFinished(row.id, row.payee_user_id, row.amount, PayoutStatus.REFUSED.value, reason),
        )
        memo = f"提现 {row.out_bill_no} 被拒绝：{reason}"
        await post_entry(conn, row, EntryKind.PAYOUT_RETURNED, memo=memo, actor=staff.actor)
        await _audit(conn, staff, "payout.refuse", row, {"status": "refused", "reason": reason})
    return await queries.staff_get(payout_id=payout_id)


# A payout's entries: (key suffix, the account debited, the account credited) by kind.
_ENTRIES = {
    EntryKind.PAYOUT_REQUESTED: ("requested", "payee", "transit"),  # held
    EntryKind.PAYOUT_PAID: ("paid", "transit", "clearing"),  # WeChat Pay paid it
    EntryKind.PAYOUT_RETURNED: ("returned", "transit", "payee"),  # back to the payee's balance
}


async def post_entry(conn, row: Payout, kind: EntryKind, *, memo: str, actor: str) -> None:
    """Post one of the payout's entries in the caller's transaction (once per kind)."""
    suffix, debit, credit = _ENTRIES[kind]
    accounts = {
        "payee": ledger.payee_payable(row.payee_user_id),
        "transit": ledger.PAYOUTS_IN_TRANSIT,
        "clearing": ledger.CLEARING,
    }
    await ledger.post(
        conn,
        key=f"payout:{row.id}:{suffix}",
        kind=kind,
        lines=[ledger.Line(accounts[debit], row.amount), ledger.Line(accounts[credit], -row.amount)],
        memo=memo,
        actor=actor,
    )


async def _get(payout_id: int) -> Payout:
    row = await Payout.get_or_none(id=payout_id)
    if row is None:
        raise PayoutError.NOT_FOUND.error()
    return row


async def _audit(conn, staff: Staff, action: str, row: Payout, after: dict) -> None:
    await audit.record(
        actor=staff.actor,
        action=action,
        object_type="payout",
        object_id=row.id,
        summary=f"提现 {row.out_bill_no} ¥{fen_to_yuan(row.amount)}",
        before={"status": row.status.value},
        after=after,
        connection=conn,
    )
