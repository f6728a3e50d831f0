"""A faithful stand-in for the WeChat servers we call, with WeChat's rules and refusals.

Mounted under /_sim by `shop serve` in simulator mode; tests run it as a server of its own.
It knows nothing of the shop: only what WeChat would know (it must not import our packages).

WeChat's API, at WeChat's paths:
  GET  /sns/jscode2session                 login codes: single use, five minutes
  POST /cgi-bin/stable_token               the stable access token (normal and forced modes)
  GET  /cgi-bin/token                      the classic access token, independent of the stable one
  POST /wxa/business/getuserphonenumber    phone codes: single use, five minutes; needs a token

Control, for people and tests:
  POST   /wx/login-code   {"user": "alice"} -> {"code", "openid", "unionid"}: what wx.login() gives
  POST   /wx/phone-code   {"user": "alice", "phone": "13800138000"} -> {"code"}: getPhoneNumber
  POST   /wx/expire-token {"appid"?}: the app's tokens expire now (42001 next)
  POST   /wx/faults       {"api", "errcode" | "http_status", "times"?}: the next calls fail so
  DELETE /wx/faults       no more planned failures
  GET    /wx/state        tokens issued, calls received, codes used, failures planned
"""

from wechat_simulator.app import create_simulator_app
from wechat_simulator.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
