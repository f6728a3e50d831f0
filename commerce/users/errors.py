"""Error codes of the users context."""

from commerce.errors import ErrorCode, ErrorKind


class UserError(ErrorCode):
    """Accounts: login, sessions and phone binding (the API maps kinds to 400/401/403/429/503)."""

    INVALID_LOGIN_CODE = ("invalid_login_code", ErrorKind.INVALID, "登录凭证无效或已过期，请重新登录")
    INVALID_PHONE_CODE = ("invalid_phone_code", ErrorKind.INVALID, "手机号授权已失效，请重新授权")
    SESSION_EXPIRED = ("session_expired", ErrorKind.UNAUTHENTICATED, "登录已过期，请重新登录")
    LOGIN_REFUSED = ("login_refused", ErrorKind.FORBIDDEN, "微信暂不允许该账号登录，请稍后再试")
    WECHAT_RATE_LIMITED = ("wechat_rate_limited", ErrorKind.RATE_LIMITED, "操作太频繁，请稍后再试")
    WECHAT_UNAVAILABLE = ("wechat_unavailable", ErrorKind.UNAVAILABLE, "微信服务暂时不可用，请稍后再试")
    SHOPPER_NOT_FOUND = ("shopper_not_found", ErrorKind.NOT_FOUND, "用户不存在")


class AddressError(ErrorCode):
    NOT_FOUND = ("address_not_found", ErrorKind.NOT_FOUND, "收货地址不存在")
    INVALID_PHONE = ("invalid_phone", ErrorKind.INVALID, "请填写 11 位手机号")
    INCOMPLETE = ("address_incomplete", ErrorKind.INVALID, "请填写收货人、省市区和详细地址")
    INVALID_CHARACTERS = ("address_invalid_characters", ErrorKind.INVALID, "收货地址中有无法识别的字符")
    TOO_MANY = ("too_many_addresses", ErrorKind.CONFLICT, "最多保存 20 个收货地址")


class SubscriptionError(ErrorCode):
    """Mini-program subscribe messages the shopper accepted or refused."""

    UNKNOWN_TEMPLATE = ("unknown_subscribe_template", ErrorKind.INVALID, "不认识的订阅消息模板")
    INVALID_DECISION = (
        "invalid_subscribe_decision",
        ErrorKind.INVALID,
        "订阅结果只能是 accept、reject、ban 或 filter",
    )
