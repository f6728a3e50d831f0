from commerce.errors import ErrorCode, ErrorKind


class CartError(ErrorCode):
    ITEM_NOT_FOUND = ("cart_item_not_found", ErrorKind.NOT_FOUND, "购物车中没有这件商品")
    SKU_NOT_FOUND = ("sku_not_found", ErrorKind.NOT_FOUND, "商品规格不存在")
    NOT_ON_SALE = ("not_on_sale", ErrorKind.CONFLICT, "商品已下架")
    OUT_OF_STOCK = ("out_of_stock", ErrorKind.CONFLICT, "库存不足")
    INVALID_QUANTITY = ("invalid_quantity", ErrorKind.INVALID, "数量须为 1 到 999 之间的整数")
    CART_FULL = ("cart_full", ErrorKind.CONFLICT, "购物车最多放 100 种商品，请先结算或删除一些")
