"""The webhook's checks that need no server."""

import hashlib
import time

import pytest

from bot.protocol import MpProtocol, Refused
from commerce.config import load_settings


def _query(token: str, timestamp: int) -> dict[str, str]:
    nonce = "n0nce"
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce}


def test_an_unconfigured_official_account_refuses_everything(tmp_path):
    # given live mode without the official account's token (anyone could sign with "")
    settings = load_settings(
        shop_data_dir=tmp_path,
        wechat_mode="live",
        secret_key="Vq3w8Zt1Lk9sRf2Ye7Hn4Pb6Xc0Md5Ug",
        redis_url="redis://127.0.0.1:6379/0",
        public_base_url="https://shop.example.com",
        wechat_miniapp_appid="wx1",
        wechat_miniapp_secret="s",
        wechat_pay_mchid="1",
        wechat_pay_apiv3_key="k" * 32,
        wechat_pay_cert_serial_no="c",
        wechat_pay_private_key_path="p",
        wechat_pay_public_key_id="PUB_KEY_ID_1",
        wechat_pay_public_key_path="q",
    )
    protocol = MpProtocol(settings)
    with pytest.raises(Refused):
        protocol.check(_query("", int(time.time())))


def test_the_simulator_account_checks_signature_and_window(tmp_path):
    settings = load_settings(shop_data_dir=tmp_path, wechat_mode="simulator")
    protocol = MpProtocol(settings)
    protocol.check(_query(settings.mp_token, int(time.time())))
    for bad in (_query("wrong", int(time.time())), _query(settings.mp_token, int(time.time()) - 301)):
        with pytest.raises(Refused):
            protocol.check(bad)
