from commerce.errors import ErrorCode, ErrorKind


class CheckoutError(ErrorCode):
    NOTHING_TO_CHECK_OUT = ("nothing_to_checkout", ErrorKind.CONFLICT, "没有可结算的商品")
    TOO_MANY_LINES = ("too_many_lines", ErrorKind.INVALID, "一次最多结算 50 种商品")
    ITEMS_OR_CART = ("items_or_cart", ErrorKind.INVALID, "请提供 items 或 from_cart，二选一")


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
    INVALID_SHIPMENT = (
        "invalid_shipment",
        ErrorKind.INVALID,
        "请选择支持的快递公司并填写运单号（4-64 位字母、数字或短横线）",
    )
    INVALID_NOTE = ("invalid_note", ErrorKind.INVALID, "备注请填写 1-500 字")
    NOT_WHOLLY_YOURS = (
        "order_of_several_merchants",
        ErrorKind.FORBIDDEN,
        "该订单包含其他商家的商品，请由平台处理",
    )
