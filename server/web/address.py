"""The client address a request came from, as rate limits count it.

The peer of the connection, unless it is one of the trusted proxies (setting
IRASSHAI_TRUSTED_PROXIES): then the right-most address in X-Forwarded-For that is not a
trusted proxy, since each proxy appends the address it received the request from and only
those entries are not made up by the client. An IPv6 address counts as its /64 network,
the block one household or phone is usually given.
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    return address_of(request.client.host if request.client else "", request.headers.get("x-forwarded-for"), trusted)


def address_of(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """:func:`client_address` from the connection's `peer` and its X-Forwarded-For header (None: none)."""
    if trusted and _within(peer, trusted):
        hops = [hop.strip() for hop in (forwarded or "").split(",") if hop.strip()]
        for hop in reversed(hops):
            peer = hop
            if not _within(hop, trusted):
                break
    return counted_as(peer)


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the rest of this module per batch
def counted_as(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]  # not an address (a test client, a Unix socket): counted as it is
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
