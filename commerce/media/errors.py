from commerce.errors import ErrorCode, ErrorKind


class MediaError(ErrorCode):
    EMPTY = ("empty_image", ErrorKind.INVALID, "图片文件是空的")
    UNSUPPORTED_TYPE = (
        "unsupported_image_type",
        ErrorKind.INVALID,
        "只支持 JPEG、PNG、WebP、GIF 格式的图片",
    )
    TOO_LARGE = ("image_too_large", ErrorKind.INVALID, "图片太大")
    STORAGE_FAILED = ("image_storage_failed", ErrorKind.UNAVAILABLE, "图片保存失败，请稍后再试")
