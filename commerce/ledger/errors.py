from commerce.errors import ErrorCode, ErrorKind


class LedgerError(ErrorCode):
    # A bug, never a user's mistake: the postings of an entry must sum to zero.
    UNBALANCED = ("ledger_unbalanced", ErrorKind.INVALID, "记账分录借贷不平")
    # A withdrawal or a correction would take more than the account holds.
    INSUFFICIENT_BALANCE = ("ledger_insufficient_balance", ErrorKind.CONFLICT, "可用余额不足")
    INVALID_ADJUSTMENT = (
        "invalid_ledger_adjustment",
        ErrorKind.INVALID,
        "请填写调整金额（分）和原因（1-200 字）",
    )
    ACCOUNT_NOT_FOUND = ("ledger_account_not_found", ErrorKind.NOT_FOUND, "账户不存在")
