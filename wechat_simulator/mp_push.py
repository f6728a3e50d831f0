"""WeChat pushes a follower's message or event to the official account's webhook, as WeChat does:

  POST webhook_url?signature&timestamp&nonce&openid[&encrypt_type=aes&msg_signature]
  plaintext mode: the message's XML; safe mode: <xml><ToUserName/><Encrypt/></xml>;
  compatible mode: the safe-mode query, and the message's elements beside <Encrypt>

WeChat waits mp_reply_timeout_seconds (5 s) for the answer; without one (or on a connection
error or a status other than 200) it tries again, three attempts in all, with the same message
(the same MsgId; events the same FromUserName and CreateTime). The answer "" or "success" is
no reply; anything else must be a reply XML (in safe mode encrypted, its MsgSignature right;
in compatible mode encrypted or not)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from wechat_simulator.config import OfficialAccount
from wechat_simulator.state import SimulatorState

ATTEMPTS = 3
STALE_SECONDS = 600  # tamper "stale": signed ten minutes ago
TAMPERING = ("signature", "body", "stale")
REPLY_TYPES = ("text", "image", "voice", "video", "music", "news", "transfer_customer_service")
_NOT_SHOWN = ("ToUserName", "FromUserName", "CreateTime")


@dataclass
class Push:
    account: OfficialAccount
    user: str
    openid: str
    fields: dict[str, Any]  # the message's XML elements, in order
    mode: str  # one of config.PUSH_MODES
    tamper: str | None  # for tests of the webhook: one of TAMPERING

    @property
    def msg_id(self) -> int | None:
        return self.fields.get("MsgId", self.fields.get("MsgID"))


def to_xml(fields: dict[str, Any]) -> str:
    """WeChat's XML: numbers bare, texts in CDATA."""
    parts = []
    for name, value in fields.items():
        shown = value if isinstance(value, int | float) else _cdata(str(value))
        parts.append(f"<{name}>{shown}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def _wrong(signature_: str) -> str:
    return signature_[:-1] + ("0" if signature_[-1] != "0" else "1")


async def deliver(state: SimulatorState, push: Push) -> dict[str, Any]:
    """Push it (up to three attempts) -> {"status", "attempts", "reply", "raw", "msg_id", "error"}."""
    account, config = push.account, state.config
    query, body, crypto = _signed(state, push)
    status: int | None = None
    text, problem, attempts = "", "", 0
    async with aiohttp.ClientSession() as session:
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(config.mp_retry_delay_seconds)
            attempts += 1
            status, text, problem = None, "", ""
            try:
                async with session.post(
                    account.webhook_url,
                    params=query,
                    data=body.encode(),
                    headers={"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"},
                    timeout=aiohttp.ClientTimeout(total=config.mp_reply_timeout_seconds),
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    text = (await response.read()).decode("utf-8", errors="replace")
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                problem = "没有在时限内回答" if isinstance(exc, TimeoutError) else type(exc).__name__
            if status == 200:
                break
            problem = problem or f"HTTP {status}"
    reply, raw = None, text
    if status == 200:
        reply, raw, problem = _read_reply(text, push, crypto)
    if reply is not None:
        shown = {k: v for k, v in reply.items() if k not in _NOT_SHOWN}
        state.mp.follower(state, account.appid, push.user).record(
            "reply", state.now(), reply["MsgType"], shown
        )
    return {
        "status": status,
        "attempts": attempts,
        "reply": reply,
        "raw": raw,
        "msg_id": push.msg_id,
        "error": problem or None,
    }


def _signed(state: SimulatorState, push: Push) -> tuple[dict[str, str], str, WeChatCrypto | None]:
    """The query string and the body, signed (and in safe mode encrypted) as WeChat does, then
    spoiled as the test asked."""
    account = push.account
    timestamp = str(int(state.now().timestamp()) - (STALE_SECONDS if push.tamper == "stale" else 0))
    nonce = str(10**9 + secrets.randbelow(9 * 10**9))
    query = {
        "signature": signature(account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": push.openid,
    }
    xml = to_xml(push.fields)
    altered = to_xml({**push.fields, "Content": f"{push.fields.get('Content', '')}[tampered]"})
    crypto = None
    if push.mode == "plain":
        body = altered if push.tamper == "body" else xml
    else:
        crypto = WeChatCrypto(account.token, account.aes_key, account.appid)
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        encrypt = envelope["Encrypt"]
        if push.tamper == "body":  # signed, then another body put in its place
            encrypt = xmltodict.parse(crypto.encrypt_message(altered, nonce, timestamp))["xml"]["Encrypt"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        body = to_xml({"ToUserName": push.fields["ToUserName"], "Encrypt": encrypt})
        if push.mode == "compatible":  # the plaintext too, as WeChat sends while one migrates
            body = to_xml({**push.fields, "Encrypt": encrypt})
    if push.tamper == "signature":
        query["signature"] = _wrong(query["signature"])
        if "msg_signature" in query:
            query["msg_signature"] = _wrong(query["msg_signature"])
    return query, body, crypto


def _read_reply(text: str, push: Push, crypto: WeChatCrypto | None) -> tuple[dict[str, Any] | None, str, str]:
    """The webhook's answer -> (the reply as a dict or None, its (decrypted) text, what is wrong)."""
    raw = text.strip()
    if raw in ("", "success"):
        return None, text, ""
    try:
        doc = xmltodict.parse(raw)["xml"]
        encrypted = isinstance(doc, dict) and "Encrypt" in doc
        if crypto is not None and (encrypted or push.mode == "safe"):
            if not encrypted:
                return None, text, "安全模式下回复必须加密"
            raw = crypto.decrypt_message(raw, doc.get("MsgSignature"), doc.get("TimeStamp"), doc.get("Nonce"))
            doc = xmltodict.parse(raw)["xml"]
    except InvalidSignatureException:
        return None, text, "回复的 MsgSignature 不对"
    except Exception as exc:  # whatever it is, WeChat shows the follower "该公众号暂时无法提供服务"
        return None, text, f"回复无法解析（{type(exc).__name__}）"
    if not isinstance(doc, dict):
        return None, raw, "回复不是消息 XML"
    if doc.get("ToUserName") != push.openid or doc.get("FromUserName") != push.fields["ToUserName"]:
        return None, raw, "回复的 ToUserName 应为粉丝的 openid，FromUserName 应为公众号原始 ID"
    if doc.get("MsgType") not in REPLY_TYPES:
        return None, raw, f"回复的 MsgType 应为 {', '.join(REPLY_TYPES)} 之一"
    articles = doc.get("Articles")
    if isinstance(articles, dict):  # <Articles><item>…</item>…</Articles>
        items = articles.get("item")
        doc["Articles"] = items if isinstance(items, list) else [items]
    return dict(doc), raw, ""
