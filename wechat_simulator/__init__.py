"""A faithful stand-in for the WeChat servers we call, with WeChat's rules and refusals.

Mounted under /_sim by `shop serve` in simulator mode; tests run it as a server of its own.
It knows nothing of the shop: only what WeChat would know (it must not import our packages).

WeChat's API, at WeChat's paths:
  GET  /sns/jscode2session                 login codes: single use, five minutes
  POST /cgi-bin/stable_token               the stable access token (normal and forced modes)
  GET  /cgi-bin/token                      the classic access token, independent of the stable one
  POST /wxa/business/getuserphonenumber    phone codes: single use, five minutes; needs a token
  POST /wxa/sec/order/upload_shipping_info shipping of a paid transaction: unified (one parcel) or
                                           split (parcels in several uploads until is_all_delivered);
                                           one re-shipment

WeChat Pay (APIv3: requests signed by the merchant, answers signed by the platform key; the
keys are generated on first use, see pay_keys.provision_merchant):
  POST /v3/pay/transactions/jsapi                           prepay -> {"prepay_id"}
  GET  /v3/pay/transactions/out-trade-no/{no}?mchid=        the transaction (also /id/{transaction_id})
  POST /v3/pay/transactions/out-trade-no/{no}/close         204
  POST /v3/refund/domestic/refunds                          PROCESSING, then SUCCESS by itself
  GET  /v3/refund/domestic/refunds/{out_refund_no}          the refund
  Notifications (TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL) go to the notify_url,
  encrypted and signed, retried on WeChat's schedule until answered 200 or 204.

The official account (公众号), for the accounts in SimulatorConfig.official_accounts; every call
needs that account's access token:
  POST /cgi-bin/message/custom/send        customer-service messages, within WeChat's windows: 5 in
                                           48 h after a follower's message, 3 in 1 min after a menu
                                           click, subscribing or scanning, no limit 48 h after paying
                                           (else 45015 closed, 45047 used up)
  GET  /cgi-bin/user/info                  a follower's profile: subscribe, unionid, QR scene, ...
  POST /cgi-bin/menu/create                the custom menu, checked like WeChat (400xx)
  GET  /cgi-bin/get_current_selfmenu_info  the menu; GET /cgi-bin/menu/delete removes it
  POST /cgi-bin/qrcode/create              parametric QR codes, temporary (30 s by default, 30 days
                                           at most) or permanent
  Followers' messages and events are pushed to the account's webhook_url as WeChat pushes them:
  signed, encrypted in safe mode, tried three times when not answered within 5 s.

Control, for people and tests:
  POST   /wx/login-code   {"user": "alice"} -> {"code", "openid", "unionid"}: what wx.login() gives
  POST   /wx/phone-code   {"user": "alice", "phone": "13800138000"} -> {"code"}: getPhoneNumber
  POST   /wx/expire-token {"appid"?}: the app's tokens expire now (42001 next)
  POST   /wx/faults       {"api", "errcode" | "http_status", "times"?}: the next calls fail so;
                          a WeChat Pay API also takes {"http_status", "code"}: its signed refusal
  DELETE /wx/faults       no more planned failures
  GET    /wx/state        tokens issued, calls received, codes used, failures planned
  POST   /pay/confirm     {"prepay_id", "copies"?: 1..5}: the shopper pays; the merchant is notified
  POST   /pay/redeliver   {"out_trade_no"} | {"out_refund_no"}: the last notification again, now
  POST   /pay/refund-outcome {"outcome": "ABNORMAL" | "SUCCESS", "times"?}: how the next refunds end
  GET    /pay/state       transactions, refunds, notifications and their deliveries, shipping
  POST   /mp/send         {"user", "type", "content" | "event" ...}: a follower sends it to the
                          official account; -> {"status", "attempts", "reply", "raw", "msg_id", "error"}
  GET    /mp/messages     ?user=alice: all exchanged with that follower, and the windows open
  GET    /mp/state        followers, menus, QR codes, customer-service messages sent
  GET    /chat            a page to talk to the official account as a follower
"""

from wechat_simulator.app import create_simulator_app
from wechat_simulator.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
