"""What the bot says. Short, friendly, zh-CN."""

WELCOME = (
    "欢迎关注！🎉 我是商城小助手。\n"
    "直接发送商品名就能搜索，比如「蓝牙耳机」「苹果手机」；\n"
    "回复「订单」查看订单，「物流」查快递，「人工」联系客服，「帮助」查看全部功能。"
)
WELCOME_BACK = "欢迎回来！直接发送想买的商品名试试，或回复「帮助」看看我能做什么。"
HELP = (
    "我可以帮您：\n"
    "🔍 搜商品：直接发送商品名，或「搜 蓝牙耳机」\n"
    "📦 查订单：回复「订单」\n"
    "🚚 查物流：回复「物流」或「物流 订单号」\n"
    "🔁 退款退货：回复「售后」\n"
    "🎁 优惠券：回复「优惠」\n"
    "🙋 人工客服：回复「人工」\n"
    "也可以直接问我常见问题，比如「多久发货」「怎么退货」。"
)
COUPONS = "优惠券功能即将上线，敬请期待～"
# {free_shipping}: the platform's promise as its shipping settings make it ("满 99 元包邮").
COUPONS_FREE_SHIPPING = "优惠券功能即将上线，敬请期待～ 现在{free_shipping}哦！"
HANDOFF = "已为您转接人工客服，请直接描述您的问题，客服会尽快回复您（服务时间 9:00-21:00）。"
HANDOFF_AFTER_MISSES = "抱歉，我没能理解您的问题，已为您转接人工客服，请稍候～"
NOT_FOUND = (
    "没有找到「{query}」相关的商品。换个说法试试，比如「耳机」「手机」「水果」；回复「人工」联系客服。"
)
SEARCH_HEADER = "为您找到以下商品："
SEARCH_MORE = "更多商品请打开小程序查看：{link}"
NEED_LOGIN = "还没有查到您的订单。请先在小程序登录下单，订单会自动同步到这里：{link}"
NO_ORDERS = "您还没有订单，去逛逛吧：{link}"
ORDERS_HEADER = "您最近的订单："
NO_SHIPMENTS = "您暂时没有运输中的包裹。回复「订单」查看全部订单。"
ORDER_NOT_FOUND = "没有找到订单 {order_no}，请核对订单号（可回复「订单」查看）。"
IMAGE = "收到您的图片啦！如需退款退货，请回复「售后」；其他问题请回复「人工」联系客服。"
VOICE_UNKNOWN = "暂时听不清语音，请发文字试试～"
LOCATION = "已记下您的位置（{label}）。社区自提点上线后，会为您推荐最近的提货点。"
LINK = "收到链接，谢谢分享！如有问题请回复「人工」联系客服。"
UNKNOWN_MENU = "这个功能即将上线，敬请期待～ 回复「帮助」看看我能做什么。"
EMPTY_SEARCH = "想找什么商品呢？发送「搜 商品名」试试，比如「搜 蓝牙耳机」。"

AFTERSALES_HEADER = "您进行中的售后申请："
# {link}: the mini-program's after-sales page.
AFTERSALES_HOW = "申请退款或退货：在小程序打开订单，点「申请售后」，或进入{link}。"
NO_AFTERSALES = "您没有进行中的售后申请。" + AFTERSALES_HOW
AFTERSALE_APPROVED_RETURN = (
    "您的售后申请 {aftersale_no} 商家已同意退货，请将商品寄回：{address}。"
    "寄出后请在小程序售后详情填写退货快递单号，商家收到后为您退款 ¥{amount}。"
)
AFTERSALE_APPROVED_REFUND = (
    "您的售后申请 {aftersale_no} 已同意，¥{amount} 将原路退回，一般 1-3 个工作日到账。"
)
AFTERSALE_REFUSED = (
    "很抱歉，您的售后申请 {aftersale_no} 未通过，原因：{refusal}。如有疑问请回复「人工」联系客服。"
)
AFTERSALE_REFUNDED = "您的售后申请 {aftersale_no} 已退款 ¥{amount}，已原路退回您的支付账户，请注意查收。"

STATUS_TEXT = {
    "pending_payment": "待付款",
    "paid": "待发货",
    "grouping": "待成团",
    "shipped": "运输中",
    "completed": "已完成",
    "cancelled": "已取消",
    "closed": "已关闭",
}
# A follow or scan through a leader's QR code (社区团购).
LEADER_BOUND = (
    "您已绑定团长「{leader}」🎉 自提点：{point}（{address}）。在小程序社区团购下单，到该自提点取货即可。"
)
LEADER_PENDING = "您已选择团长「{leader}」，登录小程序后将自动绑定。"
LEADER_SELF = "这是您自己的团长二维码，分享给邻居扫码即可绑定您。"
LEADER_UNAVAILABLE = "该团长暂不可绑定，您可以在小程序中选择附近的自提点。"
# A follow or scan through a KOL's QR code (推广员).
KOL_WELCOME = (
    "欢迎关注！🎉 您是通过推广员「{kol}」的推荐来到本店的。\n"
    "直接发送商品名就能搜索，比如「蓝牙耳机」；回复「帮助」查看全部功能。"
)
KOL_WELCOME_BACK = "欢迎回来！您正在浏览推广员「{kol}」推荐的好物，直接发送想买的商品名试试。"
KOL_PENDING = "欢迎关注！🎉 您是通过推广员「{kol}」的推荐来到本店的，登录小程序即可选购。"
KOL_SELF = "这是您自己的推广二维码，分享给好友扫码关注即可。"
