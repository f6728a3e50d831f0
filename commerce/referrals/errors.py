from commerce.errors import ErrorCode, ErrorKind


class KolError(ErrorCode):
    """KOLs, their tiers and codes."""

    NOT_FOUND = ("kol_not_found", ErrorKind.NOT_FOUND, "推广员不存在")
    INVALID_TRANSITION = ("kol_invalid_status", ErrorKind.CONFLICT, "推广员当前状态不允许此操作")
    INVALID_APPLICATION = ("kol_application_invalid", ErrorKind.INVALID, "请填写姓名、手机号和推广渠道介绍")
    ALREADY_APPLIED = ("kol_already_applied", ErrorKind.CONFLICT, "您已提交过推广员申请")
    ALREADY_REVIEWED = ("kol_already_reviewed", ErrorKind.CONFLICT, "该申请已被其他人处理，请刷新后查看")
    REASON_REQUIRED = ("kol_reason_required", ErrorKind.INVALID, "请填写原因（最多 200 字）")
    NOT_APPLIED = ("kol_not_applied", ErrorKind.FORBIDDEN, "您还不是推广员，请先申请")
    NOT_APPROVED = ("kol_not_approved", ErrorKind.FORBIDDEN, "您的推广员申请尚未通过或已被暂停")
    TIER_NOT_FOUND = ("kol_tier_not_found", ErrorKind.NOT_FOUND, "推广等级不存在")
    INVALID_TIER = ("kol_tier_invalid", ErrorKind.INVALID, "请填写等级名称，佣金比例须在 0%–100% 之间")
    TIER_EXISTS = ("kol_tier_exists", ErrorKind.CONFLICT, "已有同名的推广等级")
    INVALID_PATH = ("referral_path_invalid", ErrorKind.INVALID, "推广页面路径无效")
    CODE_UNAVAILABLE = ("kol_code_unavailable", ErrorKind.UNAVAILABLE, "推广码生成失败，请稍后再试")


class ReferralError(ErrorCode):
    """Touches and attribution."""

    INVALID_CODE = ("referral_code_invalid", ErrorKind.NOT_FOUND, "推广码无效或推广员已停用")
    INVALID_TOUCH = ("referral_touch_invalid", ErrorKind.INVALID, "推广来源参数无效")
    SELF_REFERRAL = ("referral_self", ErrorKind.INVALID, "不能通过自己的推广码购买获得佣金")


class KolCommissionError(ErrorCode):
    """KOLs' commissions and the fraud review."""

    INVALID_TRANSITION = ("kol_commission_invalid_status", ErrorKind.CONFLICT, "佣金当前状态不允许此操作")
    NOT_ACCRUED = ("kol_commission_not_accrued", ErrorKind.CONFLICT, "该订单的推广佣金尚未计提")
    OVER_REFUNDED = ("kol_commission_over_refunded", ErrorKind.CONFLICT, "退款金额超过佣金计提基数")
    ALREADY_EARNED = ("kol_commission_already_earned", ErrorKind.CONFLICT, "佣金已结算并提现，请财务手工调整")
    FLAG_NOT_FOUND = ("kol_flag_not_found", ErrorKind.NOT_FOUND, "风控记录不存在")
    FLAG_ALREADY_DECIDED = (
        "kol_flag_already_decided",
        ErrorKind.CONFLICT,
        "该风控记录已被其他人处理，请刷新后查看",
    )
    NOTE_REQUIRED = ("kol_flag_note_required", ErrorKind.INVALID, "请填写处理说明（最多 200 字）")


class KolFunnelError(ErrorCode):
    """The funnels' date ranges."""

    INVALID_RANGE = (
        "kol_funnel_range_invalid",
        ErrorKind.INVALID,
        "日期范围无效：开始日期不能晚于结束日期，最多 366 天",
    )
