"""The simulator's WeChat Pay behaves like WeChat Pay: signed requests only, signed answers,
encrypted notifications retried until acknowledged, refunds that settle by themselves, and the
mini-program's shipping upload with its refusals."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import stat
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from wechatpayv3.utils import aes_decrypt, build_authorization, rsa_sign, rsa_verify

from shop.app import simulator_config
from wechat_simulator import create_simulator_app
from wechat_simulator.keys import STATE
from wechat_simulator.pay_keys import SIMULATOR_PAY_MCHID, MerchantCredentials, provision_merchant

JSAPI = "/v3/pay/transactions/jsapi"
REFUNDS = "/v3/refund/domestic/refunds"
SHIPPING = "/wxa/sec/order/upload_shipping_info"


class PayClient:
    """The merchant's side: signs every request like wechatpayv3 does, checks every answer's
    signature with WeChat Pay's platform public key."""

    def __init__(self, base: str, credentials: MerchantCredentials, session: aiohttp.ClientSession):
        self.base, self.credentials, self.session = base, credentials, session
        self.key = load_pem_private_key(credentials.private_key_path.read_bytes(), None)
        self.platform_key = load_pem_public_key(credentials.public_key_path.read_bytes())

    async def call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        authorization: str | None = None,
        raw: str | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else json.dumps(body) if body is not None else ""
        if authorization is None:
            authorization = build_authorization(
                path, method, self.credentials.mchid, self.credentials.cert_serial_no, self.key, data=data
            )
        headers = {
            "Authorization": authorization,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Wechatpay-Serial": self.credentials.public_key_id,
        }
        async with self.session.request(method, self.base + path, data=data, headers=headers) as response:
            text = await response.text()
            assert self.signed_by_wechat(response.headers, text), "the answer must be signed by WeChat Pay"
            assert response.headers["Wechatpay-Serial"] == self.credentials.public_key_id
            assert response.headers["Request-ID"]
            return response.status, json.loads(text) if text else None

    def signed_by_wechat(self, headers, body: str) -> bool:
        return headers.get("Wechatpay-Signature-Type") == "WECHATPAY2-SHA256-RSA2048" and rsa_verify(
            headers["Wechatpay-Timestamp"],
            headers["Wechatpay-Nonce"],
            body,
            headers["Wechatpay-Signature"],
            self.platform_key,
        )

    def decrypt(self, resource: dict) -> dict:
        plaintext = aes_decrypt(
            resource["nonce"], resource["ciphertext"], resource["associated_data"], self.credentials.apiv3_key
        )
        assert plaintext is not None, "the resource must decrypt with the APIv3 key"
        return json.loads(plaintext)


class Receiver:
    """The shop's notification endpoint: records what arrives, answers the statuses it is told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        self.answers: list[int] = []
        self.url = ""
        self.appid = ""  # the mini-program it sells through

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.text()))
        return web.Response(status=self.answers.pop(0) if self.answers else 200)

    async def wait_for(self, count: int, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"expected {count} notifications, got {len(self.received)}"
            await asyncio.sleep(0.01)

    def envelopes(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def credentials(settings) -> MerchantCredentials:
    """The merchant's keys, from the folders the simulator under test provisions from."""
    config = simulator_config(settings)
    return provision_merchant(config.data_dir, config.merchant_dir)


@pytest.fixture
async def wechat_pay(simulator, credentials):
    # retries within milliseconds, refunds settle at once, no random duplicates
    state = simulator.app[STATE]
    state.config = dataclasses.replace(
        state.config, notify_retry_scale=0.001, refund_delay_seconds=0.02, duplicate_notify_rate=0.0
    )
    async with aiohttp.ClientSession() as session:
        yield PayClient(str(simulator.make_url("")).rstrip("/"), credentials, session)


@pytest.fixture
async def receiver(aiohttp_server, settings) -> Receiver:
    shop = Receiver()
    shop.appid = next(iter(simulator_config(settings).apps))
    app = web.Application()
    app.router.add_post("/notify", shop.handle)
    server = await aiohttp_server(app)
    shop.url = str(server.make_url("/notify"))
    return shop


def _authorization(client: PayClient, method: str, path: str, timestamp: int, body: str = "") -> str:
    """The Authorization header as of another moment (build_authorization signs "now")."""
    nonce, creds = uuid.uuid4().hex.upper(), client.credentials
    signature = rsa_sign(client.key, f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
    return (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{creds.mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{creds.cert_serial_no}"'
    )


class MovableClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


async def _control(wechat_pay: PayClient, path: str, body: dict | None = None, status: int = 200) -> dict:
    method = "GET" if body is None else "POST"
    async with wechat_pay.session.request(method, wechat_pay.base + path, json=body) as response:
        assert response.status == status, await response.text()
        return await response.json()


def _order(receiver: Receiver, out_trade_no: str = "ORDER20261124001", total: int = 1999, **extra) -> dict:
    return {
        "appid": receiver.appid,
        "mchid": SIMULATOR_PAY_MCHID,
        "description": "华为 FreeBuds 蓝牙耳机",
        "out_trade_no": out_trade_no,
        "notify_url": receiver.url,
        "amount": {"total": total, "currency": "CNY"},
        "payer": {"openid": "oALICE0000000000000000000001"},
        **extra,
    }


async def _paid(wechat_pay: PayClient, receiver: Receiver, out_trade_no: str = "ORDER20261124001", **extra):
    """A transaction the shopper paid; its notification acknowledged."""
    status, prepay = await wechat_pay.call("POST", JSAPI, _order(receiver, out_trade_no, **extra))
    assert status == 200, prepay
    return await _control(wechat_pay, "/pay/confirm", {"prepay_id": prepay["prepay_id"]})


def _refund(out_refund_no: str, refund: int, receiver: Receiver, out_trade_no="ORDER20261124001", total=1999):
    return {
        "out_trade_no": out_trade_no,
        "out_refund_no": out_refund_no,
        "reason": "不想要了",
        "notify_url": receiver.url,
        "amount": {"refund": refund, "total": total, "currency": "CNY"},
    }


# --- keys ----------------------------------------------------------------------------------


def test_provisioning_makes_the_keys_once_and_reads_them_back(tmp_path):
    # given four first calls at the same moment (the lock is per open file: threads race like
    # processes), then a later one
    with ThreadPoolExecutor(4) as pool:
        racing = list(pool.map(lambda _: provision_merchant(tmp_path / "sim", tmp_path / "shop"), range(4)))
    later = provision_merchant(tmp_path / "sim", tmp_path / "shop")
    # then one set of credentials, shaped like WeChat Pay's
    assert all(c == later for c in racing)
    assert later.mchid == SIMULATOR_PAY_MCHID
    assert len(later.apiv3_key) == 32 and later.apiv3_key.isalnum() and later.apiv3_key.isascii()
    assert len(later.cert_serial_no) == 40 and later.cert_serial_no == later.cert_serial_no.upper()
    int(later.cert_serial_no, 16)
    assert later.public_key_id.startswith("PUB_KEY_ID_") and len(later.public_key_id) == 33
    assert later.public_key_id[len("PUB_KEY_ID_") :].isdigit()
    assert later.private_key_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert later.public_key_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    for path in (later.private_key_path, tmp_path / "sim" / "pay" / "platform_private_key.pem"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    ids = json.loads((tmp_path / "sim" / "pay" / "merchant.json").read_text())
    assert ids == json.loads((tmp_path / "shop" / "merchant.json").read_text())


# --- signatures ----------------------------------------------------------------------------


async def test_unsigned_forged_stale_and_foreign_requests_are_refused_with_sign_error(wechat_pay, receiver):
    creds = wechat_pay.credentials
    path = "/v3/pay/transactions/out-trade-no/ORDER20261124001?mchid=" + creds.mchid
    good = build_authorization(path, "GET", creds.mchid, creds.cert_serial_no, wechat_pay.key)
    forged = good.replace('signature="', 'signature="AAAA')
    other_path = build_authorization(path + "x", "GET", creds.mchid, creds.cert_serial_no, wechat_pay.key)
    wrong_serial = build_authorization(path, "GET", creds.mchid, "0" * 40, wechat_pay.key)
    stale = _authorization(wechat_pay, "GET", path, int(time.time()) - 301)
    recent = _authorization(wechat_pay, "GET", path, int(time.time()) - 200)
    for authorization in ("", "Bearer x", forged, other_path, wrong_serial, stale):
        # when the request is not signed by the merchant (now)
        status, answer = await wechat_pay.call("GET", path, authorization=authorization)
        # then WeChat Pay refuses it, and still signs its answer
        assert (status, answer) == (401, {"code": "SIGN_ERROR", "message": "签名错误"}), authorization
    # signed properly, a little while ago: it is looked up
    assert (await wechat_pay.call("GET", path, authorization=recent))[0] == 404


async def test_a_signed_path_without_the_mount_prefix_is_accepted_under_sim(
    aiohttp_server, settings, credentials
):
    # given the simulator mounted under /_sim, as `shop serve` does
    root = web.Application()
    root.add_subapp("/_sim", create_simulator_app(simulator_config(settings)))
    server = await aiohttp_server(root)
    async with aiohttp.ClientSession() as session:
        client = PayClient(str(server.make_url("/_sim")), credentials, session)
        # when the merchant signs WeChat's path (its gateway being .../_sim)
        status, answer = await client.call("GET", "/v3/pay/transactions/out-trade-no/NOPE01?mchid=1900000109")
    # then the signature is good: the order is simply unknown
    assert (status, answer["code"]) == (404, "ORDER_NOT_EXIST")


# --- paying --------------------------------------------------------------------------------


async def test_prepay_confirm_notifies_the_shop_signed_and_encrypted(wechat_pay, receiver):
    # given a prepay
    status, prepay = await wechat_pay.call("POST", JSAPI, _order(receiver))
    assert status == 200 and prepay["prepay_id"].startswith("wx") and len(prepay["prepay_id"]) == 34
    # when the shopper pays
    paid = await _control(wechat_pay, "/pay/confirm", {"prepay_id": prepay["prepay_id"]})
    # then the shop was told, once, before the control endpoint answered
    assert paid["notified"] == [200] and len(receiver.received) == 1
    assert paid["transaction_id"].startswith("4200") and len(paid["transaction_id"]) == 28
    headers, body = receiver.received[0]
    assert wechat_pay.signed_by_wechat(headers, body)
    assert headers["Wechatpay-Serial"] == wechat_pay.credentials.public_key_id
    envelope = json.loads(body)
    assert envelope["event_type"] == "TRANSACTION.SUCCESS" and envelope["summary"] == "支付成功"
    assert envelope["resource_type"] == "encrypt-resource" and envelope["create_time"].endswith("+08:00")
    resource = envelope["resource"]
    assert (resource["algorithm"], resource["original_type"]) == ("AEAD_AES_256_GCM", "transaction")
    # and the resource is the transaction, as the query API tells it
    transaction = wechat_pay.decrypt(resource)
    status, queried = await wechat_pay.call(
        "GET", f"/v3/pay/transactions/out-trade-no/{paid['out_trade_no']}?mchid=1900000109"
    )
    assert status == 200 and transaction == queried
    assert transaction["trade_state"] == "SUCCESS" and transaction["transaction_id"] == paid["transaction_id"]
    assert transaction["amount"] == {
        "total": 1999,
        "payer_total": 1999,
        "currency": "CNY",
        "payer_currency": "CNY",
    }
    assert transaction["payer"] == {"openid": "oALICE0000000000000000000001"}
    assert transaction["success_time"].endswith("+08:00") and transaction["trade_type"] == "JSAPI"


async def test_an_unacknowledged_notification_is_retried_until_the_shop_says_ok(wechat_pay, receiver):
    # given a shop that fails the first time
    receiver.answers = [500]
    # when the shopper pays
    paid = await _paid(wechat_pay, receiver)
    # then WeChat tries again (on its schedule, scaled down here) with the same notification
    assert paid["notified"] == [500]
    await receiver.wait_for(2)
    first, second = receiver.envelopes()
    assert first == second
    assert receiver.received[0][0]["Wechatpay-Nonce"] != receiver.received[1][0]["Wechatpay-Nonce"]
    await asyncio.sleep(0.1)
    assert len(receiver.received) == 2  # acknowledged: no more
    log = (await _control(wechat_pay, "/pay/state"))["notifications"][0]
    assert [a["status"] for a in log["attempts"]] == [500, 200] and log["delivered"] is True


async def test_an_unreachable_shop_is_no_answer_and_is_tried_again(wechat_pay, receiver):
    # given a notify_url nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{sock.getsockname()[1]}/notify"
    # when the shopper pays
    paid = await _paid(wechat_pay, receiver, notify_url=nowhere)
    # then no status, and WeChat keeps trying on its schedule
    assert paid["notified"] == [None]
    await asyncio.sleep(0.1)
    log = (await _control(wechat_pay, "/pay/state"))["notifications"][0]
    assert len(log["attempts"]) >= 2 and log["delivered"] is False
    assert {a["status"] for a in log["attempts"]} == {None} and log["attempts"][0]["error"]


async def test_a_notification_from_three_servers_at_once_arrives_three_times(wechat_pay, receiver):
    prepay = (await wechat_pay.call("POST", JSAPI, _order(receiver)))[1]
    paid = await _control(wechat_pay, "/pay/confirm", {"prepay_id": prepay["prepay_id"], "copies": 3})
    assert paid["notified"] == [200, 200, 200]
    ids = {envelope["id"] for envelope in receiver.envelopes()}
    assert len(receiver.received) == 3 and len(ids) == 1
    assert len({headers["Wechatpay-Nonce"] for headers, _ in receiver.received}) == 3


async def test_redeliver_sends_the_last_notification_again(wechat_pay, receiver):
    paid = await _paid(wechat_pay, receiver)
    again = await _control(wechat_pay, "/pay/redeliver", {"out_trade_no": paid["out_trade_no"]})
    assert again == {**paid, "notified": [200]}
    first, second = receiver.envelopes()
    assert first == second
    await _control(wechat_pay, "/pay/redeliver", {"out_trade_no": "NEVER-PAID"}, status=400)


async def test_duplicates_come_from_another_server_about_a_second_later(wechat_pay, receiver, simulator):
    state = simulator.app[STATE]
    state.config = dataclasses.replace(state.config, duplicate_notify_rate=1.0)
    paid = await _paid(wechat_pay, receiver)
    assert paid["notified"] == [200]
    await receiver.wait_for(2)
    first, second = receiver.envelopes()
    assert first == second
    assert receiver.received[0][0]["Wechatpay-Signature"] != receiver.received[1][0]["Wechatpay-Signature"]


async def test_query_close_and_the_refusals_of_paid_and_closed_orders(wechat_pay, receiver):
    query = "/v3/pay/transactions/out-trade-no/{}?mchid=1900000109"
    close = "/v3/pay/transactions/out-trade-no/{}/close"
    # unknown
    assert await wechat_pay.call("GET", query.format("UNKNOWN1")) == (
        404,
        {"code": "ORDER_NOT_EXIST", "message": "订单不存在"},
    )
    assert (await wechat_pay.call("POST", close.format("UNKNOWN1"), {"mchid": SIMULATOR_PAY_MCHID}))[0] == 404
    # not paid yet: the same order again is the same prepay; changed, it is refused
    first = (await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERCLOSE01")))[1]
    assert (await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERCLOSE01")))[1] == first
    changed = await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERCLOSE01", total=1))
    assert changed == (400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"})
    status, view = await wechat_pay.call("GET", query.format("ORDERCLOSE01"))
    assert (status, view["trade_state"]) == (200, "NOTPAY") and "transaction_id" not in view
    # closed, twice; then it can be neither prepaid nor paid
    assert await wechat_pay.call("POST", close.format("ORDERCLOSE01"), {"mchid": SIMULATOR_PAY_MCHID}) == (
        204,
        None,
    )
    assert await wechat_pay.call("POST", close.format("ORDERCLOSE01"), {"mchid": SIMULATOR_PAY_MCHID}) == (
        204,
        None,
    )
    assert (await wechat_pay.call("GET", query.format("ORDERCLOSE01")))[1]["trade_state"] == "CLOSED"
    assert await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERCLOSE01")) == (
        400,
        {"code": "ORDER_CLOSED", "message": "当前订单已关闭，请重新下单"},
    )
    await _control(wechat_pay, "/pay/confirm", {"prepay_id": first["prepay_id"]}, status=400)
    # paid: no new prepay, no closing
    await _paid(wechat_pay, receiver, "ORDERPAID001")
    paid_again = {"code": "ORDERPAID", "message": "该订单已支付"}
    assert await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERPAID001")) == (400, paid_again)
    assert await wechat_pay.call("POST", close.format("ORDERPAID001"), {"mchid": SIMULATOR_PAY_MCHID}) == (
        400,
        paid_again,
    )


async def test_confirm_refuses_what_the_wechat_sheet_would_refuse(wechat_pay, receiver):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    expired = (await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDEREXPIRED", time_expire=past)))[1]
    for body in ({"prepay_id": "wx-unknown"}, {"prepay_id": expired["prepay_id"]}, {}, {"prepay_id": 1}):
        assert (await _control(wechat_pay, "/pay/confirm", body, status=400))["error"]
    paid = await _paid(wechat_pay, receiver)
    prepay_id = (await _control(wechat_pay, "/pay/state"))["transactions"][paid["out_trade_no"]][
        "prepay_ids"
    ][0]
    assert (await _control(wechat_pay, "/pay/confirm", {"prepay_id": prepay_id}, status=400))["error"]


async def test_a_prepay_lasts_two_hours_and_the_same_order_then_gets_a_new_one(
    wechat_pay, receiver, simulator
):
    # given WeChat's clock, which the merchant's signatures follow
    clock = MovableClock()
    state = simulator.app[STATE]
    state.config = dataclasses.replace(state.config, now=clock)

    async def prepay() -> dict:
        data = json.dumps(_order(receiver, "ORDERLATE001"))
        auth = _authorization(wechat_pay, "POST", JSAPI, int(clock().timestamp()), data)
        status, answer = await wechat_pay.call(
            "POST", JSAPI, _order(receiver, "ORDERLATE001"), authorization=auth
        )
        assert status == 200, answer
        return answer

    first = await prepay()
    clock.advance(hours=1, minutes=59)
    assert await prepay() == first
    # when two hours have passed
    clock.advance(minutes=1)
    # then the first cannot be paid any more, and the same order gets a new prepay that can
    assert (await _control(wechat_pay, "/pay/confirm", {"prepay_id": first["prepay_id"]}, status=400))[
        "error"
    ]
    second = await prepay()
    assert second != first
    assert (await _control(wechat_pay, "/pay/confirm", {"prepay_id": second["prepay_id"]}))["notified"] == [
        200
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"out_trade_no": "short"},
        {"out_trade_no": "has space 123"},
        {"amount": {"total": 0}},
        {"amount": {"total": "100"}},
        {"notify_url": "ftp://example.com/x"},
        {"payer": {}},
        {"description": None},
        {"time_expire": "tomorrow"},
    ],
)
async def test_bad_prepay_parameters_are_param_errors(wechat_pay, receiver, change):
    status, answer = await wechat_pay.call("POST", JSAPI, {**_order(receiver), **change})
    assert (status, answer["code"]) == (400, "PARAM_ERROR")


@pytest.mark.parametrize("path", [JSAPI, REFUNDS, "/v3/pay/transactions/out-trade-no/ORDER20261124001/close"])
@pytest.mark.parametrize("raw", ["", "[]", "null", '"text"', '{"amount": [], "payer": "x", "mchid": 7}'])
async def test_signed_nonsense_is_a_param_error_never_a_crash(wechat_pay, path, raw):
    status, answer = await wechat_pay.call("POST", path, raw=raw)
    assert status == 400 and answer["code"] == "PARAM_ERROR" and answer["message"]


async def test_prepay_checks_the_merchant_and_the_app(wechat_pay, receiver):
    other_mch = await wechat_pay.call("POST", JSAPI, {**_order(receiver), "mchid": "1900000999"})
    assert (other_mch[0], other_mch[1]["code"]) == (400, "MCH_NOT_EXISTS")
    other_app = await wechat_pay.call("POST", JSAPI, {**_order(receiver), "appid": "wx-unknown"})
    assert (other_app[0], other_app[1]["code"]) == (400, "APPID_MCHID_NOT_MATCH")


async def test_an_errcode_fault_is_a_system_error_and_every_call_is_counted(wechat_pay, receiver):
    await _control(wechat_pay, "/wx/faults", {"api": "pay_jsapi", "errcode": -1})
    assert await wechat_pay.call("POST", JSAPI, _order(receiver)) == (
        500,
        {"code": "SYSTEM_ERROR", "message": "系统错误"},
    )
    assert (await wechat_pay.call("POST", JSAPI, _order(receiver)))[0] == 200
    assert (await _control(wechat_pay, "/wx/state"))["calls"]["pay_jsapi"] == 2


# --- refunds -------------------------------------------------------------------------------


async def test_a_refund_settles_by_itself_and_notifies_the_shop(wechat_pay, receiver):
    paid = await _paid(wechat_pay, receiver)
    # when the merchant refunds part of it
    status, refund = await wechat_pay.call("POST", REFUNDS, _refund("REFUND001", 999, receiver))
    # then it is processing, then successful, and the shop is told
    assert status == 200 and refund["status"] == "PROCESSING"
    assert (refund["transaction_id"], refund["out_trade_no"]) == (
        paid["transaction_id"],
        paid["out_trade_no"],
    )
    assert refund["amount"]["refund"] == 999 and refund["amount"]["total"] == 1999
    assert refund["refund_id"].startswith("50") and refund["channel"] == "ORIGINAL"
    await receiver.wait_for(2)
    envelope = receiver.envelopes()[1]
    assert wechat_pay.signed_by_wechat(*receiver.received[1])
    assert (envelope["event_type"], envelope["summary"]) == ("REFUND.SUCCESS", "退款成功")
    notice = wechat_pay.decrypt(envelope["resource"])
    assert notice["refund_status"] == "SUCCESS" and notice["out_refund_no"] == "REFUND001"
    assert notice["amount"] == {"total": 1999, "refund": 999, "payer_total": 1999, "payer_refund": 999}
    assert notice["refund_id"] == refund["refund_id"] and notice["success_time"].endswith("+08:00")
    status, queried = await wechat_pay.call("GET", f"{REFUNDS}/REFUND001")
    assert (status, queried["status"]) == (200, "SUCCESS") and "success_time" in queried
    trade = (
        await wechat_pay.call(
            "GET", f"/v3/pay/transactions/out-trade-no/{paid['out_trade_no']}?mchid=1900000109"
        )
    )[1]
    assert trade["trade_state"] == "REFUND"
    # the same refund asked again is the same refund; another amount under that number is refused
    again = await wechat_pay.call("POST", REFUNDS, _refund("REFUND001", 999, receiver))
    assert again[0] == 200 and again[1]["refund_id"] == refund["refund_id"]
    assert (await wechat_pay.call("POST", REFUNDS, _refund("REFUND001", 5, receiver)))[1][
        "code"
    ] == "INVALID_REQUEST"
    # more than what is left is refused
    assert await wechat_pay.call("POST", REFUNDS, _refund("REFUND002", 1001, receiver)) == (
        403,
        {"code": "NOT_ENOUGH", "message": "退款金额超过可退金额"},
    )
    assert (await wechat_pay.call("POST", REFUNDS, _refund("REFUND002", 1000, receiver)))[0] == 200


async def test_refunds_of_unpaid_orders_and_wrong_totals_are_refused(wechat_pay, receiver):
    assert (await wechat_pay.call("POST", REFUNDS, _refund("REFUNDX", 1, receiver)))[1][
        "code"
    ] == "RESOURCE_NOT_EXISTS"
    await _paid(wechat_pay, receiver)
    wrong_total = await wechat_pay.call("POST", REFUNDS, _refund("REFUNDX", 1, receiver, total=2000))
    assert (wrong_total[0], wrong_total[1]["code"]) == (400, "PARAM_ERROR")
    assert (await wechat_pay.call("GET", f"{REFUNDS}/REFUNDX"))[0] == 404


async def test_a_refund_can_be_made_to_end_abnormal(wechat_pay, receiver):
    await _paid(wechat_pay, receiver)
    assert await _control(wechat_pay, "/pay/refund-outcome", {"outcome": "ABNORMAL"}) == {
        "pending": ["ABNORMAL"]
    }
    await wechat_pay.call("POST", REFUNDS, _refund("REFUNDBAD", 100, receiver))
    await receiver.wait_for(2)
    envelope = receiver.envelopes()[1]
    assert (envelope["event_type"], envelope["summary"]) == ("REFUND.ABNORMAL", "退款异常")
    assert wechat_pay.decrypt(envelope["resource"])["refund_status"] == "ABNORMAL"
    queried = (await wechat_pay.call("GET", f"{REFUNDS}/REFUNDBAD"))[1]
    assert queried["status"] == "ABNORMAL" and "success_time" not in queried
    # the merchant resolves it at the merchant platform: PROCESSING again, then SUCCESS
    assert (await _control(wechat_pay, "/pay/resolve-abnormal", {"out_refund_no": "REFUNDBAD"}))[
        "status"
    ] == "PROCESSING"
    await receiver.wait_for(3)
    resolved = receiver.envelopes()[2]
    assert resolved["event_type"] == "REFUND.SUCCESS"
    assert wechat_pay.decrypt(resolved["resource"])["refund_status"] == "SUCCESS"
    # the next one succeeds again
    await wechat_pay.call("POST", REFUNDS, _refund("REFUNDOK", 100, receiver))
    await receiver.wait_for(4)
    assert receiver.envelopes()[3]["event_type"] == "REFUND.SUCCESS"
    # one that is not ABNORMAL is not resolved
    await _control(wechat_pay, "/pay/resolve-abnormal", {"out_refund_no": "REFUNDOK"}, status=400)


async def test_a_refund_can_end_closed_and_a_notification_can_be_lost(wechat_pay, receiver):
    await _paid(wechat_pay, receiver)
    await _control(wechat_pay, "/pay/refund-outcome", {"outcome": "CLOSED"})
    assert await _control(wechat_pay, "/pay/lose-notifications", {"times": 1}) == {"to_lose": 1}
    await wechat_pay.call("POST", REFUNDS, _refund("REFUNDLOST", 100, receiver))
    # the refund ends CLOSED, but its notification never arrives
    for _ in range(100):
        if (await wechat_pay.call("GET", f"{REFUNDS}/REFUNDLOST"))[1]["status"] == "CLOSED":
            break
        await asyncio.sleep(0.02)
    state = await _control(wechat_pay, "/pay/state")
    lost = [n for n in state["notifications"] if n.get("out_refund_no") == "REFUNDLOST"]
    assert [(n["event_type"], n["attempts"], n["gave_up"]) for n in lost] == [("REFUND.CLOSED", [], True)]
    assert len(receiver.envelopes()) == 1
    # a redelivery sends it
    await _control(wechat_pay, "/pay/redeliver", {"out_refund_no": "REFUNDLOST"})
    await receiver.wait_for(2)
    envelope = receiver.envelopes()[1]
    assert (envelope["event_type"], envelope["summary"]) == ("REFUND.CLOSED", "退款关闭")


# --- shipping ------------------------------------------------------------------------------


async def _token(wechat_pay: PayClient, settings) -> str:
    appid, secret = next(iter(simulator_config(settings).apps.items()))
    body = {"grant_type": "client_credential", "appid": appid, "secret": secret}
    async with wechat_pay.session.post(wechat_pay.base + "/cgi-bin/stable_token", json=body) as response:
        return (await response.json())["access_token"]


def _shipping(openid: str, transaction_id: str = "", **extra) -> dict:
    return {
        "order_key": {"order_number_type": 2, "transaction_id": transaction_id},
        "logistics_type": 1,
        "delivery_mode": 1,
        "shipping_list": [
            {
                "tracking_no": "YT1234567890",
                "express_company": "YTO",
                "item_desc": "华为 FreeBuds 蓝牙耳机*1",
                "contact": {"receiver_contact": "138****8000"},
            }
        ],
        "upload_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "payer": {"openid": openid},
        **extra,
    }


def _parcel(tracking_no: str) -> dict:
    return {"tracking_no": tracking_no, "express_company": "YTO", "item_desc": "耳机*1"}


async def _upload(wechat_pay: PayClient, token: str, body: dict) -> dict:
    url = f"{wechat_pay.base}{SHIPPING}?access_token={token}"
    async with wechat_pay.session.post(url, json=body) as response:
        assert response.status == 200
        return await response.json()


async def test_shipping_is_uploaded_once_and_re_uploaded_once(wechat_pay, receiver, settings):
    alice = (await _control(wechat_pay, "/wx/login-code", {"user": "alice"}))["openid"]
    bob = (await _control(wechat_pay, "/wx/login-code", {"user": "bob"}))["openid"]
    token = await _token(wechat_pay, settings)
    unpaid = await wechat_pay.call("POST", JSAPI, _order(receiver, "ORDERSHIP002", payer={"openid": alice}))
    assert unpaid[0] == 200
    paid = await _paid(wechat_pay, receiver, "ORDERSHIP001", payer={"openid": alice})
    body = _shipping(alice, paid["transaction_id"])
    # refused: unknown, unpaid (by its merchant order number), somebody else's
    assert (await _upload(wechat_pay, token, _shipping(alice, "4200000000")))["errcode"] == 10060001
    by_out_trade_no = {"order_number_type": 1, "mchid": SIMULATOR_PAY_MCHID, "out_trade_no": "ORDERSHIP002"}
    unpaid_upload = await _upload(wechat_pay, token, {**body, "order_key": by_out_trade_no})
    assert unpaid_upload["errcode"] == 10060004 and unpaid_upload["errmsg"].startswith(
        "支付单处于不可发货的状态"
    )
    assert (await _upload(wechat_pay, token, _shipping(bob, paid["transaction_id"])))["errcode"] == 10060031
    # accepted, re-uploaded once, then refused
    assert await _upload(wechat_pay, token, body) == {"errcode": 0, "errmsg": "ok"}
    assert await _upload(wechat_pay, token, body) == {"errcode": 0, "errmsg": "ok"}
    assert (await _upload(wechat_pay, token, body))["errcode"] == 10060003
    uploads = (await _control(wechat_pay, "/pay/state"))["shipping"][paid["transaction_id"]]
    assert [u["reupload"] for u in uploads] == [False, True]
    assert uploads[0]["shipping_list"][0]["tracking_no"] == "YT1234567890"
    assert (await _control(wechat_pay, "/wx/state"))["shipping_uploads"] == 2


@pytest.mark.parametrize(
    ("change", "errcode"),
    [
        ({"logistics_type": 5}, 10060005),
        ({"shipping_list": [{"tracking_no": "T1", "express_company": "YTO", "item_desc": ""}]}, 10060008),
        (
            {"shipping_list": [{"tracking_no": "T1", "express_company": "YTO", "item_desc": "x" * 121}]},
            10060009,
        ),
        ({"shipping_list": [{"express_company": "YTO", "item_desc": "耳机"}]}, 10060014),
        ({"shipping_list": [{"tracking_no": "SF1", "express_company": "SF", "item_desc": "耳机"}]}, 10060014),
        (
            {
                "delivery_mode": 2,
                "is_all_delivered": True,
                "shipping_list": [{"tracking_no": "T1", "express_company": "YTO", "item_desc": "耳机"}] * 16,
            },
            10060024,
        ),
        ({"delivery_mode": 2, "shipping_list": [_parcel("T1")]}, 10060007),
        ({"delivery_mode": 2, "is_all_delivered": True, "logistics_type": 4}, 10060006),
        ({"shipping_list": [_parcel("T1"), _parcel("T2")]}, 10060014),
        ({"order_key": {"order_number_type": 3}}, 10060014),
    ],
)
async def test_shipping_refusals(wechat_pay, receiver, settings, change, errcode):
    alice = (await _control(wechat_pay, "/wx/login-code", {"user": "alice"}))["openid"]
    paid = await _paid(wechat_pay, receiver, payer={"openid": alice})
    answer = await _upload(
        wechat_pay, await _token(wechat_pay, settings), {**_shipping(alice, paid["transaction_id"]), **change}
    )
    assert answer["errcode"] == errcode


async def test_split_shipping_goes_in_several_uploads_until_all_is_delivered(wechat_pay, receiver, settings):
    alice = (await _control(wechat_pay, "/wx/login-code", {"user": "alice"}))["openid"]
    token = await _token(wechat_pay, settings)
    paid = await _paid(wechat_pay, receiver, "ORDERSPLIT01", payer={"openid": alice})

    def split(*tracking: str, done: bool) -> dict:
        parcels = {"shipping_list": [_parcel(t) for t in tracking]}
        return _shipping(alice, paid["transaction_id"], delivery_mode=2, is_all_delivered=done, **parcels)

    # given one merchant's parcel is uploaded as split delivery, not all delivered
    assert await _upload(wechat_pay, token, split("YT001", done=False)) == {"errcode": 0, "errmsg": "ok"}
    # then a unified upload cannot take over the split shipment under way
    assert (await _upload(wechat_pay, token, _shipping(alice, paid["transaction_id"])))["errcode"] == 10060014
    # when the other merchant's parcel follows (with the first again) and says all is delivered
    assert await _upload(wechat_pay, token, split("YT001", "ZT002", done=True)) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    # then WeChat takes no further split upload
    assert (await _upload(wechat_pay, token, split("YT003", done=True)))["errcode"] == 10060002
    uploads = (await _control(wechat_pay, "/pay/state"))["shipping"][paid["transaction_id"]]
    assert [(u["delivery_mode"], u["is_all_delivered"], u["reupload"]) for u in uploads] == [
        (2, False, False),
        (2, True, False),
    ]


async def test_a_split_payment_takes_at_most_fifteen_parcels_in_all(wechat_pay, receiver, settings):
    alice = (await _control(wechat_pay, "/wx/login-code", {"user": "alice"}))["openid"]
    token = await _token(wechat_pay, settings)
    paid = await _paid(wechat_pay, receiver, "ORDERSPLIT02", payer={"openid": alice})
    first = [_parcel(f"YT{n:03}") for n in range(10)]
    more = [_parcel(f"ZT{n:03}") for n in range(6)]
    body = _shipping(alice, paid["transaction_id"], delivery_mode=2, is_all_delivered=False)
    assert (await _upload(wechat_pay, token, {**body, "shipping_list": first}))["errcode"] == 0
    assert (await _upload(wechat_pay, token, {**body, "shipping_list": more}))["errcode"] == 10060024
    assert (await _upload(wechat_pay, token, {**body, "shipping_list": more[:5]}))["errcode"] == 0


async def test_shipping_needs_a_valid_access_token(wechat_pay):
    assert (await _upload(wechat_pay, "made-up", {}))["errcode"] == 40001


# --- control -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/pay/confirm", b"nope"),
        ("/pay/confirm", b'{"prepay_id": "wx1", "copies": 6}'),
        ("/pay/redeliver", b"{}"),
        ("/pay/redeliver", b'{"out_trade_no": "a", "out_refund_no": "b"}'),
        ("/pay/redeliver", b'{"out_refund_no": ["x"]}'),
        ("/pay/refund-outcome", b'{"outcome": "MAYBE"}'),
        ("/pay/refund-outcome", b'{"outcome": "ABNORMAL", "times": 0}'),
        ("/pay/refund-outcome", b"[]"),
        ("/pay/resolve-abnormal", b"{}"),
        ("/pay/resolve-abnormal", b'{"out_refund_no": "NEVER-ASKED"}'),
        ("/pay/lose-notifications", b'{"times": 0}'),
        ("/pay/lose-notifications", b"[]"),
    ],
)
async def test_pay_control_endpoints_refuse_bad_input_with_400(wechat_pay, path, body):
    async with wechat_pay.session.post(wechat_pay.base + path, data=body) as response:
        assert response.status == 400
        assert (await response.json())["error"]


async def test_pay_state_shows_transactions_refunds_and_deliveries(wechat_pay, receiver):
    paid = await _paid(wechat_pay, receiver)
    state = await _control(wechat_pay, "/pay/state")
    transaction = state["transactions"][paid["out_trade_no"]]
    assert transaction["trade_state"] == "SUCCESS" and transaction["transaction_id"] == paid["transaction_id"]
    assert transaction["amount"]["total"] == 1999 and len(transaction["prepay_ids"]) == 1
    assert state["notifications"][0]["out_trade_no"] == paid["out_trade_no"]
    assert state["notifications"][0]["attempts"][0]["status"] == 200
    assert state["merchant"]["mchid"] == SIMULATOR_PAY_MCHID and state["refunds"] == {}
    assert uuid.UUID(state["notifications"][0]["id"])


@pytest.mark.parametrize("logistics_type", [3, 4])
async def test_a_pickup_or_virtual_upload_needs_only_the_item_description(
    wechat_pay, receiver, settings, logistics_type
):
    alice = (await _control(wechat_pay, "/wx/login-code", {"user": "alice"}))["openid"]
    paid = await _paid(wechat_pay, receiver, payer={"openid": alice})
    body = _shipping(
        alice, paid["transaction_id"], logistics_type=logistics_type, shipping_list=[{"item_desc": "耳机*1"}]
    )
    assert await _upload(wechat_pay, await _token(wechat_pay, settings), body) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    # an empty description is still refused
    body["shipping_list"] = [{"item_desc": ""}]
    assert (await _upload(wechat_pay, await _token(wechat_pay, settings), body))["errcode"] == 10060008
