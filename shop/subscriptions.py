"""Who listens to what: the one subscription table of the service.

The core publishes typed events (each context's `events.py`) through the outbox; this table,
built from the started core's adapters, names each subscriber. The outbox records delivery per
(event, subscriber name), so keep a name once it has run: renaming it delivers again what the
old name had not finished, and a removed name's pending deliveries are closed.

Catalogue (topic: payload fields → subscribers):

- `order.created` (OrderPlaced): order_id → nobody yet.
- `order.status_changed` (OrderStatusChanged): order_id, from, to →
  `shipping.upload_shipping_info` (to shipped: WeChat's mini-program shipping upload);
  `payments.close_cancelled_prepays` (to cancelled: close its open prepays at WeChat Pay);
  `referrals.void_attribution` (to cancelled: an unpaid order's KOL attribution is void).
- `refund.requested` (RefundRequested): refund_id → `payments.submit_refund` (ask WeChat Pay).
- `refund.succeeded` (RefundSucceeded): refund_id, order_id, aftersale_id (None: an automatic
  refund, or written before after-sales) → `aftersales.refund_succeeded` (the request is
  refunded; the order closes when nothing it sold is left); `ledger.post_refund` (the REFUND
  entry: commission and fee reversed in proportion, or the returned money of an automatic one);
  `community.reverse_leader_commission` (the leader's commission reversed in proportion);
  `referrals.reverse_kol_commissions` (each level's KOL commission reversed in proportion).
- `payment.received` (PaymentReceived): payment_id, paid_order_ids, returned_order_ids, amount
  (fen) → `ledger.post_payment` (the PAYMENT entry: clearing, commission, fee, merchant payable;
  refunds due for the orders it could not pay); `community.accrue_leader_commission` (the
  leader whose binding was in force at payment stamped on each community order, then that
  leader's commission accrued, pending); `referrals.freeze_attribution` (the order's KOL
  attribution frozen and counted in the funnel, then the KOLs' commissions accrued).
- `refund.failed` (RefundFailed): refund_id, order_id, aftersale_id → `aftersales.refund_failed`
  (a timeline row: staff see the failure and what to do).
- `aftersale.status_changed` (AfterSaleStatusChanged): aftersale_id, order_id, user_id,
  from_status ("" when asked), to_status → `bot.tell_shopper_aftersale` (official-account
  message to the shopper: approved, with the return address when the goods go back; refused,
  with the reason; refunded, with the amount).
- `payment.returned` (PaymentReturned): order_id, user_id, amount (fen), reason, paid_twice →
  `payments.tell_shopper_money_returned` (official-account message to the shopper).
- `fulfilment.status_changed` (FulfilmentStatusChanged): fulfilment_id, order_id, kind, from, to →
  `fulfilment.tell_shopper_ready` (awaiting → ready: an official-account message that the order
  waits at its chosen point); nothing else yet (an express parcel delivered, a pickup picked up;
  the order's own move to shipped is what WeChat's shipping upload follows).
- `community.batch_arrived` (BatchArrived): batch_id → `community.ready_batch_orders` (each
  order of the batch made ready at its point with a fresh code; safe to run again).
- `payout.approved` (PayoutApproved): payout_id → `payouts.submit_transfer` (WeChat Pay's
  merchant transfer; retried with the same out_bill_no until WeChat Pay's answer is known).
- `payout.finished` (PayoutFinished): payout_id, user_id, amount, status, reason →
  `payouts.tell_payee` (official-account message: in their WeChat balance, or back in their
  balance with the reason).
- `group.succeeded` (GroupSucceeded), `group.failed` (GroupFailed): group_id →
  `groupbuy.tell_succeeded`, `groupbuy.tell_failed` (official-account message to each paid
  member: shipped soon, or refunded in full).
- `group.member_moved` (GroupMemberMoved): group_id, user_id, order_id →
  `groupbuy.tell_moved` (their group was full: a new one was opened for them).
- `catalog.product_changed` (ProductChanged): product_id → nobody yet (search refreshes by its
  change counter).
- `leader.approved` / `leader.refused` / `leader.suspended` / `leader.reinstated` (community
  events): leader_id, user_id (reason) → `community.tell_applicant_*` (official-account message
  to the applicant). `leader.applied`, `leader.shopper_bound` → nobody yet.
- `kol.reviewed` (KolReviewed): kol_id, user_id, status, reason, from_status →
  `referrals.tell_kol_reviewed` (official-account message to the KOL: approved or invited,
  refused, suspended, reinstated). `kol.applied` → nobody yet.

Without WeChat Pay configured the payment subscribers are left out (their events are closed
undelivered, as they were before the table existed).
"""

from __future__ import annotations

from bot import notices
from commerce.aftersales import handlers as aftersales
from commerce.aftersales.events import AfterSaleStatusChanged
from commerce.community import batches as community_batches
from commerce.community import commissions as leader_commissions
from commerce.community import notices as community_notices
from commerce.community import pickup_notices
from commerce.community.events import (
    BatchArrived,
    LeaderApproved,
    LeaderRefused,
    LeaderReinstated,
    LeaderSuspended,
)
from commerce.core import Core
from commerce.fulfilment import handlers as fulfilment
from commerce.fulfilment.events import FulfilmentStatusChanged
from commerce.fulfilment.states import FulfilmentStatus
from commerce.groupbuy import handlers as groupbuy
from commerce.groupbuy.events import GroupFailed, GroupMemberMoved, GroupSucceeded
from commerce.ledger import handlers as ledger
from commerce.orders.events import OrderStatusChanged
from commerce.orders.states import OrderStatus
from commerce.outbox import Subscriber
from commerce.payments import handlers as payments
from commerce.payments.events import (
    PaymentReceived,
    PaymentReturned,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from commerce.payouts import notices as payout_notices
from commerce.payouts import transfers as payouts
from commerce.payouts.events import PayoutApproved, PayoutFinished
from commerce.referrals import commissions as kol_commissions
from commerce.referrals import notices as kol_notices
from commerce.referrals import paid as referral_paid
from commerce.referrals.events import KolReviewed
from commerce.shipping import services as shipping


def subscribers(core: Core) -> list[Subscriber]:
    """The table, bound to the core's clients (called by the core when it starts)."""
    wechat, mp, pay, notifier = core.wechat, core.mp, core.pay, core.notifier
    table: list[Subscriber] = [
        # The books first: an event's subscribers run in this order, so once after-sales has
        # heard of a refund (and the order closed), its money is in the books too.
        Subscriber("ledger.post_payment", PaymentReceived, ledger.post_payment),
        Subscriber("ledger.post_refund", RefundSucceeded, ledger.post_refund),
        # Leaders' commissions, next to the books: the leader in force at payment stamped on a
        # community order, then their commission accrued (one subscriber: never an accrual
        # before its stamp); reversed by refunds.
        Subscriber(
            "community.accrue_leader_commission",
            PaymentReceived,
            lambda e: leader_commissions.accrue_paid(
                e, default_bps=core.settings.leader_commission_default_bps
            ),
        ),
        Subscriber(
            "community.reverse_leader_commission", RefundSucceeded, leader_commissions.reverse_refunded
        ),
        # KOL referral: a paid order's attribution frozen and counted in its KOL's funnel, then
        # its commissions accrued (one subscriber: never an accrual before the freeze); an order
        # cancelled unpaid voids its attribution.
        Subscriber("referrals.freeze_attribution", PaymentReceived, referral_paid.on_paid),
        Subscriber("referrals.reverse_kol_commissions", RefundSucceeded, kol_commissions.reverse_refunded),
        Subscriber(
            "referrals.void_attribution",
            OrderStatusChanged,
            referral_paid.on_cancelled,
            when=lambda e: e.to_status is OrderStatus.CANCELLED,
        ),
        Subscriber(
            "shipping.upload_shipping_info",
            OrderStatusChanged,
            lambda e: shipping.upload_shipping_info(order_id=e.order_id, wechat=wechat),
            when=lambda e: e.to_status is OrderStatus.SHIPPED,
        ),
        Subscriber(
            "fulfilment.tell_shopper_ready",
            FulfilmentStatusChanged,
            lambda e: fulfilment.tell_shopper_ready(e, mp=mp, unless=pickup_notices.is_community_order),
            when=lambda e: e.to_status is FulfilmentStatus.READY,
        ),
        Subscriber(
            "community.tell_shopper_pickup_code",
            FulfilmentStatusChanged,
            lambda e: pickup_notices.tell_shopper_ready_with_code(e, notifier=notifier),
            when=lambda e: e.to_status is FulfilmentStatus.READY,
        ),
        Subscriber("community.ready_batch_orders", BatchArrived, community_batches.on_batch_arrived),
        Subscriber(
            "aftersales.refund_succeeded",
            RefundSucceeded,
            aftersales.refund_succeeded,
            when=lambda e: e.aftersale_id is not None,
        ),
        Subscriber(
            "aftersales.refund_failed",
            RefundFailed,
            aftersales.refund_failed,
            when=lambda e: e.aftersale_id is not None,
        ),
        Subscriber(
            "bot.tell_shopper_aftersale",
            AfterSaleStatusChanged,
            lambda e: notices.tell_shopper_aftersale(e, mp=mp),
            when=notices.tells_shopper,
        ),
        Subscriber("payouts.tell_payee", PayoutFinished, lambda e: payout_notices.tell_payee(e, mp=mp)),
        Subscriber(
            "groupbuy.tell_succeeded", GroupSucceeded, lambda e: groupbuy.tell_members(e, notifier=notifier)
        ),
        Subscriber(
            "groupbuy.tell_failed", GroupFailed, lambda e: groupbuy.tell_members(e, notifier=notifier)
        ),
        Subscriber(
            "groupbuy.tell_moved", GroupMemberMoved, lambda e: groupbuy.tell_moved(e, notifier=notifier)
        ),
    ]
    table += [
        Subscriber(f"community.tell_applicant_{kind.topic.removeprefix('leader.')}", kind, tell)
        for kind in (LeaderApproved, LeaderRefused, LeaderSuspended, LeaderReinstated)
        for tell in [lambda e: community_notices.tell_applicant(e, notifier=notifier)]
    ]
    table.append(
        Subscriber(
            "referrals.tell_kol_reviewed", KolReviewed, lambda e: kol_notices.tell_kol(e, notifier=notifier)
        )
    )
    if pay is not None:
        table += [
            Subscriber(
                "payments.close_cancelled_prepays",
                OrderStatusChanged,
                lambda e: payments.close_open_attempts(order_id=e.order_id, pay=pay),
                when=lambda e: e.to_status is OrderStatus.CANCELLED,
            ),
            Subscriber(
                "payments.submit_refund",
                RefundRequested,
                lambda e: payments.submit_refund(refund_id=e.refund_id, pay=pay),
            ),
            Subscriber(
                "payments.tell_shopper_money_returned",
                PaymentReturned,
                lambda e: payments.tell_shopper_money_returned(e, mp=mp),
            ),
            Subscriber(
                "payouts.submit_transfer",
                PayoutApproved,
                lambda e: payouts.submit(
                    payout_id=e.payout_id,
                    pay=pay,
                    confirm_hours=core.settings.payout_confirm_hours,
                    scene_id=core.settings.payout_transfer_scene_id,
                ),
            ),
        ]
    return table
