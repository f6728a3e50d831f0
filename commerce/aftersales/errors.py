from commerce.errors import ErrorCode, ErrorKind


class AfterSaleError(ErrorCode):
    NOT_FOUND = ("aftersale_not_found", ErrorKind.NOT_FOUND, "售后申请不存在")
    # The order is not paid, is closed, or its after-sales window has passed.
    NOT_ALLOWED = ("aftersale_not_allowed", ErrorKind.CONFLICT, "该订单当前不能申请售后")
    # Paid for a 拼团 seat: refunded in full by itself if the group fails.
    WAITING_FOR_GROUP = ("order_waiting_for_group", ErrorKind.CONFLICT, "拼团进行中，成团或失败后再申请售后")
    WINDOW_PASSED = ("aftersale_window_passed", ErrorKind.CONFLICT, "订单已超过售后期限，请联系客服")
    INVALID_LINES = ("invalid_aftersale_lines", ErrorKind.INVALID, "请选择要退款的商品和数量")
    # More units or money than the line has left (paid, less what is refunded or asked for).
    EXCEEDS_LINE = ("aftersale_exceeds_line", ErrorKind.CONFLICT, "退款数量或金额超过该商品可退部分")
    INVALID_KIND = ("invalid_aftersale_kind", ErrorKind.INVALID, "售后类型无效（仅退款或退货退款）")
    RETURN_BEFORE_SHIPMENT = (
        "return_before_shipment",
        ErrorKind.CONFLICT,
        "商品尚未发货，无需退货，请选择仅退款",
    )
    INVALID_REASON = ("invalid_aftersale_reason", ErrorKind.INVALID, "请选择售后原因")
    INVALID_DESCRIPTION = ("invalid_aftersale_description", ErrorKind.INVALID, "问题描述最多 500 字")
    TOO_MANY_PHOTOS = ("too_many_aftersale_photos", ErrorKind.INVALID, "凭证图片最多 9 张")
    INVALID_PHOTO = ("invalid_aftersale_photo", ErrorKind.INVALID, "凭证图片无效，请重新上传")
    INVALID_TRACKING = ("invalid_return_tracking", ErrorKind.INVALID, "请填写正确的退货快递公司和单号")
    INVALID_REFUSAL = (
        "invalid_aftersale_refusal",
        ErrorKind.INVALID,
        "请填写拒绝原因（1-200 字），买家会看到",
    )
    # Moved by someone else first (reviewed, cancelled, received): refresh and look again.
    ALREADY_HANDLED = ("aftersale_already_handled", ErrorKind.CONFLICT, "该售后申请状态已变化，请刷新后查看")
    OVER_AGENT_LIMIT = (
        "aftersale_over_agent_limit",
        ErrorKind.FORBIDDEN,
        "退款金额超过客服可处理的额度，请由商家或平台管理员处理",
    )
