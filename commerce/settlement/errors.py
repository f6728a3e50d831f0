from commerce.errors import ErrorCode, ErrorKind


class SettlementError(ErrorCode):
    # No such statement, or another merchant's.
    NOT_FOUND = ("statement_not_found", ErrorKind.NOT_FOUND, "结算单不存在")
    # Approved, paid or carried by someone else first, or not in the state the action needs.
    ALREADY_HANDLED = ("statement_already_handled", ErrorKind.CONFLICT, "该结算单状态已变化，请刷新后查看")
    NOTHING_OWED = (
        "statement_nothing_owed",
        ErrorKind.CONFLICT,
        "本结算单应付金额不大于 0（商家欠平台），不能标记已付款，将结转到下一期结算单",
    )
    INVALID_REFERENCE = ("invalid_bank_reference", ErrorKind.INVALID, "请填写银行转账流水号（1-64 字）")
    INVALID_PAID_ON = (
        "invalid_paid_on",
        ErrorKind.INVALID,
        "请填写付款日期（YYYY-MM-DD），不能晚于今天",
    )
