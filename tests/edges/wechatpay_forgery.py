"""Notifications built by hand, as WeChat Pay (with its platform key) or as a forger would."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3.utils import rsa_sign

from wechat_simulator.pay_keys import load_platform


def platform(data_dir: Path):
    return load_platform(data_dir / "simulator")


def notification(
    keys,
    resource: dict,
    *,
    event_type: str = "TRANSACTION.SUCCESS",
    original_type: str = "transaction",
    signing_key=None,
    serial: str | None = None,
    timestamp: int | None = None,
    apiv3_key: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a callback: encrypted with the APIv3 key, signed with the platform key
    unless told otherwise."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM((apiv3_key or keys.apiv3_key).encode()).encrypt(
        nonce.encode(), json.dumps(resource).encode(), original_type.encode()
    )
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "create_time": "2026-11-29T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功",
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": original_type,
                "nonce": nonce,
            },
        }
    ).encode()
    return sign(keys, body, signing_key=signing_key, serial=serial, timestamp=timestamp), body


def sign(keys, body: bytes, *, signing_key=None, serial=None, timestamp=None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = secrets.token_hex(16)
    message = f"{stamp}\n{nonce}\n{body.decode()}\n"
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial or keys.public_key_id,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Wechatpay-Signature": rsa_sign(signing_key or keys.platform_private_key, message),
        "Content-Type": "application/json",
    }


def forger_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def paid_transaction(
    *, appid: str, mchid: str, out_trade_no: str, total: int, openid: str, transaction_id: str
) -> dict:
    return {
        "appid": appid,
        "mchid": mchid,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-29T10:00:00+08:00",
        "payer": {"openid": openid},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
    }
