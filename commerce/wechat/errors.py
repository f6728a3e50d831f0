"""What can go wrong talking to WeChat."""

from __future__ import annotations

# The access token was refused: refresh it (once) and retry the call.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# A login or phone code that is unknown, expired or already used.
CODE_ERRORS = frozenset({40029, 40163, 41008})


class WeChatError(Exception):
    """WeChat answered with an errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(Exception):
    """WeChat could not be reached, was busy (-1) or answered nonsense: worth trying later."""
