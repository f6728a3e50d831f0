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
    LOCKED_OUT = ("login_locked", ErrorKind.RATE_LIMITED, "登录失败次数过多，请 15 分钟后再试")
    ROLE_MISMATCH = ("role_mismatch", ErrorKind.INVALID, "商家角色须选择所属商家，平台角色不属于任何商家")
