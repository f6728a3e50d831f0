"""Live mode refuses settings that would make it unsafe, naming each; secrets, the data folder
and the SQLite file are private to the service's user from the moment they exist."""

from __future__ import annotations

import os
import stat

import pytest

from commerce.config import ConfigurationError, load_settings, write_secret_file
from wechat_simulator.pay_keys import provision_merchant

GOOD_KEY = "Vq3w8Zt1Lk9sRf2Ye7Hn4Pb6Xc0Md5Ug"  # 32 characters, as random as they come
LIVE = {
    "wechat_mode": "live",
    "secret_key": GOOD_KEY,
    "redis_url": "redis://127.0.0.1:6379/0",
    "public_base_url": "https://shop.example.com",
    "wechat_miniapp_appid": "wx1",
    "wechat_miniapp_secret": "s",
    "wechat_pay_mchid": "1900000001",
    "wechat_pay_apiv3_key": "A" * 16 + "b" * 16,
    "wechat_pay_cert_serial_no": "C0FFEE",
    "wechat_pay_private_key_path": "/etc/shop/apiclient_key.pem",
    "wechat_pay_public_key_id": "PUB_KEY_ID_1",
    "wechat_pay_public_key_path": "/etc/shop/pub_key.pem",
}


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_safe_live_settings_are_accepted(tmp_path):
    settings = load_settings(shop_data_dir=tmp_path, **LIVE)
    assert settings.signing_key == GOOD_KEY
    assert load_settings(shop_data_dir=tmp_path, **{**LIVE, "secret_key": os.urandom(24).hex()})


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("secret_key", "x" * 32, "SECRET_KEY"),  # 32 identical characters
        ("secret_key", "x" * 64, "SECRET_KEY"),
        ("secret_key", "abc123" * 8, "SECRET_KEY"),  # a short block repeated
        ("secret_key", "passwordpasswordpassword12345678", "SECRET_KEY"),  # few distinct characters
        ("secret_key", GOOD_KEY[:31], "SECRET_KEY"),  # too short however random
        ("wechat_pay_apiv3_key", "k" * 31, "WECHAT_PAY_APIV3_KEY"),
        ("wechat_pay_apiv3_key", "k" * 33, "WECHAT_PAY_APIV3_KEY"),
        ("wechat_pay_apiv3_key", "密" * 32, "WECHAT_PAY_APIV3_KEY"),  # 32 characters, 96 bytes
        ("redis_url", "", "REDIS_URL"),
        ("public_base_url", "http://shop.example.com", "PUBLIC_BASE_URL"),
        ("public_base_url", "shop.example.com", "PUBLIC_BASE_URL"),
    ],
)
def test_live_mode_refuses_an_unsafe_setting_and_names_it(tmp_path, setting, value, named):
    with pytest.raises(ConfigurationError, match=named) as refused:
        load_settings(shop_data_dir=tmp_path, **{**LIVE, setting: value})
    # only the setting at fault is named
    others = {"SECRET_KEY", "WECHAT_PAY_APIV3_KEY", "REDIS_URL", "PUBLIC_BASE_URL"} - {named}
    assert not any(other in str(refused.value) for other in others)


def test_the_simulator_needs_none_of_it(tmp_path):
    settings = load_settings(shop_data_dir=tmp_path, wechat_mode="simulator", secret_key="")
    assert settings.redis_url == "" and settings.public_base_url.startswith("http://")


def test_the_data_folder_the_generated_secret_and_the_database_are_private(tmp_path):
    # given a data folder that does not exist yet
    settings = load_settings(shop_data_dir=tmp_path / "var", wechat_mode="simulator", secret_key="")
    # when the service makes its secret and names its database
    key = settings.signing_key
    url = settings.resolved_database_url
    # then the folder is 700 and the key file and the SQLite file 600
    assert _mode(tmp_path / "var") == 0o700
    assert _mode(tmp_path / "var" / "secret_key") == 0o600
    assert _mode(tmp_path / "var" / "shop.sqlite3") == 0o600
    assert url.endswith("shop.sqlite3") and len(key) >= 32
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["secret_key", "shop.sqlite3"]


def test_secret_files_are_never_readable_by_others_even_for_a_moment(tmp_path, monkeypatch):
    # given a process whose umask would make files world-readable, and a spy on every open
    opened: list[tuple[str, int, int]] = []
    real_open = os.open

    def spying_open(path, flags, mode=0o777, *args, **kwargs):
        opened.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    old_umask = os.umask(0)
    try:
        settings = load_settings(shop_data_dir=tmp_path / "var", wechat_mode="simulator", secret_key="")
        settings.signing_key  # noqa: B018 - generates the key file
        provision_merchant(tmp_path / "var" / "simulator", tmp_path / "var" / "wechatpay")
    finally:
        os.umask(old_umask)
    # then every file was created exclusively with mode 600 (no chmod after a looser create)
    created = [(path, mode) for path, flags, mode in opened if flags & os.O_CREAT]
    assert created and all(mode == 0o600 for _, mode in created), created
    assert all(flags & os.O_EXCL for path, flags, _ in opened if flags & os.O_CREAT and ".tmp-" in path)
    secrets_made = [
        tmp_path / "var" / "secret_key",
        *(tmp_path / "var" / "wechatpay").iterdir(),
        *(tmp_path / "var" / "simulator" / "pay").iterdir(),
    ]
    assert len(secrets_made) >= 6
    assert all(_mode(path) == 0o600 for path in secrets_made), [(p, oct(_mode(p))) for p in secrets_made]
    for folder in ("var", "var/wechatpay", "var/simulator", "var/simulator/pay"):
        assert _mode(tmp_path / folder) == 0o700, folder


def test_a_secret_file_is_made_once_and_kept(tmp_path):
    assert write_secret_file(tmp_path / "k", b"first")
    assert not write_secret_file(tmp_path / "k", b"second")
    assert (tmp_path / "k").read_bytes() == b"first" and _mode(tmp_path / "k") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k"]
