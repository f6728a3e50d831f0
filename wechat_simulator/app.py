"""The simulator app: WeChat's API paths at its root, control endpoints under /wx."""

from __future__ import annotations

from aiohttp import web

from wechat_simulator import control, login, tokens
from wechat_simulator.config import SimulatorConfig
from wechat_simulator.keys import STATE
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
        return web.json_response({"errcode": -1, "errmsg": f"system error: {type(exc).__name__}"})


def create_simulator_app(config: SimulatorConfig) -> web.Application:
    app = web.Application(middlewares=[_never_500, control.bad_input_is_400])
    app[STATE] = SimulatorState(config)
    # WeChat's API, at WeChat's paths
    app.router.add_get("/sns/jscode2session", login.jscode2session)
    app.router.add_post("/cgi-bin/stable_token", tokens.stable_token)
    app.router.add_get("/cgi-bin/token", tokens.classic_token)
    app.router.add_post("/wxa/business/getuserphonenumber", login.get_user_phone_number)
    # control: what a phone would do, failures on demand, a look inside
    app.router.add_post("/wx/login-code", control.login_code)
    app.router.add_post("/wx/phone-code", control.phone_code)
    app.router.add_post("/wx/expire-token", control.expire_token)
    app.router.add_post("/wx/faults", control.add_faults)
    app.router.add_delete("/wx/faults", control.clear_faults)
    app.router.add_get("/wx/state", control.inspect_state)
    return app
