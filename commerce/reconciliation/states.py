"""A day's reconciliation with WeChat Pay's bills: its run, and the differences it found."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"  # downloading and comparing the day's bills
    DONE = "done"  # compared; its differences are listed (none on a clean day)
    FAILED = "failed"  # the bills could not be had or read (not ready yet, tampered): tried again


RUN_TRANSITIONS: dict[RunStatus, set[RunStatus]] = {
    RunStatus.RUNNING: {RunStatus.DONE, RunStatus.FAILED, RunStatus.RUNNING},  # RUNNING: a stale claim
    RunStatus.DONE: {RunStatus.RUNNING},  # run again when a finance person asks
    RunStatus.FAILED: {RunStatus.RUNNING},
}


class DifferenceKind(StrEnum):
    MISSING_AT_WECHAT = "missing_at_wechat"  # we have it that day, the bill has not
    MISSING_HERE = "missing_here"  # the bill has it, we do not
    AMOUNT = "amount"  # both have it, the amounts differ
    STATE = "state"  # both have it, one says it succeeded and the other not


class DifferenceStatus(StrEnum):
    OPEN = "open"  # a finance person is to look into it
    RESOLVED = "resolved"  # looked into and settled, with a note: final


DIFFERENCE_TRANSITIONS: dict[DifferenceStatus, set[DifferenceStatus]] = {
    DifferenceStatus.OPEN: {DifferenceStatus.RESOLVED},
    DifferenceStatus.RESOLVED: set(),
}


class Subject(StrEnum):
    PAYMENT = "payment"  # a WeChat Pay transaction (out_trade_no)
    REFUND = "refund"  # a refund (out_refund_no)


class Source(StrEnum):
    TRADE = "trade"  # the trade bill (交易账单)
    FUND_FLOW = "fund_flow"  # the basic account's fund-flow bill (资金账单)
