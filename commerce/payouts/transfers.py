"""An approved payout at WeChat Pay: submitted (and submitted again with the same out_bill_no
until WeChat Pay's answer is known), then whatever WeChat Pay says, from the submission's
answer, the transfer notification or a query, applied once: waiting for the payee's
confirmation, paid (PAYOUT_PAID), or failed / cancelled / not confirmed in time (the money
returns: PAYOUT_RETURNED). A scheduled job asks WeChat Pay about payouts it has not heard of
for a while and cancels those the payee did not confirm in time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from tortoise.expressions import Q

from commerce import clock
from commerce.jobs import services as jobs
from commerce.ledger.states import EntryKind
from commerce.payouts.errors import PayoutError
from commerce.payouts.events import PayoutFinished
from commerce.payouts.lifecycle import PAYOUT, record
from commerce.payouts.models import Payout
from commerce.payouts.services import post_entry
from commerce.payouts.states import AT_WECHAT, PayoutEventType, PayoutStatus
from commerce.transactions import unit_of_work, write_transaction
from commerce.wechat import pay_transfer
from commerce.wechat.pay import (
    NotificationMalformed,
    NotificationRejected,
    WeChatPayClient,
    WeChatPayRefused,
    WeChatPayUnavailable,
)
from commerce.wechat.pay_transfer import TransferBill

log = logging.getLogger(__name__)

ACTOR = "system:wechatpay"
CHECK_JOB = "check_payouts"
STALE = timedelta(minutes=10)  # a payout not heard of for this long is asked about
REMARK = "佣金提现"
# Refusals that another try may change (busy, or the merchant's operating account is short):
# the outbox tries again later, with the same out_bill_no.
RETRY_REFUSALS = frozenset({"FREQUENCY_LIMITED", "SYSTEM_ERROR", "NOT_ENOUGH", "SYSTEMERROR"})
FAIL_REASONS = {
    "OVERDUE_CLOSE": "收款人超时未确认收款，已关闭",
    "USER_REFUSED": "收款人未确认收款",
    "ACCOUNT_FROZEN": "收款人微信账户被冻结",
    "REAL_NAME_CHECK_FAIL": "收款人未实名认证",
    "NAME_NOT_CORRECT": "收款人姓名与微信实名不一致",
    "OPENID_INVALID": "收款人 OpenID 无效",
    "TRANSFER_QUOTA_EXCEED": "超过收款人的收款额度",
    "DAY_RECEIVED_QUOTA_EXCEED": "超过收款人当日收款额度",
    "ACCOUNT_NOT_EXIST": "收款人微信账户不存在",
}


async def submit(*, payout_id: int, pay: WeChatPayClient, confirm_hours: int, scene_id: str) -> None:
    """Ask WeChat Pay to transfer an approved payout (the outbox's subscriber). An unknown
    outcome raises, and the outbox asks again later with the same out_bill_no."""
    row = await Payout.get_or_none(id=payout_id)
    if row is None or row.status is not PayoutStatus.APPROVED:
        return
    try:
        bill = await pay_transfer.transfer(
            pay,
            out_bill_no=row.out_bill_no,
            openid=row.openid,
            amount=row.amount,
            remark=REMARK,
            user_name_cipher=row.real_name_cipher,
            scene_id=scene_id,
        )
    except WeChatPayUnavailable as exc:
        await _note(row, PayoutEventType.SUBMIT_FAILED, {"why": str(exc)[:200]})
        raise
    except WeChatPayRefused as refused:
        if refused.code in RETRY_REFUSALS:
            await _note(
                row, PayoutEventType.SUBMIT_FAILED, {"code": refused.code, "why": refused.message[:200]}
            )
            raise
        # Final for this request, but did an earlier try make a bill? Only when WeChat Pay
        # knows none is a new number safe (the money returns and may be withdrawn again).
        found = await pay_transfer.query(pay, row.out_bill_no)
        if found is None:
            await fail_unsubmitted(row, f"微信支付拒绝转账：{refused.message}"[:200], refused.code)
            return
        bill = found
    await _note(
        row, PayoutEventType.SUBMITTED, {"state": bill.state, "transfer_bill_no": bill.transfer_bill_no}
    )
    await apply_bill(bill, confirm_hours=confirm_hours)


@unit_of_work
async def _note(row: Payout, type_: PayoutEventType, params: dict[str, Any]) -> None:
    async with write_transaction() as conn:
        await record(conn, row.id, type_, ACTOR, params=params)


@unit_of_work
async def fail_unsubmitted(row: Payout, why: str, code: str) -> None:
    await _end(row, PayoutStatus.FAILED, failure=why, params={"code": code})


async def on_notification(*, pay: WeChatPayClient | None, headers: Any, body: bytes) -> None:
    """POST /pay/wechat/transfer-notify: verify, decrypt, apply once. A notification that
    does not verify or match raises (answered FAIL, nothing changed)."""
    if pay is None:
        raise PayoutError.NOTIFICATION_REJECTED.error()
    try:
        notification = pay.open_notification(headers, body)
        if notification.event_type != pay_transfer.NOTIFY_EVENT:
            log.info("transfer notification %s ignored: %s", notification.id, notification.event_type)
            return
        bill = pay_transfer.read_bill(notification.resource)
    except NotificationMalformed as exc:
        log.error("WeChat Pay transfer notification unreadable: %s", exc)
        raise PayoutError.NOTIFICATION_MALFORMED.error() from None
    except NotificationRejected as exc:
        log.warning("WeChat Pay transfer notification refused: %s", exc)
        raise PayoutError.NOTIFICATION_REJECTED.error() from None
    if bill.mch_id and bill.mch_id != pay.credentials.mchid:
        raise PayoutError.NOTIFICATION_MISMATCH.error()
    await apply_bill(bill)


async def apply_bill(bill: TransferBill, *, confirm_hours: int = pay_transfer.CONFIRM_HOURS) -> None:
    """Apply what WeChat Pay says of a bill, once (a repeat finds the payout moved already)."""
    row = await Payout.get_or_none(out_bill_no=bill.out_bill_no)
    if row is None or (bill.amount is not None and bill.amount != row.amount):
        log.error("transfer bill %s does not match our payouts", bill.out_bill_no)
        raise PayoutError.NOTIFICATION_MISMATCH.error()
    if bill.state == "SUCCESS":
        await _paid(row, bill)
    elif bill.state in ("FAIL", "CANCELLED"):
        why = FAIL_REASONS.get(bill.fail_reason, bill.fail_reason) if bill.state == "FAIL" else "转账已撤销"
        to = PayoutStatus.CANCELLED if bill.state == "CANCELLED" else PayoutStatus.FAILED
        await _end(row, to, failure=why or "转账失败", bill=bill)
    elif bill.state == "WAIT_USER_CONFIRM":
        await _waiting(row, bill, confirm_hours)
    else:  # ACCEPTED, PROCESSING, TRANSFERING, CANCELING: on its way
        await _at_wechat(row, bill)


def _bill_changes(bill: TransferBill) -> dict[str, Any]:
    changes: dict[str, Any] = {"wechat_state": bill.state}
    if bill.transfer_bill_no:
        changes["transfer_bill_no"] = bill.transfer_bill_no
    return changes


@unit_of_work
async def _waiting(row: Payout, bill: TransferBill, confirm_hours: int) -> None:
    now = clock.now()
    async with write_transaction() as conn:
        await PAYOUT.try_move(
            conn,
            row.id,
            PayoutStatus.APPROVED,
            PayoutStatus.WAITING_CONFIRMATION,
            actor=ACTOR,
            changes={
                **_bill_changes(bill),
                "package_info": bill.package_info,
                "submitted_at": row.submitted_at or now,
                "confirm_deadline": (row.submitted_at or now) + timedelta(hours=confirm_hours),
            },
        )


@unit_of_work
async def _at_wechat(row: Payout, bill: TransferBill) -> None:
    async with write_transaction() as conn:
        await (
            Payout.filter(id=row.id, status__in=AT_WECHAT)
            .using_db(conn)
            .update(
                **_bill_changes(bill), submitted_at=row.submitted_at or clock.now(), updated_at=clock.now()
            )
        )


@unit_of_work
async def _paid(row: Payout, bill: TransferBill) -> None:
    now = clock.now()
    async with write_transaction() as conn:
        moved = await PAYOUT.try_move(
            conn,
            row.id,
            AT_WECHAT,
            PayoutStatus.SUCCEEDED,
            actor=ACTOR,
            params={"transfer_bill_no": bill.transfer_bill_no},
            changes={**_bill_changes(bill), "package_info": None, "finished_at": now},
            event=PayoutFinished(row.id, row.payee_user_id, row.amount, PayoutStatus.SUCCEEDED.value),
        )
        if moved is None:
            return  # told before
        memo = f"提现 {row.out_bill_no} 已到账（微信转账单 {bill.transfer_bill_no}）"
        await post_entry(conn, row, EntryKind.PAYOUT_PAID, memo=memo, actor=ACTOR)


@unit_of_work
async def _end(
    row: Payout,
    to: PayoutStatus,
    *,
    failure: str,
    bill: TransferBill | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """Failed or cancelled: the money returns to the payee's balance, once."""
    async with write_transaction() as conn:
        moved = await PAYOUT.try_move(
            conn,
            row.id,
            AT_WECHAT,
            to,
            actor=ACTOR,
            params={"why": failure, **(params or {})},
            changes={
                **(_bill_changes(bill) if bill is not None else {}),
                "package_info": None,
                "failure_reason": failure[:200],
                "finished_at": clock.now(),
            },
            event=PayoutFinished(row.id, row.payee_user_id, row.amount, to.value, failure[:200]),
        )
        if moved is None:
            return
        memo = f"提现 {row.out_bill_no} 未成功，退回余额：{failure}"
        await post_entry(conn, row, EntryKind.PAYOUT_RETURNED, memo=memo, actor=ACTOR)


async def check_payouts(*, pay: WeChatPayClient | None, confirm_hours: int, scene_id: str) -> int:
    """The job: ask WeChat Pay about payouts not heard of for a while (a lost answer or
    notification), submit again those it never got, and cancel those the payee did not confirm
    in time (the cancellation's notification returns the money)."""
    if pay is None:
        return 0
    now = clock.now()
    put_off = await jobs.put_off(job=CHECK_JOB, item_kind="payout")
    due = (
        await Payout.filter(
            Q(updated_at__lt=now - STALE) | Q(confirm_deadline__lte=now), status__in=AT_WECHAT
        )
        .exclude(id__in=put_off)
        .order_by("id")
        .limit(200)
        .values_list("id", flat=True)
    )

    async def check(payout_id: int) -> bool:
        return await check_one(payout_id, pay=pay, confirm_hours=confirm_hours, scene_id=scene_id)

    return await jobs.each_item(job=CHECK_JOB, item_kind="payout", items=due, item_id=int, handle=check)


async def check_one(payout_id: int, *, pay: WeChatPayClient, confirm_hours: int, scene_id: str) -> bool:
    row = await Payout.get(id=payout_id)
    if row.status not in AT_WECHAT:
        return False
    bill = await pay_transfer.query(pay, row.out_bill_no)
    if bill is None:
        if row.status is PayoutStatus.APPROVED:  # never reached WeChat Pay: the same number again
            await submit(payout_id=row.id, pay=pay, confirm_hours=confirm_hours, scene_id=scene_id)
            return True
        raise PayoutError.NOTIFICATION_MISMATCH.error(f"WeChat Pay knows no bill {row.out_bill_no}")
    await apply_bill(bill, confirm_hours=confirm_hours)
    row = await Payout.get(id=payout_id)
    if (
        row.status is PayoutStatus.WAITING_CONFIRMATION
        and row.confirm_deadline is not None
        and row.confirm_deadline <= clock.now()
    ):
        try:
            answer = await pay_transfer.cancel(pay, row.out_bill_no)
        except WeChatPayRefused as refused:  # confirmed meanwhile: the next query says so
            log.info("cancel of %s refused: %s", row.out_bill_no, refused)
            return True
        await _note(row, PayoutEventType.CANCEL_ASKED, {"state": answer.state})
        await apply_bill(answer, confirm_hours=confirm_hours)
    return True
