from commerce.errors import ErrorCode, ErrorKind


class StaffError(ErrorCode):
    USERNAME_TAKEN = ("username_taken", ErrorKind.CONFLICT, "用户名已被使用")
    INVALID_USERNAME = (
        "invalid_username",
        ErrorKind.INVALID,
        "用户名须为 3-64 位字母、数字、下划线、点或短横线",
    )
    WEAK_PASSWORD = ("weak_password", ErrorKind.INVALID, "密码至少 10 位")
    BAD_LOGIN = ("bad_login", ErrorKind.UNAUTHENTICATED, "用户名或密码错误")
    LOCKED_OUT = ("login_locked", ErrorKind.RATE_LIMITED, "登录失败次数过多，请稍后再试")
    MERCHANT_SUSPENDED = ("merchant_suspended", ErrorKind.FORBIDDEN, "所属商家已暂停营业，账号暂不能登录")
    NOT_FOUND = ("staff_not_found", ErrorKind.NOT_FOUND, "找不到该员工账号")
    NOT_YOURS = ("staff_not_manageable", ErrorKind.FORBIDDEN, "您不能管理该账号")
    NOT_YOURSELF = ("staff_not_yourself", ErrorKind.INVALID, "不能停用自己的账号")
    INVALID_DISPLAY_NAME = ("invalid_display_name", ErrorKind.INVALID, "显示名称最多 64 个字")
    ROLE_MISMATCH = ("role_mismatch", ErrorKind.INVALID, "商家角色须选择所属商家，平台角色不属于任何商家")
