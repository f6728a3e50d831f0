from commerce.errors import ErrorCode, ErrorKind


class PaymentError(ErrorCode):
    NOT_PAYABLE = ("order_not_payable", ErrorKind.CONFLICT, "订单当前状态无法支付")
    PAY_EXPIRED = ("payment_expired", ErrorKind.CONFLICT, "订单已超过支付时间，请重新下单")
    ALREADY_PAID = ("order_already_paid", ErrorKind.CONFLICT, "订单已支付，请勿重复付款")
    PAY_UNAVAILABLE = ("payment_unavailable", ErrorKind.UNAVAILABLE, "微信支付暂时不可用，请稍后再试")
    NOT_REFUNDABLE = (
        "order_not_refundable",
        ErrorKind.CONFLICT,
        "订单当前状态不能申请退款（已完成的订单请联系客服）",
    )
    INVALID_REFUND_REASON = ("invalid_refund_reason", ErrorKind.INVALID, "请填写退款原因（1-80 字）")
    INVALID_REFUND_AMOUNT = ("invalid_refund_amount", ErrorKind.INVALID, "退款金额须为大于 0 的整数（分）")
    # One merchant's order never returns more than it was paid (less what is refunded already).
    REFUND_EXCEEDS_PAID = (
        "refund_exceeds_paid",
        ErrorKind.CONFLICT,
        "退款金额超过该订单可退金额（实付减去已退或退款中的金额）",
    )
    # For WeChat Pay's callbacks: answered FAIL, nothing changes.
    NOTIFICATION_REJECTED = ("notification_rejected", ErrorKind.FORBIDDEN, "通知验签失败")
    NOTIFICATION_MISMATCH = ("notification_mismatch", ErrorKind.INVALID, "通知内容与订单不符")
    NOTIFICATION_MALFORMED = ("notification_malformed", ErrorKind.INVALID, "通知内容无法读取")


class RefundError(ErrorCode):
    """Staff handling refunds: review, refusal, retry."""

    NOT_FOUND = ("refund_not_found", ErrorKind.NOT_FOUND, "退款申请不存在")
    ALREADY_REVIEWED = ("refund_already_reviewed", ErrorKind.CONFLICT, "该退款申请已处理，请刷新页面查看")
    OVER_AGENT_LIMIT = (
        "refund_over_agent_limit",
        ErrorKind.FORBIDDEN,
        "退款金额超过客服可处理的额度，请由商家或平台管理员处理",
    )
    NOT_RETRYABLE = (
        "refund_not_retryable",
        ErrorKind.CONFLICT,
        "只有失败且尚未重新提交的退款可以重新提交",
    )
    # ABNORMAL: the bank refused the original path (a closed or frozen card). WeChat Pay keeps
    # the money and counts it as refunded, so a new out_refund_no would be refused.
    ABNORMAL = (
        "refund_abnormal",
        ErrorKind.CONFLICT,
        "微信支付退款异常（如买家银行卡已注销或冻结），款项仍在微信支付：请在微信支付商户平台"
        "「交易中心-退款」手动处理（处理后退款会自动完成），不能重新提交",
    )
