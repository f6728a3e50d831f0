from commerce.errors import ErrorCode, ErrorKind


class CatalogError(ErrorCode):
    PRODUCT_NOT_FOUND = ("product_not_found", ErrorKind.NOT_FOUND, "商品不存在或已下架")
    CATEGORY_NOT_FOUND = ("category_not_found", ErrorKind.NOT_FOUND, "分类不存在")
    INVALID_CATEGORY = ("invalid_category", ErrorKind.INVALID, "分类名称不能为空，最多三级")
    INVALID_PRODUCT = ("invalid_product", ErrorKind.INVALID, "商品信息不完整")
    NO_SKUS = ("no_skus", ErrorKind.INVALID, "商品至少需要一个规格（SKU）")
    INVALID_SPECS = ("invalid_specs", ErrorKind.INVALID, "规格填写有误")
    DUPLICATE_SKU_SPECS = ("duplicate_sku_specs", ErrorKind.INVALID, "同一商品下有重复的规格组合")
    SPU_CODE_TAKEN = ("spu_code_taken", ErrorKind.CONFLICT, "商品编码已被其他商家使用")
    SPU_CODE_EXISTS = ("spu_code_exists", ErrorKind.CONFLICT, "商品编码已存在，请换一个")
    # Orders took stock between the page being shown and the edit being saved.
    STOCK_CHANGED = ("stock_changed", ErrorKind.CONFLICT, "库存已被订单改变，请核对后重新保存")
    SKU_CODE_TAKEN = ("sku_code_taken", ErrorKind.CONFLICT, "SKU 编码已被其他商品使用")
    INVALID_PRICE = ("invalid_price", ErrorKind.INVALID, "价格须在 0 到 20000000 元之间")
    INVALID_STOCK = ("invalid_stock", ErrorKind.INVALID, "库存须为 0 到 10000000 之间的整数")
    INVALID_STATUS_TRANSITION = (
        "invalid_status_transition",
        ErrorKind.CONFLICT,
        "商品当前状态不允许此操作",
    )
