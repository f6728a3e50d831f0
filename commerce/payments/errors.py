from commerce.errors import ErrorCode, ErrorKind


class PaymentError(ErrorCode):
    NOT_PAYABLE = ("order_not_payable", ErrorKind.CONFLICT, "订单当前状态无法支付")
    PAY_EXPIRED = ("payment_expired", ErrorKind.CONFLICT, "订单已超过支付时间，请重新下单")
    ALREADY_PAID = ("order_already_paid", ErrorKind.CONFLICT, "订单已支付，请勿重复付款")
    PAY_UNAVAILABLE = ("payment_unavailable", ErrorKind.UNAVAILABLE, "微信支付暂时不可用，请稍后再试")
    NOT_REFUNDABLE = (
        "order_not_refundable",
        ErrorKind.CONFLICT,
        "订单当前状态不能申请退款（已发货的订单请联系客服）",
    )
    INVALID_REFUND_REASON = ("invalid_refund_reason", ErrorKind.INVALID, "请填写退款原因（1-80 字）")
    # For WeChat Pay's callbacks: answered FAIL, nothing changes.
    NOTIFICATION_REJECTED = ("notification_rejected", ErrorKind.FORBIDDEN, "通知验签失败")
    NOTIFICATION_MISMATCH = ("notification_mismatch", ErrorKind.INVALID, "通知内容与订单不符")
