from commerce.errors import ErrorCode, ErrorKind


class CheckoutError(ErrorCode):
    NOTHING_TO_CHECK_OUT = ("nothing_to_checkout", ErrorKind.CONFLICT, "没有可结算的商品")
    TOO_MANY_LINES = ("too_many_lines", ErrorKind.INVALID, "一次最多结算 50 种商品")
    ITEMS_OR_CART = ("items_or_cart", ErrorKind.INVALID, "请提供 items 或 from_cart，二选一")
    PAYABLE_TOO_LARGE = (
        "payable_too_large",
        ErrorKind.INVALID,
        "订单金额超过单笔支付上限，请减少数量或分开下单",
    )


class OrderError(ErrorCode):
    NOT_FOUND = ("order_not_found", ErrorKind.NOT_FOUND, "订单不存在")
    OUT_OF_STOCK = ("out_of_stock", ErrorKind.CONFLICT, "库存不足，商品已被抢光")
    ITEMS_UNAVAILABLE = ("items_unavailable", ErrorKind.CONFLICT, "部分商品已下架或库存不足，请返回修改")
    ADDRESS_REQUIRED = ("address_required", ErrorKind.INVALID, "请选择收货地址")
    INVALID_IDEMPOTENCY_KEY = (
        "invalid_idempotency_key",
        ErrorKind.INVALID,
        "请求头 Idempotency-Key 必填，8-64 位字母、数字、下划线或短横线",
    )
    INVALID_TRANSITION = ("invalid_order_status", ErrorKind.CONFLICT, "订单当前状态不允许此操作")
    # Paid for a 拼团 seat, waiting for the group to fill: neither cancelled nor refunded by hand.
    WAITING_FOR_GROUP = ("order_waiting_for_group", ErrorKind.CONFLICT, "拼团进行中，成团或失败后再操作")
    INVALID_SHIPMENT = (
        "invalid_shipment",
        ErrorKind.INVALID,
        "请选择支持的快递公司并填写运单号（4-64 位字母、数字或短横线）",
    )
    INVALID_NOTE = ("invalid_note", ErrorKind.INVALID, "备注请填写 1-500 字")
    TOO_MANY_UNPAID_ORDERS = (
        "too_many_unpaid_orders",
        ErrorKind.CONFLICT,
        "待支付订单太多，请先支付或取消已有订单",
    )
    UNPAID_QUANTITY_LIMIT = (
        "unpaid_quantity_limit",
        ErrorKind.CONFLICT,
        "该商品待支付的数量已达上限，请先支付或取消已有订单",
    )
    ORDER_RATE_LIMITED = ("order_rate_limited", ErrorKind.RATE_LIMITED, "下单太频繁，请稍后再试")
