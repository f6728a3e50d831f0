"""Who a request came from, behind our reverse proxies (TRUSTED_PROXIES): plain values in,
plain values out, so every edge reads the client's address and scheme the same way."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@lru_cache(maxsize=8)
def networks(setting: str) -> Networks:
    """The TRUSTED_PROXIES setting (comma-separated addresses or networks), parsed once."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def within(address: str, trusted: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(*, peer: str, forwarded_for: str, trusted_proxies: str) -> str:
    """The client's address. Behind a trusted proxy it is the right-most X-Forwarded-For address
    that is not one of our proxies (left-most entries are whatever the client claimed); from
    anyone else the header is ignored, or a client could pick its own address (and escape the
    sign-in throttle, or choose the address the fraud signals count)."""
    trusted = networks(trusted_proxies)
    if not within(peer, trusted):
        return peer
    forwarded = [part.strip() for part in forwarded_for.split(",")]
    for address in reversed(forwarded):
        if address and not within(address, trusted):
            return address
    return peer


def forwarded_https(*, peer: str, forwarded_proto: str, trusted_proxies: str) -> bool:
    """Whether a trusted proxy says the client reached it over HTTPS."""
    return forwarded_proto.strip().lower() == "https" and within(peer, networks(trusted_proxies))
