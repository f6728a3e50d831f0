from commerce.errors import ErrorCode, ErrorKind


class CheckoutError(ErrorCode):
    NOTHING_TO_CHECK_OUT = ("nothing_to_checkout", ErrorKind.CONFLICT, "没有可结算的商品")
    TOO_MANY_LINES = ("too_many_lines", ErrorKind.INVALID, "一次最多结算 50 种商品")
    ITEMS_OR_CART = ("items_or_cart", ErrorKind.INVALID, "请提供 items 或 from_cart，二选一")
