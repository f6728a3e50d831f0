from commerce.errors import ErrorCode, ErrorKind

MAX_REPLY_CHARS = 600
MAX_QUESTION_CHARS = 120
MAX_ANSWER_CHARS = 1000
MAX_VARIANTS = 20
MAX_CANNED_TITLE_CHARS = 30
MAX_CANNED_TEXT_CHARS = MAX_REPLY_CHARS  # a canned reply is sent as a reply


class SupportError(ErrorCode):
    CONVERSATION_NOT_FOUND = ("conversation_not_found", ErrorKind.NOT_FOUND, "会话不存在")
    CONVERSATION_CLOSED = ("conversation_closed", ErrorKind.CONFLICT, "该会话已结束")
    CONVERSATION_TAKEN = ("conversation_taken", ErrorKind.CONFLICT, "该会话已由其他客服接待")
    NOT_HOLDER = (
        "conversation_not_yours",
        ErrorKind.CONFLICT,
        "该会话正由其他客服接待，如需回复或结束，请先转接给自己",
    )
    AGENT_INVALID = ("agent_invalid", ErrorKind.INVALID, "只能转接给有客服权限的在职员工")
    CONVERSATION_CHANGED = (
        "conversation_changed",
        ErrorKind.CONFLICT,
        "会话状态刚刚发生了变化，请刷新后重试",
    )
    INVALID_REPLY = (
        "invalid_reply",
        ErrorKind.INVALID,
        f"回复内容不能为空，且不超过 {MAX_REPLY_CHARS} 字",
    )
    FOLLOWER_GONE = ("follower_unsubscribed", ErrorKind.CONFLICT, "该用户已取消关注公众号，无法再发送消息")
    WINDOW_CLOSED = (
        "window_closed",
        ErrorKind.CONFLICT,
        "已超过 48 小时，微信不允许再主动回复该用户，请等待用户再次发消息",
    )
    WECHAT_UNAVAILABLE = ("wechat_unavailable", ErrorKind.UNAVAILABLE, "微信暂时无法发送消息，请稍后重试")
    FAQ_INVALID = (
        "faq_invalid",
        ErrorKind.INVALID,
        f"问题不能为空且不超过 {MAX_QUESTION_CHARS} 字，答案不能为空且不超过 {MAX_ANSWER_CHARS} 字，"
        f"相似问法最多 {MAX_VARIANTS} 条",
    )
    FAQ_NOT_FOUND = ("faq_not_found", ErrorKind.NOT_FOUND, "常见问题不存在")
    CANNED_INVALID = (
        "canned_reply_invalid",
        ErrorKind.INVALID,
        f"快捷回复的标题不能为空且不超过 {MAX_CANNED_TITLE_CHARS} 字，"
        f"内容不能为空且不超过 {MAX_CANNED_TEXT_CHARS} 字",
    )
    CANNED_NOT_FOUND = ("canned_reply_not_found", ErrorKind.NOT_FOUND, "快捷回复不存在")
