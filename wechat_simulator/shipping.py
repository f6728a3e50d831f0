"""The mini-program's order-shipping upload (发货信息管理): a paid WeChat Pay transaction must be
reported shipped.

WeChat's rules (发货信息录入接口, /wxa/sec/order/upload_shipping_info): unified delivery
(delivery_mode 1) is one parcel; split delivery (2) is express only, needs is_all_delivered, and
goes in several uploads, each with parcels of its own, until one says is_all_delivered (at most
15 parcels for a payment). Uploading again for a payment shipped in full, or changing its
delivery mode, is a re-shipment: one is allowed, then WeChat refuses. A split shipment shipped
in full takes no further split uploads, and one under way cannot turn into a unified one.
tracking_no and express_company are required for express (logistics_type 1) only: a pickup (4)
or virtual goods (3) send one shipping_list item with its item_desc alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from wechat_simulator.api import wechat_api
from wechat_simulator.keys import STATE
from wechat_simulator.pay_state import PayState, ShippingUpload, Transaction, parse_rfc3339
from wechat_simulator.replies import error, json_body, ok
from wechat_simulator.tokens import check_access_token

RESHIPMENTS_ALLOWED = 1
MAX_PACKAGES = 15  # shipping_list's multiplicity [1, 15]; also a split payment's parcels in all
MAX_ITEM_DESC = 120
EXPRESS = 1  # logistics_type: 1 express, 2 same-city delivery, 3 virtual goods, 4 picked up by the user
UNIFIED = 1  # delivery_mode: 1 everything at once, 2 split into several packages
SPLIT = 2


class _Refused(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


@wechat_api("upload_shipping_info")
async def upload_shipping_info(request: web.Request) -> web.Response:
    """POST /wxa/sec/order/upload_shipping_info?access_token= {order_key, logistics_type,
    delivery_mode, is_all_delivered?, shipping_list, upload_time, payer: {openid}}"""
    state = request.app[STATE]
    token, errcode = check_access_token(state, request.query.get("access_token"))
    if token is None:
        return error(errcode)
    body = await json_body(request)
    if body is None:
        return error(47001)
    try:
        tx = _transaction(state.pay, body.get("order_key"), token.appid)
        payer = body.get("payer")
        openid = payer.get("openid") if isinstance(payer, dict) else None
        if not isinstance(openid, str) or not openid:
            raise _Refused(10060014)
        if not tx.paid or state.pay.refunded(tx) >= tx.total:
            raise _Refused(10060004)
        if openid != tx.openid:
            raise _Refused(10060031)
        upload = _upload(body, tx, state.now(), state.pay)
    except _Refused as refused:
        return error(refused.errcode)
    state.pay.shipping.setdefault(tx.transaction_id, []).append(upload)
    return ok({"errcode": 0, "errmsg": "ok"})


def _transaction(pay: PayState, order_key: object, appid: str) -> Transaction:
    """order_number_type 1: mchid + out_trade_no; 2: transaction_id."""
    if not isinstance(order_key, dict) or order_key.get("order_number_type") not in (1, 2):
        raise _Refused(10060014)
    if order_key["order_number_type"] == 2:
        transaction_id = order_key.get("transaction_id")
        tx = pay.by_transaction_id(transaction_id) if isinstance(transaction_id, str) else None
    else:
        mchid, out_trade_no = order_key.get("mchid"), order_key.get("out_trade_no")
        if not isinstance(mchid, str) or not isinstance(out_trade_no, str):
            raise _Refused(10060014)
        tx = pay.transactions.get(out_trade_no)
        tx = tx if tx is not None and tx.mchid == mchid else None
    if tx is None or tx.appid != appid:
        raise _Refused(10060001)
    return tx


def _upload(body: dict[str, Any], tx: Transaction, now: datetime, pay: PayState) -> ShippingUpload:
    logistics_type, delivery_mode = body.get("logistics_type"), body.get("delivery_mode")
    is_all_delivered, packages = body.get("is_all_delivered"), body.get("shipping_list")
    if logistics_type not in (1, 2, 3, 4) or type(logistics_type) is not int:
        raise _Refused(10060005)
    if delivery_mode not in (1, 2) or type(delivery_mode) is not int:
        raise _Refused(10060014)
    if is_all_delivered is not None and not isinstance(is_all_delivered, bool):
        raise _Refused(10060014)
    if delivery_mode == SPLIT and logistics_type != EXPRESS:
        raise _Refused(10060006)
    if delivery_mode == SPLIT and is_all_delivered is None:
        raise _Refused(10060007)
    if not isinstance(packages, list) or not packages:
        raise _Refused(10060014)
    if len(packages) > MAX_PACKAGES:
        raise _Refused(10060024)
    if delivery_mode != SPLIT and len(packages) != 1:
        raise _Refused(10060014)
    for package in packages:
        _check_package(package, logistics_type)
    if parse_rfc3339(body.get("upload_time")) is None:
        raise _Refused(10060014)
    earlier = pay.shipping.get(tx.transaction_id, [])
    reupload = _reshipment(earlier, delivery_mode, packages)
    return ShippingUpload(
        at=now,
        transaction_id=tx.transaction_id,
        logistics_type=logistics_type,
        delivery_mode=delivery_mode,
        is_all_delivered=is_all_delivered,
        shipping_list=packages,
        upload_time=body["upload_time"],
        reupload=reupload,
    )


def _reshipment(earlier: list[ShippingUpload], delivery_mode: int, packages: list) -> bool:
    """Whether this upload is a re-shipment (True) or goes on with the shipment (False), or
    refuse it."""
    if not earlier:
        return False
    in_full = any(u.delivery_mode == UNIFIED or u.is_all_delivered for u in earlier)
    split = earlier[0].delivery_mode == SPLIT
    if split and not in_full:  # a split shipment under way takes more parcels, nothing else
        if delivery_mode != SPLIT:
            raise _Refused(10060014)
        known = {str(p.get("tracking_no")) for u in earlier for p in u.shipping_list}
        if len(known | {str(p.get("tracking_no")) for p in packages}) > MAX_PACKAGES:
            raise _Refused(10060024)
        return False
    if split and delivery_mode == SPLIT:  # shipped in full: nothing more to ship
        raise _Refused(10060002)
    if sum(u.reupload for u in earlier) >= RESHIPMENTS_ALLOWED:
        raise _Refused(10060003)
    return True


def _check_package(package: object, logistics_type: int) -> None:
    if not isinstance(package, dict):
        raise _Refused(10060014)
    item_desc = package.get("item_desc")
    if not isinstance(item_desc, str) or not item_desc.strip():
        raise _Refused(10060008)
    if len(item_desc) > MAX_ITEM_DESC:
        raise _Refused(10060009)
    tracking_no, company = package.get("tracking_no"), package.get("express_company")
    if logistics_type != EXPRESS:
        return
    if not isinstance(tracking_no, str) or not tracking_no or not isinstance(company, str) or not company:
        raise _Refused(10060014)
    if len(tracking_no) > 128:
        raise _Refused(10060026)
    if len(company) > 128:
        raise _Refused(10060025)
    contact = package.get("contact")
    if contact is not None and not isinstance(contact, dict):
        raise _Refused(10060014)
    receiver = contact.get("receiver_contact") if contact is not None else None
    if company == "SF" and not (isinstance(receiver, str) and receiver):
        raise _Refused(10060014)  # SF Express needs the receiver's (masked) phone
