"""Pushes built the way WeChat builds them: XML, the query signature, and in safe mode the
message encrypted with wechatpy's crypto (so the bot's checks meet the real thing)."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from xml.sax.saxutils import escape

import xmltodict
from wechatpy.crypto import WeChatCrypto

from commerce.config import Settings

_msg_ids = itertools.count(int(time.time() * 1000))
ACCOUNT = "gh_0123456789ab"


def text_xml(openid: str, content: str, *, msg_id: int | None = None, create_time: int | None = None) -> str:
    return _xml(openid, "text", create_time, Content=content, MsgId=msg_id or next(_msg_ids))


def event_xml(openid: str, event: str, *, key: str = "", create_time: int | None = None, **extra) -> str:
    return _xml(openid, "event", create_time, Event=event, EventKey=key, **extra)


def message_xml(openid: str, msg_type: str, **fields) -> str:
    return _xml(openid, msg_type, None, MsgId=next(_msg_ids), **fields)


def _xml(openid: str, msg_type: str, create_time: int | None, **fields) -> str:
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    parts += [f"<{name}>{escape(str(value))}</{name}>" for name, value in fields.items()]
    return "<xml>" + "".join(parts) + "</xml>"


def signed_query(token: str, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    timestamp_text, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(5)
    signature = hashlib.sha1("".join(sorted([token, timestamp_text, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp_text, "nonce": nonce}


def plaintext(settings: Settings, xml: str, **query_overrides) -> tuple[dict[str, str], str]:
    query = {**signed_query(settings.mp_token, **query_overrides)}
    return query, xml


def safe_mode(settings: Settings, xml: str, *, appid: str | None = None, **query_overrides):
    """(query, body) of an encrypted push, as WeChat sends it in safe mode."""
    query = signed_query(settings.mp_token, **query_overrides)
    crypto = WeChatCrypto(settings.mp_token, settings.mp_aes_key, appid or settings.mp_appid)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))["xml"]
    encrypted = f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt>"
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>{encrypted}</xml>"
    return {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}, body


def read_reply(settings: Settings, text: str, query: dict[str, str]) -> dict | None:
    """The bot's reply as a dict (decrypted in safe mode), or None for "success"."""
    if text in ("", "success"):
        return None
    if query.get("encrypt_type") == "aes":
        crypto = WeChatCrypto(settings.mp_token, settings.mp_aes_key, settings.mp_appid)
        envelope = xmltodict.parse(text)["xml"]
        text = crypto.decrypt_message(
            text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
    return xmltodict.parse(text)["xml"]


def compatible_mode(settings: Settings, xml: str, **query_overrides) -> tuple[dict[str, str], str]:
    """(query, body) as WeChat sends it in compatible mode: the safe-mode query, and a body with
    the plaintext elements beside <Encrypt>."""
    query, body = safe_mode(settings, xml, **query_overrides)
    inner = (
        xml.removeprefix("<xml>")
        .removesuffix("</xml>")
        .replace(f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>", "")
    )
    return query, body.replace("</xml>", inner + "</xml>")


def push_of(settings: Settings, xml: str, **query_overrides) -> tuple[dict[str, str], str]:
    """(query, body) as WeChat sends it to this shop: encrypted when it has an EncodingAESKey."""
    return (safe_mode if settings.mp_aes_key else plaintext)(settings, xml, **query_overrides)


async def push(client, settings: Settings, xml: str, *, safe: bool | None = None, **query_overrides):
    """POST a push to the webhook: (status, reply dict or None, response text). Encrypted when
    the shop has an EncodingAESKey (WeChat sends what the account chose), unless told."""
    safe = bool(settings.mp_aes_key) if safe is None else safe
    query, body = (safe_mode if safe else plaintext)(settings, xml, **query_overrides)
    response = await client.post("/wechat/mp", params=query, data=body.encode())
    text = await response.text()
    reply = read_reply(settings, text, query) if response.status == 200 else None
    return response.status, reply, text
