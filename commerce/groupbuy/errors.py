from commerce.errors import ErrorCode, ErrorKind


class GroupBuyError(ErrorCode):
    DEAL_NOT_FOUND = ("group_deal_not_found", ErrorKind.NOT_FOUND, "拼团活动不存在")
    GROUP_NOT_FOUND = ("group_not_found", ErrorKind.NOT_FOUND, "该团不存在")
    DEAL_NOT_ON = ("group_deal_not_on", ErrorKind.CONFLICT, "拼团活动未开始或已结束")
    # The checkout's items must hold exactly one line of the deal's SKUs.
    ONE_DEAL_LINE = ("group_deal_one_line", ErrorKind.INVALID, "拼团下单只能包含一件拼团商品")
    OVER_SHOPPER_LIMIT = ("group_deal_over_limit", ErrorKind.CONFLICT, "已达到该拼团活动的每人限购数量")
    ALREADY_JOINED = ("group_already_joined", ErrorKind.CONFLICT, "你已在这个团里，不能重复参团")
    INVALID_DEAL = ("invalid_group_deal", ErrorKind.INVALID, "拼团活动设置有误")
    INVALID_TRANSITION = ("invalid_group_status", ErrorKind.CONFLICT, "该团当前状态不允许此操作")
    # A paid order waiting for its group cannot be cancelled or refunded by its shopper.
    CODE_UNAVAILABLE = ("group_code_unavailable", ErrorKind.UNAVAILABLE, "小程序码生成失败，请稍后再试")
    WAITING_FOR_GROUP = ("order_waiting_for_group", ErrorKind.CONFLICT, "拼团进行中，成团或失败后再操作")
