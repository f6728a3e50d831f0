from commerce.errors import ErrorCode, ErrorKind


class PayoutError(ErrorCode):
    NOT_FOUND = ("payout_not_found", ErrorKind.NOT_FOUND, "提现记录不存在")
    INVALID_AMOUNT = ("invalid_payout_amount", ErrorKind.INVALID, "提现金额应为正整数（分）")
    BELOW_MINIMUM = ("payout_below_minimum", ErrorKind.INVALID, "提现金额低于最低提现金额")
    ABOVE_DAILY_CAP = ("payout_above_daily_cap", ErrorKind.CONFLICT, "超过今日提现额度")
    NOT_ENOUGH_BALANCE = ("payout_not_enough_balance", ErrorKind.CONFLICT, "可提现余额不足")
    REAL_NAME_REQUIRED = (
        "payout_real_name_required",
        ErrorKind.INVALID,
        "单笔提现金额较大，请填写与微信实名一致的真实姓名",
    )
    INVALID_REAL_NAME = ("invalid_payout_real_name", ErrorKind.INVALID, "真实姓名应为 2-32 个字")
    INVALID_IDEMPOTENCY_KEY = (
        "invalid_idempotency_key",
        ErrorKind.INVALID,
        "请求头 Idempotency-Key 必填（8-64 位字母、数字、- 或 _）",
    )
    INVALID_REFUSAL = (
        "invalid_payout_refusal",
        ErrorKind.INVALID,
        "请填写拒绝原因（1-200 字），收款人会看到",
    )
    # Moved by someone or something else first (approved, refused, paid): refresh and look again.
    ALREADY_HANDLED = ("payout_already_handled", ErrorKind.CONFLICT, "该提现状态已变化，请刷新后查看")
    UNAVAILABLE = ("payouts_unavailable", ErrorKind.UNAVAILABLE, "提现服务暂不可用，请稍后再试")
    # A transfer notification not provably from WeChat Pay (401), or signed but unreadable (400).
    NOTIFICATION_REJECTED = ("payout_notification_rejected", ErrorKind.UNAUTHENTICATED, "通知验签失败")
    NOTIFICATION_MALFORMED = ("payout_notification_malformed", ErrorKind.INVALID, "通知内容无法解析")
    NOTIFICATION_MISMATCH = (
        "payout_notification_mismatch",
        ErrorKind.INVALID,
        "转账通知与提现记录不符",
    )
