from commerce.errors import ErrorCode, ErrorKind


class ShippingError(ErrorCode):
    UNDELIVERABLE = ("shipping_undeliverable", ErrorKind.INVALID, "很抱歉，该商家暂不配送到您的收货地区")
    TEMPLATE_NOT_FOUND = ("shipping_template_not_found", ErrorKind.NOT_FOUND, "运费模板不存在")
    INVALID_AMOUNT = (
        "invalid_shipping_amount",
        ErrorKind.INVALID,
        "运费须为 0-999.99 元、包邮门槛须为 0.01-99999.99 元，最多两位小数",
    )
    INVALID_PROVINCE = (
        "invalid_shipping_province",
        ErrorKind.INVALID,
        "请选择正确的省份，每个省份只能设置一次",
    )
    CHANGED = ("shipping_template_changed", ErrorKind.CONFLICT, "运费模板刚被他人修改，请刷新后再试")
