"""What can go wrong talking to WeChat.

WeChat answers HTTP 200 with {"errcode", "errmsg"} when it refuses; `error_for` turns the
errcode into one of the exceptions below so callers match on types, never on errmsg.
A network failure, a non-200 answer, an answer that is not what WeChat documents, and
WeChat's own "system busy" (-1) are all WeChatUnavailable: worth trying again later.
"""

from __future__ import annotations


class WeChatUnavailable(Exception):
    """WeChat could not be reached, was busy or answered nonsense: worth trying later."""


class WeChatError(Exception):
    """WeChat answered with an errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class InvalidCode(WeChatError):
    """A login or phone code that is unknown, expired, for another app, or missing (40029, 41008)."""


class CodeUsed(InvalidCode):
    """The single-use code was used already (40163)."""


class RateLimited(WeChatError):
    """Too many calls this minute, or the daily quota is spent (45011, 45009)."""


class AccessTokenRefused(WeChatError):
    """The access token is invalid, not the latest, or expired (40001, 40014, 42001)."""


class RiskyUser(WeChatError):
    """WeChat blocks this user's login: a high-risk account (40226)."""


class OutOfWindow(WeChatError):
    """A customer-service message outside WeChat's window (45015: the 48 hours after the
    follower's last action passed; 45047: the messages that window allows are used up)."""


class NotSubscribed(WeChatError):
    """The shopper has no acceptance left for this template (43101): each acceptance of
    wx.requestSubscribeMessage allows one subscribe message."""


class WeChatBusy(WeChatError, WeChatUnavailable):
    """WeChat's "system error, try later" (-1): both an errcode and a reason to retry later."""


# The access token was refused: refresh it (once) and retry the call.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# A login or phone code that is unknown, expired, already used or missing.
CODE_ERRORS = frozenset({40029, 40163, 41008})
RATE_LIMIT_ERRORS = frozenset({45009, 45011})

_BY_ERRCODE: dict[int, type[WeChatError]] = {
    -1: WeChatBusy,
    40029: InvalidCode,
    41008: InvalidCode,
    40163: CodeUsed,
    45009: RateLimited,
    45011: RateLimited,
    40001: AccessTokenRefused,
    40014: AccessTokenRefused,
    42001: AccessTokenRefused,
    40226: RiskyUser,
    45015: OutOfWindow,
    45047: OutOfWindow,
    43101: NotSubscribed,
}


def error_for(errcode: int, errmsg: str) -> WeChatError:
    """The typed exception for a WeChat errcode (WeChatError itself for codes we do not expect)."""
    return _BY_ERRCODE.get(errcode, WeChatError)(errcode, errmsg)
