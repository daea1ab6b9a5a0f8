"""The client address rate limits count (server/web/address.py).

The connection's peer, unless it is a trusted proxy: then the right-most X-Forwarded-For
entry that is not one (entries further left are the client's own say). Without trusted
proxies the header is ignored. IPv6 counts by its /64 network; IPv4-mapped IPv6 as IPv4.
"""

from __future__ import annotations

import pytest
from starlette.requests import Request

from server.settings import Settings, SettingsError, load
from server.web.address import client_address

PROXIES = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.7").proxy_networks()


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 4321)})


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("203.0.113.9", None, (), "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # no trusted proxy: the header is ignored
        ("203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9"),  # not from a trusted proxy
        ("10.1.2.3", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 192.0.2.7", PROXIES, "198.51.100.1"),  # the client made up 6.6.6.6
        ("10.1.2.3", None, PROXIES, "10.1.2.3"),
        ("2001:db8:1:2:3:4:5:6", None, (), "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", None, (), "203.0.113.9"),
        ("testclient", None, (), "testclient"),
    ],
)
def test_the_client_address(peer, forwarded, trusted, expected):
    assert client_address(request(peer, forwarded), trusted) == expected


def test_a_bad_trusted_proxy_is_reported_with_the_entry():
    with pytest.raises(SettingsError, match="IRASSHAI_TRUSTED_PROXIES has entry 'proxy.local'"):
        load({"IRASSHAI_TRUSTED_PROXIES": "10.0.0.1,proxy.local"})


def test_a_negative_limit_is_refused():
    with pytest.raises(SettingsError, match="IRASSHAI_CODES_PER_DAY has value -1; expected 0"):
        load({"IRASSHAI_CODES_PER_DAY": "-1"})
