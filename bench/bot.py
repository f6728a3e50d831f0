"""The official-account webhook under load: signed search messages at rising concurrency,
against a bare aiohttp handler, in one run.

    .venv/bin/python -m bench.bot [--messages 3000] [--levels 10,50,100] [--safe-mode]
        [--database-url mysql://root:@127.0.0.1:3306/bench --redis-url redis://127.0.0.1:6379/3]

Starts `shop serve` on the demo catalog (SQLite in a temporary folder and the in-process Redis
stand-in unless told otherwise) and the bare handler;
every message is a fresh WeChat push (new MsgId, signature, and in safe mode encryption) whose
text is a product search, so the bot answers with a list of products. By default each sender
sends its next message as soon as it has the answer (the most load the senders can make);
`--think S` has each wait S seconds first, as a person reading the answer would.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import random
import secrets
import subprocess
import tempfile
import time

import aiohttp
import redis
from wechatpy.crypto import WeChatCrypto

from bench.catalog import ROOT, SHOP, shop_and_bare
from bench.loadgen import run
from bench.orders import reset_mysql
from commerce.config import SIMULATOR_MP_AES_KEY, SIMULATOR_MP_APPID, SIMULATOR_MP_TOKEN

QUERIES = ["蓝牙耳机", "苹果手机", "橙子", "笔记本电脑", "运动鞋", "牛奶", "充电宝", "面膜", "大米", "手表"]
_ids = itertools.count(int(time.time() * 1000))


def signed_push(text: str, openid: str, *, safe_mode: bool) -> tuple[dict[str, str], bytes]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signature = hashlib.sha1("".join(sorted([SIMULATOR_MP_TOKEN, timestamp, nonce])).encode()).hexdigest()
    xml = (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{next(_ids)}</MsgId></xml>"
    )
    query = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
    if not safe_mode:
        return query, xml.encode()
    crypto = WeChatCrypto(SIMULATOR_MP_TOKEN, SIMULATOR_MP_AES_KEY, SIMULATOR_MP_APPID)
    envelope = crypto.encrypt_message(xml, nonce, timestamp)
    msg_signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    return {**query, "encrypt_type": "aes", "msg_signature": msg_signature}, envelope.encode()


async def level(
    base: str, messages: int, concurrency: int, safe_mode: bool, think: float = 0.0
) -> tuple[float, list[float], int]:
    remaining, latencies, failures = messages, [], 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def sender(n: int) -> None:
            nonlocal remaining, failures
            openid = f"oBench{n:022d}"
            if think:  # people do not all press send at the same instant
                await asyncio.sleep(random.uniform(0, think))
            while remaining > 0:
                remaining -= 1
                query, body = signed_push(QUERIES[remaining % len(QUERIES)], openid, safe_mode=safe_mode)
                started = time.perf_counter()
                async with http.post(f"{base}/wechat/mp", params=query, data=body) as response:
                    answer = await response.text()
                    if response.status != 200 or "<xml>" not in answer:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)
                if think:  # a person reads the answer before typing the next message
                    await asyncio.sleep(think)

        started = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(concurrency)))
        return time.perf_counter() - started, sorted(latencies), failures


async def measure(
    base: str, bare_url: str, messages: int, levels: list[int], safe_mode: bool, think: float
) -> str:
    lines = [
        "| senders | messages/s | p50 ms | p99 ms | failures | bare req/s | bare p99 ms | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    await level(base, 200, 10, safe_mode)  # warm up: search index, caches, connections
    for concurrency in levels:
        seconds, latencies, failures = await level(base, messages, concurrency, safe_mode, think)
        bare = await run("bare", [bare_url], requests=messages, concurrency=concurrency)
        rate, p99 = len(latencies) / seconds, latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        lines.append(
            f"| {concurrency} | {rate:.0f} | {latencies[len(latencies) // 2]:.1f} | {p99:.1f} | {failures} | "
            f"{bare.rps:.0f} | {bare.percentile(99):.1f} | {rate / bare.rps:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--levels", default="10,50,100")
    parser.add_argument("--safe-mode", action="store_true", help="encrypted pushes (安全模式)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds each sender waits after an answer (default: none)"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "SHOP_DATA_DIR": data_dir,
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "WECHAT_MODE": "simulator",
            "LOG_LEVEL": "WARNING",
            # An EncodingAESKey means safe mode only: the plaintext run has none.
            **({} if args.safe_mode else {"WECHAT_MP_AES_KEY": ""}),
        }
        if args.database_url.startswith("mysql://"):
            asyncio.run(reset_mysql(args.database_url))
        if args.redis_url:
            redis.Redis.from_url(args.redis_url).flushdb()
        subprocess.run([SHOP, "migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([SHOP, "seed-demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        with shop_and_bare(env) as (base, bare_url):
            mode = "safe mode" if args.safe_mode else "plaintext"
            database = args.database_url.split("@")[-1] if args.database_url else "SQLite"
            store = "Redis" if args.redis_url else "the in-process Redis stand-in"
            print(
                f"bot benchmark ({mode}): {args.messages} search messages per level, demo catalog, "
                f"{database}, {store}"
            )
            if args.think:
                print(f"each sender waits {args.think} s after every answer")
            print(asyncio.run(measure(base, bare_url, args.messages, levels, args.safe_mode, args.think)))


if __name__ == "__main__":
    main()
