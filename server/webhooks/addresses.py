"""Which addresses a webhook may reach: public ones only, unless an endpoint says ``allow_private``.

A rule file must not make the server probe its own network (SSRF): loopback, link-local
(where cloud metadata services live), private, shared (CGNAT), multicast, documentation and
other reserved ranges are refused, for IPv4 and IPv6, and also when an IPv6 address carries one
of them inside (IPv4-mapped, 6to4, NAT64). Checked when the site's file is read
(:func:`refusal_of_url`) and again for the very address each connection uses
(server.webhooks.send), so a name that later resolves to a private address (DNS rebinding)
reaches nothing.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT = 2.0  # seconds the check of a rule file waits for DNS
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_resolver = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="irasshai-dns")


def kind_of(address: Address) -> str | None:
    """Why `address` is not public ("loopback", "private", …), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = kind_of(embedded)
            return None if inner is None else f"{inner}, inside an IPv6 address"
    for kind, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if test:
            return kind
    return None if address.is_global else "not public"


def literal(host: str) -> Address | None:
    """`host` as an IP address when it is one (IPv6 without brackets), else None."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def refused_among(host: str, addresses: list[str]) -> str | None:
    """A one-line reason when any of `addresses` (what `host` resolved to) is not public."""
    for text in addresses:
        found = literal(text)
        kind = "not an IP address" if found is None else kind_of(found)
        if kind is not None:
            return f"{host} resolves to {text} ({kind})" if text != host else f"{host} is {kind}"
    return None


def _resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)})


def refusal_of_url(url: str) -> str | None:
    """Why the server must not send to `url` ("…; only public addresses"), or None.

    A name that does not resolve now (no network while checking, a typo) passes: every send
    resolves it again and checks what it finds."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    found = literal(host)
    if found is not None:
        kind = kind_of(found)
        return None if kind is None else f"{host} is {kind}"
    future = _resolver.submit(_resolve, host)
    try:
        addresses = future.result(timeout=RESOLVE_TIMEOUT)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError):
        return None
    return refused_among(host, addresses)
