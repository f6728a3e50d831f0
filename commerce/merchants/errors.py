from commerce.errors import ErrorCode, ErrorKind


class MerchantError(ErrorCode):
    NOT_FOUND = ("merchant_not_found", ErrorKind.NOT_FOUND, "商家不存在")
    INVALID = (
        "invalid_merchant",
        ErrorKind.INVALID,
        "请填写商家名称（1-100 字）和编码（2-32 位小写字母、数字或短横线）",
    )
    CODE_TAKEN = ("merchant_code_taken", ErrorKind.CONFLICT, "商家编码已被使用")
    REASON_REQUIRED = ("suspension_reason_required", ErrorKind.INVALID, "请填写暂停原因（200 字以内）")
    CHANGED = ("merchant_changed", ErrorKind.CONFLICT, "商家状态刚被他人修改，请刷新后再试")
