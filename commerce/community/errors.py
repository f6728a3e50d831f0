from commerce.errors import ErrorCode, ErrorKind


class LeaderError(ErrorCode):
    """Leaders, their points and shoppers' bindings."""

    NOT_FOUND = ("leader_not_found", ErrorKind.NOT_FOUND, "团长不存在或已停用")
    INVALID_TRANSITION = ("leader_invalid_status", ErrorKind.CONFLICT, "团长当前状态不允许此操作")
    INVALID_APPLICATION = ("leader_application_invalid", ErrorKind.INVALID, "请填写姓名、手机号和自提点地址")
    ALREADY_APPLIED = ("leader_already_applied", ErrorKind.CONFLICT, "您已提交过团长申请")
    ALREADY_REVIEWED = ("leader_already_reviewed", ErrorKind.CONFLICT, "该申请已被其他人处理，请刷新后查看")
    REASON_REQUIRED = ("leader_reason_required", ErrorKind.INVALID, "请填写原因（最多 200 字）")
    NOT_APPLIED = ("leader_not_applied", ErrorKind.FORBIDDEN, "您还不是团长，请先申请成为团长")
    NOT_APPROVED = ("leader_not_approved", ErrorKind.FORBIDDEN, "您的团长申请尚未通过或已被暂停")
    SELF_BINDING = ("leader_self_binding", ErrorKind.INVALID, "不能绑定自己为团长")
    INVALID_LOCATION = ("location_invalid", ErrorKind.INVALID, "位置坐标无效")


# ---------------------------------------------------------------------------------------------


class SaleError(ErrorCode):
    """Community sales, their orders and batches."""

    NOT_FOUND = ("community_sale_not_found", ErrorKind.NOT_FOUND, "社区团购活动不存在")
    INVALID_TRANSITION = ("community_sale_invalid_status", ErrorKind.CONFLICT, "活动当前状态不允许此操作")
    INVALID_SALE = ("community_sale_invalid", ErrorKind.INVALID, "请填写活动名称、日期和至少一件商品")
    INVALID_PRICE = (
        "community_price_invalid",
        ErrorKind.INVALID,
        "团购价须大于 0 且不高于商品原价",
    )
    NOT_OWN_SKU = ("community_sku_not_own", ErrorKind.NOT_FOUND, "商品规格不存在或不属于本商家")
    CLOSED = ("community_sale_closed", ErrorKind.CONFLICT, "本场社区团购已截单或未开始")
    NOT_IN_SALE = ("community_sku_not_in_sale", ErrorKind.INVALID, "所选商品不在本场社区团购中")
    PICKUP_REQUIRED = (
        "community_pickup_required",
        ErrorKind.INVALID,
        "社区团购订单须选择团长自提点提货",
    )
    NOT_LEADERS_POINT = (
        "community_point_not_leaders",
        ErrorKind.INVALID,
        "请选择一位团长的自提点",
    )
    BATCH_NOT_FOUND = ("community_batch_not_found", ErrorKind.NOT_FOUND, "批次不存在")
    BATCH_INVALID_TRANSITION = (
        "community_batch_invalid_status",
        ErrorKind.CONFLICT,
        "批次当前状态不允许此操作",
    )


# ---------------------------------------------------------------------------------------------


class CommissionError(ErrorCode):
    """Leaders' commissions."""

    NOT_FOUND = ("leader_commission_not_found", ErrorKind.NOT_FOUND, "佣金记录不存在")
    INVALID_TRANSITION = ("leader_commission_invalid_status", ErrorKind.CONFLICT, "佣金当前状态不允许此操作")
    # A refund of a community order whose commission has not accrued yet: retried after it.
    NOT_ACCRUED = ("leader_commission_not_accrued", ErrorKind.CONFLICT, "佣金尚未计提")
    # A refund reversing more than the commission's basis: a bug, never a user's mistake.
    OVER_REFUNDED = ("leader_commission_over_refunded", ErrorKind.CONFLICT, "退款超出佣金计提基数")
    INVALID_RATE = (
        "invalid_leader_commission_rate",
        ErrorKind.INVALID,
        "团长佣金费率须在 0 到 10000 个基点（0%–100%）之间",
    )
    TARGET_NOT_FOUND = ("leader_commission_target_not_found", ErrorKind.NOT_FOUND, "商品或类目不存在")
    # A refund's reversal met a commission already earned and withdrawn: finance adjusts by hand.
    ALREADY_EARNED = ("leader_commission_already_earned", ErrorKind.CONFLICT, "佣金已结算，须由财务调整")
