"""WeChat's official-account server protocol: who is calling (signature, replay window, app id),
what they say (plaintext or safe mode), and how we answer (XML, encrypted in safe mode).

wechatpy does the parsing, the AES and the reply XML; the checks around them are ours.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from commerce import clock
from commerce.config import Settings

# A push older or newer than this is a replay (or a wrong clock): refused.
REPLAY_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds; more would be no time at all


class Refused(Exception):
    """The request is not provably from WeChat for our account: 403, nothing done."""


class Unreadable(Exception):
    """A push that passed every check but makes no sense (an element twice, a sender that is no
    openid, a time or MsgId out of range): answered "success" and ignored, since WeChat would
    only try it again in vain and then tell the follower the account cannot serve them."""


@dataclass(frozen=True)
class Push:
    message: Any  # a wechatpy message or event
    safe_mode: bool
    nonce: str
    timestamp: str


class MpProtocol:
    def __init__(self, settings: Settings) -> None:
        self.token = settings.mp_token
        self.appid = settings.mp_appid
        key = settings.mp_aes_key
        # Without a token anyone could sign (sha1 of public values): refuse everything then. A
        # key that is not WeChat's 43 characters is a mistake, not a choice of plaintext mode.
        self.configured = bool(self.token and self.appid and (not key or len(key) == 43))
        # The query signature covers no body: with a key, only the encrypted body (signed by
        # msg_signature) is WeChat's word; plaintext, or compatible mode's plaintext half, is not.
        self.safe_only = bool(key)
        self._crypto = WeChatCrypto(self.token, key, self.appid) if self.configured and key else None

    def check(self, query: Any) -> None:
        """The query signature (sha1 of token, timestamp, nonce) and the replay window."""
        if not self.configured:
            raise Refused("the official account is not configured (WECHAT_MP_TOKEN, _APPID; _AES_KEY of 43)")
        timestamp, nonce = str(query.get("timestamp", "")), str(query.get("nonce", ""))
        expected = hashlib.sha1("".join(sorted([self.token, timestamp, nonce])).encode()).hexdigest()
        if not hmac.compare_digest(expected, str(query.get("signature", ""))):
            raise Refused("bad signature")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise Refused("no timestamp")
        skew = abs(clock.now().timestamp() - int(timestamp))
        if skew > REPLAY_WINDOW_SECONDS:
            raise Refused(f"timestamp {int(skew)} s off")

    def open(self, query: Any, body: bytes) -> Push:
        """The push, checked and (in safe mode) decrypted."""
        self.check(query)
        timestamp, nonce = str(query["timestamp"]), str(query["nonce"])
        safe_mode = query.get("encrypt_type") == "aes"
        if self.safe_only and not safe_mode:
            raise Refused("a plaintext push, but an EncodingAESKey is configured (safe mode only)")
        if safe_mode and self._crypto is None:
            raise Refused("an encrypted push, but no EncodingAESKey is configured")
        try:
            xml = body.decode("utf-8")
            if self._crypto is not None:  # compatible mode's plaintext half is never read
                xml = self._crypto.decrypt_message(xml, str(query.get("msg_signature", "")), timestamp, nonce)
            fields = xmltodict.parse(xml)["xml"]
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise Refused(type(exc).__name__) from None
        except Exception as exc:  # malformed XML, bad base64 or padding: not WeChat's
            raise Refused(f"unreadable: {type(exc).__name__}") from None
        if not isinstance(fields, dict) or not fields.get("FromUserName"):
            raise Refused("no sender")
        _check_sense(fields)
        try:
            message = parse_message(xml)
            message.create_time  # noqa: B018 - read now: wechatpy converts fields when read
        except Exception as exc:  # a time past datetime's range, a MsgType wechatpy cannot take
            raise Unreadable(f"unreadable: {type(exc).__name__}") from None
        return Push(message=message, safe_mode=safe_mode, nonce=nonce, timestamp=timestamp)

    def seal(self, push: Push, reply_xml: str) -> str:
        """The answer as WeChat expects it: encrypted when the push was."""
        if not push.safe_mode or not reply_xml or self._crypto is None:
            return reply_xml
        return self._crypto.encrypt_message(reply_xml, push.nonce, push.timestamp)


_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_MSG_ID = 2**64 - 1


def _check_sense(fields: dict[str, Any]) -> None:
    """What wechatpy and our tables take for granted of a push: Unreadable otherwise."""
    repeated = sorted(name for name, value in fields.items() if isinstance(value, list))
    if repeated:
        raise Unreadable(f"elements given more than once: {', '.join(repeated[:5])}")
    if not isinstance(fields["FromUserName"], str) or not _OPENID.match(fields["FromUserName"]):
        raise Unreadable("the sender is no openid")
    for name in ("CreateTime", "MsgId", "MsgID"):
        value = fields.get(name)
        if value is None and name != "CreateTime":
            continue
        digits = value if isinstance(value, str) else ""
        if not (digits.isascii() and digits.isdigit() and int(digits[:21] or "0") <= _MAX_MSG_ID):
            raise Unreadable(f"{name} is no number in range")
        if name == "CreateTime" and len(digits) > MAX_TIMESTAMP_DIGITS:
            raise Unreadable("CreateTime is no time")


def dedupe_key(message: Any) -> str:
    """WeChat repeats a push it got no answer to: messages by MsgId, events by sender and time."""
    if getattr(message, "type", "") == "event":
        # Two clicks within one second differ by their key: not a repeat.
        key = getattr(message, "key", None) or getattr(message, "scene_id", None) or ""
        return f"mp:seen:{message.source}:{int(message.create_time.timestamp())}:{message.event}:{key}"
    return f"mp:seen:{message.id}"
