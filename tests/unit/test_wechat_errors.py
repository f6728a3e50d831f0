"""WeChat's errcodes become exceptions callers can match by type."""

import pytest

from commerce.wechat.errors import (
    AccessTokenRefused,
    CodeUsed,
    InvalidCode,
    RateLimited,
    RiskyUser,
    WeChatBusy,
    WeChatError,
    WeChatUnavailable,
    error_for,
)


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [
        (40029, InvalidCode),
        (41008, InvalidCode),
        (40163, CodeUsed),
        (45011, RateLimited),
        (45009, RateLimited),
        (40001, AccessTokenRefused),
        (40014, AccessTokenRefused),
        (42001, AccessTokenRefused),
        (40226, RiskyUser),
        (-1, WeChatBusy),
    ],
)
def test_known_errcodes_have_their_own_exception(errcode, kind):
    error = error_for(errcode, "something, rid: 1")
    assert type(error) is kind
    assert (error.errcode, error.errmsg) == (errcode, "something, rid: 1")


def test_a_used_code_is_an_invalid_code_and_busy_is_worth_retrying():
    assert isinstance(error_for(40163, ""), InvalidCode)
    assert isinstance(error_for(-1, ""), WeChatUnavailable)


def test_unexpected_errcodes_are_plain_wechat_errors():
    error = error_for(40125, "invalid appsecret")
    assert type(error) is WeChatError and "40125" in str(error)
