from datetime import UTC, datetime, timedelta

import pytest

from commerce import clock
from commerce.config import ConfigurationError, load_settings
from commerce.errors import CommerceError, CommonError, ErrorKind


def test_clock_is_aware_utc_and_can_be_frozen_and_moved():
    assert clock.now().tzinfo is not None
    at = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
    with clock.frozen(at) as frozen:
        assert clock.now() == at
        frozen.advance(timedelta(minutes=30))
        assert clock.now() == at + timedelta(minutes=30)
        # midnight UTC is 08:00 in Shanghai
        assert clock.to_shanghai(at).hour == 8
    assert clock.now() != at + timedelta(minutes=30)


def test_naive_times_are_refused_by_the_frozen_clock():
    with pytest.raises(ValueError), clock.frozen(datetime(2026, 1, 1)):
        pass


def test_error_codes_carry_code_kind_and_chinese_message():
    error = CommonError.NOT_FOUND.error()
    assert isinstance(error, CommerceError)
    assert (error.code, error.kind) == ("not_found", ErrorKind.NOT_FOUND)
    assert error.message == "找不到您要的内容"
    assert CommonError.INVALID_REQUEST.error("页码有误").message == "页码有误"


def test_live_mode_refuses_to_start_without_credentials(tmp_path):
    with pytest.raises(ConfigurationError, match="WECHAT_MINIAPP_APPID"):
        load_settings(shop_data_dir=tmp_path, wechat_mode="live", secret_key="x" * 40)


def test_simulator_mode_needs_nothing_and_keeps_one_generated_secret(tmp_path):
    first = load_settings(shop_data_dir=tmp_path, wechat_mode="simulator", secret_key="")
    second = load_settings(shop_data_dir=tmp_path, wechat_mode="simulator", secret_key="")
    assert len(first.signing_key) >= 32
    assert first.signing_key == second.signing_key
    assert first.resolved_database_url.startswith("sqlite://")
    assert first.resolved_api_base.endswith("/_sim")


def test_environment_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "mysql://root:@127.0.0.1:3306/shop")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")
    settings = load_settings()
    assert settings.resolved_database_url == "mysql://root:@127.0.0.1:3306/shop"
    assert settings.resolved_api_base == "https://shop.example.com/_sim"


def test_access_logs_never_show_credentials_or_codes():
    from shop.observability import redact

    line = redact(
        "/_sim/sns/jscode2session?appid=wx1&secret=s3cr3t&js_code=abc&grant_type=authorization_code"
    )
    assert "s3cr3t" not in line and "abc" not in line and "appid=wx1" in line
    assert redact("/x?access_token=tok&q=iphone") == "/x?access_token=***&q=iphone"


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path):
    assert load_settings(shop_data_dir=tmp_path, trusted_proxies="10.0.0.0/8, ::1").trusted_proxies
    with pytest.raises(ValueError, match=r"proxy\.example"):
        load_settings(shop_data_dir=tmp_path, trusted_proxies="10.0.0.1, proxy.example")
