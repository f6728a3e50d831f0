"""The jobs. Each is one call into a core service, idempotent on its own."""

from __future__ import annotations

from commerce.aftersales import review as aftersales
from commerce.community import batches as community_batches
from commerce.community import commission_earning as leader_commissions
from commerce.community import pickups as community_pickups
from commerce.core import Core
from commerce.groupbuy import services as groupbuy
from commerce.ledger import checks as ledger
from commerce.orders import services as orders
from commerce.payments.reconcile import reconcile_payments as reconcile
from commerce.payouts import transfers as payouts
from commerce.reconciliation import services as reconciliation
from commerce.referrals import commission_earning as kol_commissions
from commerce.referrals import signals as kol_signals
from commerce.referrals import touches as referral_touches
from commerce.settlement import services as settlement
from commerce.support import conversations


async def cancel_unpaid_orders(core: Core) -> None:
    await orders.cancel_expired_orders()


async def complete_shipped_orders(core: Core) -> None:
    await orders.complete_shipped_orders(after_days=core.settings.order_auto_complete_days)


async def reconcile_payments(core: Core) -> None:
    await reconcile(pay=core.pay)


async def close_idle_conversations(core: Core) -> None:
    await conversations.close_idle_conversations(idle_minutes=30)


async def approve_overdue_aftersales(core: Core) -> None:
    await aftersales.approve_overdue()


async def issue_statements(core: Core) -> None:
    await settlement.issue_statements(
        period=core.settings.settlement_period, window_days=core.settings.aftersales_window_days
    )


async def check_ledger_balances(core: Core) -> None:
    await ledger.check_balances()


async def check_payouts(core: Core) -> None:
    settings = core.settings
    await payouts.check_payouts(
        pay=core.pay, confirm_hours=settings.payout_confirm_hours, scene_id=settings.payout_transfer_scene_id
    )


async def reconcile_bills(core: Core) -> None:
    await reconciliation.reconcile_due(pay=core.pay, ready_hour=core.settings.reconciliation_hour)


async def expire_groups(core: Core) -> None:
    await groupbuy.expire_groups()


async def lapse_group_holds(core: Core) -> None:
    await groupbuy.lapse_holds()


async def cut_off_community_sales(core: Core) -> None:
    await community_batches.cut_off_due_sales()


async def flag_unclaimed_community_orders(core: Core) -> None:
    await community_pickups.flag_unclaimed(after_days=core.settings.community_unclaimed_days)


async def settle_leader_commissions(core: Core) -> None:
    settings = core.settings
    await leader_commissions.settle_due(
        window_days=settings.aftersales_window_days, default_bps=settings.leader_commission_default_bps
    )


async def flush_referral_touches(core: Core) -> None:
    await referral_touches.flush_all(
        core.redis,
        protection_days=core.settings.referral_protection_days,
        batch=core.settings.referral_flush_batch,
    )


async def settle_kol_commissions(core: Core) -> None:
    await kol_commissions.settle_due(window_days=core.settings.aftersales_window_days)


async def check_kol_signals(core: Core) -> None:
    await kol_signals.scan_now(settings=core.settings)
