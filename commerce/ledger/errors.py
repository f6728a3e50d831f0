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
    INVALID_RATE = (
        "invalid_commission_rate",
        ErrorKind.INVALID,
        "佣金费率须在 0 到 10000 个基点（0%–100%）之间",
    )
    CATEGORY_NOT_FOUND = ("commission_category_not_found", ErrorKind.NOT_FOUND, "类目不存在")
    # A refund arrived before its payment was posted (the payment's posting is retried first).
    PAYMENT_NOT_POSTED = ("ledger_payment_not_posted", ErrorKind.CONFLICT, "订单的支付尚未入账")
