"""`webhooks:` in site.yaml: endpoints with a URL, event types and allow_private.

Only http(s) URLs to public addresses pass the check; loopback, private, link-local and other
non-public addresses (IP literals, IPv4 inside IPv6, and names that resolve to them) are refused
at check time with one line, path:line:col, unless the endpoint says allow_private: true. Event
types are checked with a suggestion; groups ("conversation.*") and "*" expand. Every mistake is
reported, none is a traceback.
"""

from __future__ import annotations

import ipaddress

import pytest

from server.config import load_config
from server.webhooks.addresses import kind_of
from server.webhooks.config import Endpoint
from server.webhooks.events import EVENT_TYPES
from tests.helpers import SHOP, write_site

PUBLIC = "http://93.184.215.14/hooks"  # a public address literal: checked without DNS


def load(tmp_path, webhooks: str):
    write_site(tmp_path, "shop", f"origins: [{SHOP}]\nwebhooks:\n{webhooks}")
    return load_config(tmp_path)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1 is loopback"),
        ("http://10.1.2.3/hooks", "10.1.2.3 is private"),
        ("http://192.168.0.10/hooks", "192.168.0.10 is private"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is link-local"),
        ("http://[::1]/hooks", "::1 is loopback"),
        ("http://[::ffff:10.0.0.1]/hooks", "::ffff:10.0.0.1 is private, inside an IPv6 address"),
        ("http://0.0.0.0/hooks", "0.0.0.0 is unspecified"),
        ("http://100.64.0.1/hooks", "100.64.0.1 is not public"),
        ("http://localhost:9000/hooks", "localhost resolves to 127.0.0.1 (loopback)"),
    ],
)
def test_a_private_network_url_is_refused_at_check_time(tmp_path, url, why):
    config, problems = load(tmp_path, f"  crm:\n    url: {url}\n    events: [coupon.claimed]\n")
    assert config is None
    [line] = problems.lines()
    assert line.startswith(f"{tmp_path}/shop/site.yaml:4:5: webhook endpoint 'crm': {why}")
    assert "only public addresses are allowed (add allow_private: true" in line


def test_allow_private_lets_an_endpoint_reach_the_shops_own_network(tmp_path):
    config, problems = load(
        tmp_path, "  office:\n    url: http://10.0.0.5:8080/irasshai\n    events: ['*']\n    allow_private: true\n"
    )
    assert not problems, problems.lines()
    endpoint = config.sites["shop"].webhooks["office"]
    assert endpoint == Endpoint("office", "http://10.0.0.5:8080/irasshai", frozenset(EVENT_TYPES), True)


def test_groups_expand_and_a_public_url_passes(tmp_path):
    config, problems = load(tmp_path, f"  crm:\n    url: {PUBLIC}\n    events: [conversation.*, coupon.redeemed]\n")
    assert not problems, problems.lines()
    assert config.sites["shop"].webhooks["crm"].events == {
        "conversation.started",
        "conversation.waiting",
        "conversation.resolved",
        "coupon.redeemed",
    }


def test_every_mistake_is_one_line_with_its_place(tmp_path):
    config, problems = load(
        tmp_path,
        "  crm:\n"
        "    url: ftp://example.com/x\n"
        "    events: [coupon.claim, message.created]\n"
        "    allow_privat: true\n"
        "  Bad Name:\n"
        f"    url: {PUBLIC}\n"
        "    events: [coupon.claimed]\n"
        "  nourl:\n"
        "    events: []\n"
        "  secret:\n"
        "    url: https://user:pass@93.184.215.14/hooks\n"
        "    events: [coupon.claimed]\n"
        "    allow_private: yes please\n",
    )
    assert config is None
    site = f"{tmp_path}/shop/site.yaml"
    assert problems.lines() == [
        f"{site}:4:5: 'ftp://example.com/x' is not an http or https URL, e.g. https://crm.example.com/hooks",
        f"{site}:5:14: unknown event type 'coupon.claim' (did you mean 'coupon.claimed'?)",
        f"{site}:6:5: unknown webhook endpoint key 'allow_privat' (did you mean 'allow_private'?)",
        f"{site}:7:3: webhook endpoint name 'Bad Name' must be lower-case letters, digits, '-' or '_'",
        f"{site}:10:3: webhook endpoint 'nourl' needs 'url', e.g. url: https://crm.example.com/hooks",
        f"{site}:11:5: 'events' of webhook endpoint 'nourl' is empty; list at least one event type",
        f"{site}:13:5: a webhook URL must not hold a user name or password; receivers check the signature",
        f"{site}:15:5: 'allow_private' must be true or false, not text 'yes please'",
    ]


def test_changing_an_endpoints_settings_changes_its_fingerprint():
    endpoint = Endpoint("crm", PUBLIC, frozenset({"coupon.claimed"}))
    assert endpoint.fingerprint == Endpoint("crm", PUBLIC, frozenset({"coupon.claimed"})).fingerprint
    assert endpoint.fingerprint != Endpoint("crm", PUBLIC + "/v2", frozenset({"coupon.claimed"})).fingerprint
    assert endpoint.fingerprint != Endpoint("crm", PUBLIC, frozenset(EVENT_TYPES)).fingerprint


@pytest.mark.parametrize(
    "address", ["2002:7f00:1::", "64:ff9b::a00:1", "224.0.0.1", "fe80::1", "fc00::1", "192.0.2.1", "240.0.0.1"]
)
def test_addresses_that_hide_or_are_non_public_ranges_are_not_public(address):
    assert kind_of(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_are_public(address):
    assert kind_of(ipaddress.ip_address(address)) is None
