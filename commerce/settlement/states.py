"""A merchant's settlement statement: its lifecycle, and the periods statements cover."""

from __future__ import annotations

from enum import StrEnum


class StatementStatus(StrEnum):
    ISSUED = "issued"  # frozen with its items: finance checks it
    APPROVED = "approved"  # finance agreed the figures: the bank transfer may go
    PAID = "paid"  # transferred outside; the bank reference and date recorded, the books posted: final
    # Nothing owed (the merchant owes, or zero): the next statement takes its amount: final.
    CARRIED = "carried"


ALLOWED_TRANSITIONS: dict[StatementStatus, set[StatementStatus]] = {
    StatementStatus.ISSUED: {StatementStatus.APPROVED, StatementStatus.CARRIED},
    StatementStatus.APPROVED: {StatementStatus.PAID, StatementStatus.CARRIED},
    StatementStatus.PAID: set(),
    StatementStatus.CARRIED: set(),
}

STATUS_TEXT = {
    StatementStatus.ISSUED: "待审核",
    StatementStatus.APPROVED: "已审核待付款",
    StatementStatus.PAID: "已付款",
    StatementStatus.CARRIED: "已结转下期",
}


class SettlementPeriod(StrEnum):
    DAILY = "daily"  # an Asia/Shanghai calendar day
    WEEKLY = "weekly"  # Monday to Sunday, Asia/Shanghai


class StatementEventType(StrEnum):
    ISSUED = "issued"  # params: items, owed
    STATUS_CHANGED = "status_changed"  # approved, paid (params: reference, paid_on), carried
