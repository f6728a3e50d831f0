"""The simulator app: WeChat's API paths at its root, control endpoints under /wx, /pay and /mp,
and the chat page at /chat."""

from __future__ import annotations

from aiohttp import web

from wechat_simulator import (
    chat,
    control,
    login,
    mp,
    mp_control,
    pay,
    pay_bills,
    pay_control,
    pay_refund,
    pay_transfer,
    shipping,
    subscribe,
    tokens,
    wxacode,
)
from wechat_simulator.config import SimulatorConfig
from wechat_simulator.keys import STATE
from wechat_simulator.pay_http import system_error
from wechat_simulator.pay_keys import load_platform, provision_merchant
from wechat_simulator.pay_notify import NOTIFIER, Notifier, close_notifier
from wechat_simulator.state import SimulatorState


@web.middleware
async def _never_500(request: web.Request, handler):
    """WeChat answers even nonsense with a JSON body; so does the simulator."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug here must look like WeChat's "system error", not a crash
        request.app.logger.exception("simulator error")
        if "/v3/" in request.path:  # WeChat Pay says so its own way: a signed SYSTEM_ERROR
            return system_error(request)
        return web.json_response({"errcode": -1, "errmsg": f"system error: {type(exc).__name__}"})


def create_simulator_app(config: SimulatorConfig) -> web.Application:
    """Also provisions WeChat Pay's keys (see pay_keys.provision_merchant) on first use."""
    app = web.Application(middlewares=[_never_500, control.bad_input_is_400])
    state = SimulatorState(config)
    provision_merchant(config.data_dir, config.merchant_dir)
    state.pay.platform = load_platform(config.data_dir)
    app[STATE] = state
    app[NOTIFIER] = Notifier(state)
    app.on_cleanup.append(close_notifier)
    # WeChat's API, at WeChat's paths
    app.router.add_get("/sns/jscode2session", login.jscode2session)
    app.router.add_post("/cgi-bin/stable_token", tokens.stable_token)
    app.router.add_get("/cgi-bin/token", tokens.classic_token)
    app.router.add_post("/wxa/business/getuserphonenumber", login.get_user_phone_number)
    app.router.add_post("/wxa/sec/order/upload_shipping_info", shipping.upload_shipping_info)
    app.router.add_post("/cgi-bin/message/subscribe/send", subscribe.send)  # subscribe messages
    # the official account's APIs
    app.router.add_post("/cgi-bin/message/custom/send", mp.custom_send)
    app.router.add_get("/cgi-bin/user/info", mp.user_info)
    app.router.add_post("/cgi-bin/menu/create", mp.menu_create)
    app.router.add_get("/cgi-bin/get_current_selfmenu_info", mp.menu_info)
    app.router.add_get("/cgi-bin/menu/delete", mp.menu_delete)
    app.router.add_post("/cgi-bin/qrcode/create", mp.qrcode_create)
    app.router.add_post("/wxa/getwxacodeunlimit", wxacode.get_unlimited)
    # WeChat Pay (APIv3), at its paths
    app.router.add_post("/v3/pay/transactions/jsapi", pay.jsapi)
    app.router.add_get("/v3/pay/transactions/out-trade-no/{out_trade_no}", pay.query)
    app.router.add_get("/v3/pay/transactions/id/{transaction_id}", pay.query_by_id)
    app.router.add_post("/v3/pay/transactions/out-trade-no/{out_trade_no}/close", pay.close)
    app.router.add_post("/v3/refund/domestic/refunds", pay_refund.refund)
    app.router.add_get("/v3/refund/domestic/refunds/{out_refund_no}", pay_refund.refund_query)
    pay_transfer.add_routes(app)  # merchant transfer (商家转账) and its controls
    pay_bills.add_routes(app)  # the daily bills, their files and their controls (/pay/bills/...)
    # control: what a phone would do, failures on demand, a look inside
    app.router.add_post("/wx/login-code", control.login_code)
    app.router.add_post("/wx/phone-code", control.phone_code)
    app.router.add_post("/wx/expire-token", control.expire_token)
    app.router.add_post("/wx/faults", control.add_faults)
    app.router.add_delete("/wx/faults", control.clear_faults)
    app.router.add_get("/wx/state", control.inspect_state)
    app.router.add_post("/wx/subscribe", subscribe.subscribe)
    app.router.add_get("/wx/subscribe-messages", subscribe.messages)
    app.router.add_post("/pay/confirm", pay_control.confirm)
    app.router.add_post("/pay/redeliver", pay_control.redeliver)
    app.router.add_post("/pay/refund-outcome", pay_control.refund_outcome)
    app.router.add_post("/pay/resolve-abnormal", pay_control.resolve_abnormal)
    app.router.add_post("/pay/lose-notifications", pay_control.lose_notifications)
    app.router.add_get("/pay/state", pay_control.inspect)
    app.router.add_post("/mp/send", mp_control.send)
    app.router.add_get("/mp/messages", mp_control.messages)
    app.router.add_get("/mp/state", mp_control.inspect)
    app.router.add_get("/chat", chat.page)
    return app
