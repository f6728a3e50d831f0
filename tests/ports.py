"""Ports for servers a test starts on an address chosen before they start."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_pick = random.SystemRandom()  # not the `random` a test may have seeded: two runs must not pick alike


def _first_ephemeral_port() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range.

    The app's address goes into its settings (WeChat Pay calls it back there) before the app
    binds it. A port picked with bind(0) and let go sits in the ephemeral range, where the kernel
    may hand it in the meantime to any connection the test opens (MariaDB, Redis, the simulator),
    and the app's bind then fails with EADDRINUSE; below that range only an explicit bind can
    take it."""
    high = _first_ephemeral_port()
    low = max(1024, high - 20000)
    while True:
        port = _pick.randrange(low, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
