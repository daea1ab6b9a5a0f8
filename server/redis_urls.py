"""Where the Redis is: one server (``redis://``, ``rediss://``, ``unix://``) or a Redis Cluster.

A cluster is named by some of its nodes, from which the client learns the rest::

    redis+cluster://[[user]:password@]host[:port][,host[:port]…]
    rediss+cluster://…                       (the same over TLS)

User and password are percent-encoded as in any URL; a port left out is 6379; a path may only
be ``/0`` (a cluster has database 0 alone); options after ``?`` are not taken.
:func:`redacted` is the URL as logs and messages show it, its password replaced by ``***``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

SERVER_SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
DEFAULT_PORT = 6379
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9_.-]+))(?::(?P<port>[^:]*))?$")


@dataclass(frozen=True)
class ClusterURL:
    nodes: tuple[tuple[str, int], ...]  # (host, port) of each node named: the client finds the others
    username: str | None
    password: str | None
    tls: bool


def scheme(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else ""


def is_cluster(url: str) -> bool:
    return scheme(url) in CLUSTER_SCHEMES


def parse_cluster(url: str) -> ClusterURL:
    """The nodes and credentials of a ``redis+cluster://`` URL; ValueError says what is wrong, in one
    line that never holds the password."""
    if not is_cluster(url):
        raise ValueError("is not a redis+cluster:// or rediss+cluster:// URL")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("has options after '?' or '#'; a redis+cluster:// URL takes none")
    if parts.path not in ("", "/", "/0"):
        raise ValueError(
            "has a path other than /0; a Redis Cluster has database 0 only (a '/' in a password is written %2F)"
        )
    userinfo, at, hosts = parts.netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username, password = unquote(user) or None, (unquote(secret) if colon else None)
    nodes = []
    for number, entry in enumerate(hosts.split(","), start=1):
        found = _HOST.match(entry.strip())
        port = found["port"] if found else None
        if not found or (port is not None and not (port.isdigit() and 1 <= int(port) <= 65535)):
            raise ValueError(
                f"has node {number} {entry.strip()!r} that is not host:port; "
                "expected redis+cluster://host:port,host:port (a port from 1 to 65535)"
            )
        nodes.append((found["v6"] or found["name"], int(port) if port else DEFAULT_PORT))
    return ClusterURL(tuple(nodes), username, password, tls=scheme(url) == "rediss+cluster")


def redacted(url: str) -> str:
    """`url` with its password, if any, replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.partition("://")[0] + "://…"
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not (at and colon):
        return url
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))
