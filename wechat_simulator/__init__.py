"""A faithful stand-in for the WeChat servers we call, with WeChat's rules and refusals.

Mounted under /_sim by `shop serve` in simulator mode; tests run it as a server of its own.
It knows nothing of the shop: only what WeChat would know (it must not import our packages).

WeChat's API, at WeChat's paths:
  GET  /sns/jscode2session                 login codes: single use, five minutes
  POST /cgi-bin/stable_token               the stable access token (normal and forced modes)
  GET  /cgi-bin/token                      the classic access token, independent of the stable one
  POST /wxa/business/getuserphonenumber    phone codes: single use, five minutes; needs a token
  POST /wxa/sec/order/upload_shipping_info shipping of a paid transaction: one upload, one re-upload

WeChat Pay (APIv3: requests signed by the merchant, answers signed by the platform key; the
keys are generated on first use, see pay_keys.provision_merchant):
  POST /v3/pay/transactions/jsapi                           prepay -> {"prepay_id"}
  GET  /v3/pay/transactions/out-trade-no/{no}?mchid=        the transaction (also /id/{transaction_id})
  POST /v3/pay/transactions/out-trade-no/{no}/close         204
  POST /v3/refund/domestic/refunds                          PROCESSING, then SUCCESS by itself
  GET  /v3/refund/domestic/refunds/{out_refund_no}          the refund
  Notifications (TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL) go to the notify_url,
  encrypted and signed, retried on WeChat's schedule until answered 200 or 204.

Control, for people and tests:
  POST   /wx/login-code   {"user": "alice"} -> {"code", "openid", "unionid"}: what wx.login() gives
  POST   /wx/phone-code   {"user": "alice", "phone": "13800138000"} -> {"code"}: getPhoneNumber
  POST   /wx/expire-token {"appid"?}: the app's tokens expire now (42001 next)
  POST   /wx/faults       {"api", "errcode" | "http_status", "times"?}: the next calls fail so
  DELETE /wx/faults       no more planned failures
  GET    /wx/state        tokens issued, calls received, codes used, failures planned
  POST   /pay/confirm     {"prepay_id", "copies"?: 1..5}: the shopper pays; the merchant is notified
  POST   /pay/redeliver   {"out_trade_no"} | {"out_refund_no"}: the last notification again, now
  POST   /pay/refund-outcome {"outcome": "ABNORMAL" | "SUCCESS", "times"?}: how the next refunds end
  GET    /pay/state       transactions, refunds, notifications and their deliveries, shipping
"""

from wechat_simulator.app import create_simulator_app
from wechat_simulator.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
