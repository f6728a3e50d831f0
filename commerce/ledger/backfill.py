"""The books' catch-up: post what they lack — payments paid and refunds succeeded before the
books existed (a shop upgraded from before them), or whose event has not been delivered.

Each posts under the key its subscriber would use, so a catch-up racing a subscriber posts once.
`shop migrate` runs it after the schema is current; a payment's entry goes before its refunds'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from commerce.config import Settings
from commerce.db import close_db, init_db
from commerce.ledger import handlers
from commerce.ledger import queries as ledger
from commerce.ledger.services import is_posted
from commerce.payments import queries as payments
from commerce.payments.events import PaymentReceived, RefundSucceeded

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class CaughtUp:
    payments: int = 0
    refunds: int = 0


async def post_missing() -> CaughtUp:
    """Post every paid payment's and every succeeded refund's entry not in the books yet."""
    done = CaughtUp()
    after = 0
    while batch := await payments.paid_payments_after(after, limit=BATCH):
        for p in batch:
            if not await is_posted(f"payment:{p.id}"):
                await handlers.post_payment(
                    PaymentReceived(
                        payment_id=p.id,
                        paid_order_ids=p.paid_order_ids,
                        returned_order_ids=p.returned_order_ids,
                        amount=p.amount,
                    )
                )
                done.payments += 1
        after = batch[-1].id
    after = 0
    while refunds := await payments.succeeded_refunds_after(after, limit=BATCH):
        for r in refunds:
            if not await is_posted(f"refund:{r.id}"):
                await handlers.post_refund(
                    RefundSucceeded(refund_id=r.id, order_id=r.order_id, aftersale_id=r.aftersale_id)
                )
                done.refunds += 1
        after = refunds[-1].id
    if done.payments or done.refunds:
        log.info("books caught up: %d payments and %d refunds posted", done.payments, done.refunds)
    return done


async def catch_up(settings: Settings) -> CaughtUp:
    """`shop migrate`'s last step, on a schema already current: connect, post what is missing."""
    await init_db(settings)
    try:
        ledger.configure(
            commission_default_bps=settings.commission_default_bps, payment_fee_bps=settings.payment_fee_bps
        )
        return await post_missing()
    finally:
        await close_db()
