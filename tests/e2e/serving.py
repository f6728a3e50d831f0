"""Run the real `shop` command in a subprocess, as a person would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SHOP = str(Path(sys.executable).parent / "shop")


def shop_env(data_dir: Path, services: dict[str, str] | None = None) -> dict[str, str]:
    """A fresh data folder on the embedded default, or on the `services` given (the
    `shop_services` fixture: in CI a fresh MariaDB database and the test Redis)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update(SHOP_DATA_DIR=str(data_dir), WECHAT_MODE="simulator", LOG_LEVEL="WARNING")
    env.update(services or {})
    return env


def shop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHOP, *args], env=env, capture_output=True, text=True, timeout=300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """`shop serve` on a free port (or the one given) until the block ends; yields its base URL."""
    port = port or free_port()
    log_path = Path(env["SHOP_DATA_DIR"]) / "serve.log"
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # on MySQL nothing made it yet
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [SHOP, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/v1/categories", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"shop serve did not come up: {log_path.read_text()[-2000:]}"
                        ) from None
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)
