from commerce.errors import ErrorCode, ErrorKind


class ReconciliationError(ErrorCode):
    INVALID_DATE = (
        "invalid_bill_date",
        ErrorKind.INVALID,
        "请填写账单日期，格式如 2026-12-06，且不晚于昨天",
    )
    # WeChat Pay makes a day's bills after 10:00 the next day.
    BILL_NOT_READY = (
        "bill_not_ready",
        ErrorKind.CONFLICT,
        "微信支付尚未生成该日账单（次日 10 点后生成），请稍后再试",
    )
    BILL_TAMPERED = (
        "bill_tampered",
        ErrorKind.CONFLICT,
        "下载的账单文件与微信支付给出的哈希值不符，已拒绝读取",
    )
    BILL_UNREADABLE = (
        "bill_unreadable",
        ErrorKind.CONFLICT,
        "账单文件格式不正确，无法读取",
    )
    WECHAT_PAY_UNAVAILABLE = (
        "bill_download_failed",
        ErrorKind.UNAVAILABLE,
        "暂时无法从微信支付下载账单，请稍后再试",
    )
    NOT_CONFIGURED = (
        "wechat_pay_not_configured",
        ErrorKind.CONFLICT,
        "未配置微信支付商户，无法对账",
    )
    ALREADY_RUNNING = (
        "reconciliation_running",
        ErrorKind.CONFLICT,
        "该日对账正在进行，请稍后刷新",
    )
    DIFFERENCE_NOT_FOUND = (
        "reconciliation_difference_not_found",
        ErrorKind.NOT_FOUND,
        "差异记录不存在",
    )
    ALREADY_RESOLVED = (
        "reconciliation_difference_resolved",
        ErrorKind.CONFLICT,
        "该差异已处理",
    )
    INVALID_NOTE = (
        "invalid_resolution_note",
        ErrorKind.INVALID,
        "请填写处理说明（1-500 字）",
    )
