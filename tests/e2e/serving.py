"""Run the real `shop` command in a subprocess, as a person would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.ports import free_port

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


@contextmanager
def supervising(env: dict[str, str], workers: int, *options: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`shop serve --workers N` on a free port until the block ends, once every worker listens;
    yields its base URL and the supervisor's process (stopped with SIGTERM at the end)."""
    port = free_port()
    log_path = Path(env["SHOP_DATA_DIR"]) / "serve.log"
    log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with log_path.open("w") as log:
        supervisor = subprocess.Popen(
            [SHOP, "serve", "--port", str(port), "--workers", str(workers), *options],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: len(listening_pids(port) & set(children(supervisor.pid))) == workers,
                f"{workers} workers did not come up",
                log_path,
                supervisor,
            )
            yield f"http://127.0.0.1:{port}", supervisor
        finally:
            if supervisor.poll() is None:
                supervisor.terminate()
                supervisor.wait(timeout=60)


def wait_until(condition, what: str, log_path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The processes `pid` started (Linux)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def listening_pids(port: int) -> set[int]:
    """The processes holding a socket that listens on the port (Linux: /proc/net/tcp's
    inodes against each process's open files)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    processes = (proc for proc in Path("/proc").iterdir() if proc.name.isdigit())
    return {int(proc.name) for proc in processes if _holds(proc, inodes)}


def _holds(proc: Path, inodes: set[str]) -> bool:
    """Whether the process has one of these sockets open. A busy worker opens and closes
    connections while we look: an fd gone between the listing and its readlink is skipped,
    not taken for the whole process (which once made a listening worker look deaf)."""
    try:
        fds = list((proc / "fd").iterdir())
    except OSError:  # the process ended, or is not ours to look into
        return False
    for fd in fds:
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False
