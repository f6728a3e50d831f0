"""WeChat Pay's merchant transfer (商家转账, APIv3, 2025): transfer bills to a user's balance.

  POST /v3/fund-app/mch-transfer/transfer-bills                        a bill: WAIT_USER_CONFIRM
                                                                       with its package_info
  GET  /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}       the bill
  POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}/cancel CANCELING, then CANCELLED

The same out_bill_no again answers the same bill (400 INVALID_REQUEST when its fields differ).
A bill not confirmed within 24 hours of the simulator's clock is closed (FAIL, as WeChat Pay
reports it; noticed whenever the transfer APIs or controls are used). Every end (SUCCESS, FAIL,
CANCELLED) is notified to notify_url, encrypted and signed: MCHTRANSFER.BILL.FINISHED.

Control (under /pay):
  POST /pay/transfer-confirm     {"out_bill_no" | "package_info", "accept"?: true}: the payee
                                 confirms in wx.requestMerchantTransfer (SUCCESS), or declines
                                 (FAIL, USER_REFUSED); answers once notified
  POST /pay/transfer-outcome     {"outcome": "FAIL", "reason"?, "times"?}: the next bills fail
                                 (a moment after they are accepted)
  POST /pay/transfer-lose-answer {"times"?: 1}: the next transfer calls make (or find) the bill
                                 but answer 500 SYSTEM_ERROR: the merchant does not know
  POST /pay/transfer-redeliver   {"out_bill_no"}: the last notification about it again
  GET  /pay/transfers            every bill
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.hashes import SHA1

from wechat_simulator.keys import STATE
from wechat_simulator.pay_http import (
    ParamError,
    need_text,
    need_url,
    optional_text,
    pay_api,
    pay_error,
    pay_reply,
    system_error,
)
from wechat_simulator.pay_notify import NOTIFIER, Notifier
from wechat_simulator.pay_state import BEIJING_TZ, rfc3339
from wechat_simulator.replies import json_body

CONFIRM_TTL = timedelta(hours=24)  # WeChat Pay closes a bill the user has not confirmed by then
MIN_AMOUNT = 10  # fen: WeChat Pay's smallest transfer is 0.1 yuan
MAX_AMOUNT = 100_000_000
REAL_NAME_FROM = 200_000  # fen: from 2,000 yuan the payee's name (user_name) is required
OUT_BILL_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")
EVENT = "MCHTRANSFER.BILL.FINISHED"
SUBJECT = "mch_payment"  # the resource's original_type and associated data
CANCELLABLE = ("ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM")
FINAL = ("SUCCESS", "FAIL", "CANCELLED")
MAX_TIMES = 100
_SETTLE_DELAY = 0.05  # seconds before a planned failure or a cancellation ends


@dataclass
class Bill:
    out_bill_no: str
    transfer_bill_no: str
    appid: str
    openid: str
    amount: int
    remark: str
    scene_id: str
    perception: str
    report_infos: list[dict[str, str]]
    notify_url: str
    user_name: str  # decrypted, as WeChat Pay checks it against the user's real name
    created_at: datetime
    updated_at: datetime
    package_info: str
    state: str = "WAIT_USER_CONFIRM"
    fail_reason: str = ""
    outcome: str = ""  # "FAIL:<reason>" when a test planned it

    def same_request(self, other: dict[str, Any]) -> bool:
        mine = (self.appid, self.openid, self.amount, self.scene_id)
        return mine == (other["appid"], other["openid"], other["amount"], other["scene_id"])


@dataclass
class TransferState:
    bills: dict[str, Bill] = field(default_factory=dict)  # out_bill_no -> bill
    packages: dict[str, str] = field(default_factory=dict)  # package_info -> out_bill_no
    outcomes: list[str] = field(default_factory=list)  # "FAIL:<reason>" for the next bills
    answers_to_lose: int = 0


TRANSFERS = web.AppKey("simulator_transfers", TransferState)


def add_routes(app: web.Application) -> None:
    """The transfer APIs at WeChat Pay's paths and their controls under /pay."""
    app[TRANSFERS] = TransferState()
    base = "/v3/fund-app/mch-transfer/transfer-bills"
    app.router.add_post(base, create)
    app.router.add_get(f"{base}/out-bill-no/{{out_bill_no}}", query)
    app.router.add_post(f"{base}/out-bill-no/{{out_bill_no}}/cancel", cancel)
    app.router.add_post("/pay/transfer-confirm", confirm)
    app.router.add_post("/pay/transfer-outcome", plan_outcome)
    app.router.add_post("/pay/transfer-lose-answer", lose_answer)
    app.router.add_post("/pay/transfer-redeliver", redeliver)
    app.router.add_get("/pay/transfers", inspect)


@pay_api("transfer_bills")
async def create(request: web.Request) -> web.Response:
    """POST /v3/fund-app/mch-transfer/transfer-bills {appid, out_bill_no, transfer_scene_id,
    openid, user_name?, transfer_amount, transfer_remark, notify_url?, user_recv_perception?,
    transfer_scene_report_infos} -> {out_bill_no, transfer_bill_no, create_time, state,
    package_info?}"""
    state = request.app[STATE]
    transfers = request.app[TRANSFERS]
    await expire_overdue(request.app)
    body = await json_body(request)
    if body is None:
        return pay_error(request, 400, "PARAM_ERROR", "请求体应为 JSON 对象")
    try:
        asked = _read_request(body, request, state)
    except ParamError as exc:
        return pay_error(request, 400, "PARAM_ERROR", str(exc))
    if asked["appid"] not in state.config.pay_appids:
        return pay_error(request, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    bill = transfers.bills.get(asked["out_bill_no"])
    if bill is not None and not bill.same_request(asked):
        return pay_error(request, 400, "INVALID_REQUEST", "单号已存在但信息不一致，请查单后比较确认")
    if bill is None:
        bill = _new_bill(asked, state.now())
        transfers.bills[bill.out_bill_no] = bill
        transfers.packages[bill.package_info] = bill.out_bill_no
        if transfers.outcomes:
            bill.outcome, bill.state, bill.package_info = transfers.outcomes.pop(0), "ACCEPTED", ""
            notifier = request.app[NOTIFIER]
            notifier.spawn(_fail_later(notifier, bill))
    if transfers.answers_to_lose > 0:  # made (or found), but the merchant never hears it
        transfers.answers_to_lose -= 1
        return system_error(request)
    answer = {
        "out_bill_no": bill.out_bill_no,
        "transfer_bill_no": bill.transfer_bill_no,
        "create_time": rfc3339(bill.created_at),
        "state": bill.state,
    }
    if bill.state == "WAIT_USER_CONFIRM":
        answer["package_info"] = bill.package_info
    if bill.state == "FAIL":
        answer["fail_reason"] = bill.fail_reason
    return pay_reply(request, 200, answer)


def _read_request(body: dict[str, Any], request: web.Request, state) -> dict[str, Any]:
    amount = body.get("transfer_amount")
    if type(amount) is not int or not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise ParamError("transfer_amount 应为整数（分），单笔最低 0.1 元")
    remark = need_text(body, "transfer_remark", max_len=32)
    infos = body.get("transfer_scene_report_infos")
    if not isinstance(infos, list) or not infos or not all(_report_info(i) for i in infos):
        raise ParamError("需传入转账场景报备信息，请检查")
    cipher = optional_text(body, "user_name", max_len=1024)
    if amount >= REAL_NAME_FROM and not cipher:
        raise ParamError("转账金额 >= 2000元时，user_name 必填")
    return {
        "appid": need_text(body, "appid", max_len=32),
        "out_bill_no": need_text(body, "out_bill_no", max_len=32, pattern=OUT_BILL_NO),
        "scene_id": need_text(body, "transfer_scene_id", max_len=36),
        "openid": need_text(body, "openid", max_len=64),
        "amount": amount,
        "remark": remark,
        "notify_url": need_url(body, "notify_url", required=False),
        "perception": optional_text(body, "user_recv_perception", max_len=32),
        "report_infos": infos,
        "user_name": _decrypt_name(request, state, cipher) if cipher else "",
    }


def _report_info(info: object) -> bool:
    if not isinstance(info, dict):
        return False
    kind, content = info.get("info_type"), info.get("info_content")
    return (
        isinstance(kind, str) and 0 < len(kind) <= 15 and isinstance(content, str) and 0 < len(content) <= 32
    )


def _decrypt_name(request: web.Request, state, cipher: str) -> str:
    """The name, encrypted with WeChat Pay's public key named by Wechatpay-Serial."""
    if request.headers.get("Wechatpay-Serial") != state.pay.keys.public_key_id:
        raise ParamError("Wechatpay-Serial 与加密所用的微信支付公钥不符")
    try:
        plain = state.pay.keys.platform_private_key.decrypt(
            base64.b64decode(cipher, validate=True),
            OAEP(mgf=MGF1(algorithm=SHA1()), algorithm=SHA1(), label=None),
        )
        return plain.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ParamError("user_name 解密失败，请使用微信支付公钥加密") from None


def _new_bill(asked: dict[str, Any], now: datetime) -> Bill:
    day = now.astimezone(BEIJING_TZ).strftime("%Y%m%d")
    return Bill(
        out_bill_no=asked["out_bill_no"],
        transfer_bill_no="1330" + "".join(secrets.choice("0123456789") for _ in range(16)) + day + "0001",
        appid=asked["appid"],
        openid=asked["openid"],
        amount=asked["amount"],
        remark=asked["remark"],
        scene_id=asked["scene_id"],
        perception=asked["perception"],
        report_infos=asked["report_infos"],
        notify_url=asked["notify_url"],
        user_name=asked["user_name"],
        created_at=now,
        updated_at=now,
        package_info=base64.b64encode(secrets.token_bytes(48)).decode(),
    )


@pay_api("transfer_query")
async def query(request: web.Request) -> web.Response:
    """GET .../transfer-bills/out-bill-no/{out_bill_no} -> the bill"""
    await expire_overdue(request.app)
    bill = request.app[TRANSFERS].bills.get(request.match_info["out_bill_no"])
    if bill is None:
        return pay_error(request, 404, "NOT_FOUND", "记录不存在")
    return pay_reply(request, 200, bill_view(request.app[STATE].pay.keys.mchid, bill))


@pay_api("transfer_cancel")
async def cancel(request: web.Request) -> web.Response:
    """POST .../out-bill-no/{out_bill_no}/cancel -> {out_bill_no, transfer_bill_no, state:
    CANCELING, update_time}; CANCELLED (and notified) a moment later. Only before the user
    confirmed; a cancelled one answers again as it is."""
    await expire_overdue(request.app)
    bill = request.app[TRANSFERS].bills.get(request.match_info["out_bill_no"])
    if bill is None:
        return pay_error(request, 404, "NOT_FOUND", "记录不存在")
    if bill.state in CANCELLABLE:
        _move(bill, "CANCELING", request.app[STATE].now())
        notifier = request.app[NOTIFIER]
        notifier.spawn(_cancel_later(notifier, bill))
    elif bill.state not in ("CANCELING", "CANCELLED"):
        return pay_error(request, 400, "INVALID_REQUEST", "当前单据状态不支持撤销")
    answer = {
        "out_bill_no": bill.out_bill_no,
        "transfer_bill_no": bill.transfer_bill_no,
        "state": bill.state,
        "update_time": rfc3339(bill.updated_at),
    }
    return pay_reply(request, 200, answer)


def bill_view(mchid: str, bill: Bill) -> dict[str, Any]:
    """The bill as the query answers it and the notification carries it."""
    view: dict[str, Any] = {
        "mch_id": mchid,
        "out_bill_no": bill.out_bill_no,
        "transfer_bill_no": bill.transfer_bill_no,
        "appid": bill.appid,
        "state": bill.state,
        "transfer_amount": bill.amount,
        "transfer_remark": bill.remark,
        "openid": bill.openid,
        "create_time": rfc3339(bill.created_at),
        "update_time": rfc3339(bill.updated_at),
    }
    if bill.state == "FAIL":
        view["fail_reason"] = bill.fail_reason
    return view


def _move(bill: Bill, to: str, now: datetime, fail_reason: str = "") -> None:
    bill.state, bill.updated_at = to, now
    if fail_reason:
        bill.fail_reason = fail_reason


async def finish(notifier: Notifier, bill: Bill, to: str, fail_reason: str = "", copies: int = 1) -> list:
    """The bill ends; the merchant is told (and told again on WeChat's schedule until it
    acknowledges). Returns the statuses of the first delivery."""
    state = notifier.state
    _move(bill, to, state.now(), fail_reason)
    if not bill.notify_url:
        return []
    plaintext = bill_view(state.pay.keys.mchid, bill)
    notice = notifier.create(EVENT, SUBJECT, bill.out_bill_no, bill.notify_url, plaintext)
    return await notifier.send(notice, copies)


async def expire_overdue(app: web.Application) -> None:
    """Bills not confirmed within 24 hours of their creation are closed: FAIL (notified)."""
    now = app[STATE].now()
    for bill in list(app[TRANSFERS].bills.values()):
        if bill.state in CANCELLABLE and now >= bill.created_at + CONFIRM_TTL:
            await finish(app[NOTIFIER], bill, "FAIL", "OVERDUE_CLOSE")


async def _fail_later(notifier: Notifier, bill: Bill) -> None:
    await asyncio.sleep(_SETTLE_DELAY)
    if bill.state in CANCELLABLE:
        await finish(notifier, bill, "FAIL", bill.outcome.partition(":")[2] or "ACCOUNT_FROZEN")


async def _cancel_later(notifier: Notifier, bill: Bill) -> None:
    await asyncio.sleep(_SETTLE_DELAY)
    if bill.state == "CANCELING":
        await finish(notifier, bill, "CANCELLED")


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def confirm(request: web.Request) -> web.Response:
    """The payee opens the package in wx.requestMerchantTransfer and confirms (or declines)."""
    await expire_overdue(request.app)
    transfers = request.app[TRANSFERS]
    body = await json_body(request)
    if body is None:
        return _bad('需要 JSON 对象 {"out_bill_no": "..."} 或 {"package_info": "..."}，可加 "accept": false')
    key = body.get("out_bill_no") or transfers.packages.get(str(body.get("package_info", "")))
    bill = transfers.bills.get(key) if isinstance(key, str) else None
    accept, copies = body.get("accept", True), body.get("copies", 1)
    if bill is None:
        return _bad("未知的转账单或 package_info")
    if not isinstance(accept, bool) or type(copies) is not int or not 1 <= copies <= 5:
        return _bad("accept 应为 true 或 false，copies 应为 1–5")
    if bill.state == "FAIL" and bill.fail_reason == "OVERDUE_CLOSE":
        return _bad("该转账已超过 24 小时未确认，已关闭")
    if bill.state != "WAIT_USER_CONFIRM":
        return _bad(f"该转账当前状态为 {bill.state}，无法确认收款")
    notified = await finish(
        request.app[NOTIFIER], bill, "SUCCESS" if accept else "FAIL", "" if accept else "USER_REFUSED", copies
    )
    return web.json_response({"out_bill_no": bill.out_bill_no, "state": bill.state, "notified": notified})


async def plan_outcome(request: web.Request) -> web.Response:
    body = await json_body(request)
    outcome, times = (body or {}).get("outcome"), (body or {}).get("times", 1)
    reason = (body or {}).get("reason", "ACCOUNT_FROZEN")
    if outcome != "FAIL" or not isinstance(reason, str) or not re.match(r"^[A-Z_]{1,32}$", reason):
        return _bad('需要 JSON 对象 {"outcome": "FAIL", "reason": "ACCOUNT_FROZEN", "times": 1}')
    if type(times) is not int or not 1 <= times <= MAX_TIMES:
        return _bad(f"times 应为 1–{MAX_TIMES}")
    transfers = request.app[TRANSFERS]
    transfers.outcomes.extend([f"FAIL:{reason}"] * times)
    return web.json_response({"pending": list(transfers.outcomes)})


async def lose_answer(request: web.Request) -> web.Response:
    body = await json_body(request)
    times = (body or {}).get("times", 1)
    if type(times) is not int or not 1 <= times <= MAX_TIMES:
        return _bad(f'需要 JSON 对象 {{"times": 1}}，times 应为 1–{MAX_TIMES}')
    transfers = request.app[TRANSFERS]
    transfers.answers_to_lose += times
    return web.json_response({"to_lose": transfers.answers_to_lose})


async def redeliver(request: web.Request) -> web.Response:
    pay = request.app[STATE].pay
    body = await json_body(request)
    key = (body or {}).get("out_bill_no")
    notice_id = pay.last_notice.get(f"{SUBJECT}:{key}") if isinstance(key, str) else None
    if notice_id is None:
        return _bad("该转账单还没有发出过通知")
    notified = await request.app[NOTIFIER].send(pay.notifications[notice_id])
    return web.json_response({"out_bill_no": key, "notified": notified})


async def inspect(request: web.Request) -> web.Response:
    await expire_overdue(request.app)
    state, transfers = request.app[STATE], request.app[TRANSFERS]
    return web.json_response(
        {
            "bills": {
                no: {
                    **bill_view(state.pay.keys.mchid, bill),
                    "package_info": bill.package_info,
                    "user_name": bill.user_name,
                    "transfer_scene_id": bill.scene_id,
                    "user_recv_perception": bill.perception,
                    "transfer_scene_report_infos": bill.report_infos,
                    "notify_url": bill.notify_url,
                }
                for no, bill in transfers.bills.items()
            },
            "outcomes": list(transfers.outcomes),
            "answers_to_lose": transfers.answers_to_lose,
        }
    )
