"""Rate limits per client address (server/ratelimits.py), over HTTP, against both stores.

One address creates at most `new_visitors_per_minute` (and per hour) new visitors per site:
beyond that a batch without a token gets 429, one line and a Retry-After, and nothing is
stored; returning visitors and a retried first batch (same seed) are not counted. One address
is handed at most `codes_per_day` unique or generated coupon codes per site per day: beyond
that a coupon rule shows nothing, as for an empty pool, and the codes stay in the pool;
shared codes are not limited. Limits of 0 are off.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, SITE_YAML, batch, make_app, page_view, post, write_site

COUPON_SITE = (
    SITE_YAML
    + """\
coupons:
  welcome:
    codes_file: codes.txt
  spring10:
    code: SPRING10
"""
)
RULES = """\
rules:
  - id: welcome-offer
    when: {page: /welcome}
    show: {coupon: {pool: welcome, text: "{{ coupon.code }}"}}
  - id: spring-offer
    when: {page: /spring}
    show: {coupon: {pool: spring10, text: "{{ coupon.code }}"}}
"""


@pytest.fixture(params=["memory", "redis"])
def app_with(request, tmp_path):
    codes = "".join(f"CODE-{n:04d}\n" for n in range(10))
    write_site(tmp_path, "shop", COUPON_SITE, **{"rules.yaml": RULES, "codes.txt": codes})
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    clients = []

    def make(**limits):
        client = TestClient(make_app(tmp_path, request.param, redis_url, **limits))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_new_visitors_beyond_the_limit_get_429_with_retry_after(app_with):
    client = app_with(new_visitors_per_minute=3, new_visitors_per_hour=100)
    tokens = [post(client, batch(page_view("/"))).json()["visitor"] for _ in range(3)]
    refused = post(client, batch(page_view("/")))
    assert refused.status_code == 429 and "too many new visitors" in refused.json()["error"]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["access-control-allow-origin"] == SHOP  # so the widget can read it and retry
    for token in tokens:  # returning visitors are not limited
        assert post(client, batch(page_view("/again"), visitor=token)).status_code == 200


def test_the_hourly_limit_holds_too(app_with):
    client = app_with(new_visitors_per_minute=100, new_visitors_per_hour=2)
    assert [post(client, batch(page_view("/"))).status_code for _ in range(3)] == [200, 200, 429]


def test_a_retried_first_batch_is_not_another_new_visitor(app_with):
    client = app_with(new_visitors_per_minute=1)
    body = batch(page_view("/"), seed="a-secret-seed-only-this-browser-knows")
    assert post(client, body).status_code == 200
    retry = post(client, body)
    assert retry.status_code == 200 and retry.json()["duplicates"] == 1


def test_codes_beyond_the_daily_limit_are_not_handed_out_and_stay_in_the_pool(app_with):
    client = app_with(codes_per_day=2)
    shown = [post(client, batch(page_view("/welcome"))).json().get("show") for _ in range(4)]
    assert all(show["code"].startswith("CODE-") for show in shown[:2]) and shown[2:] == [None, None]
    store = client.app.state.services.store
    left = [client.portal.call(store.claim_code, "shop", "welcome", f"later-{n}", "list", "", 0) for n in range(9)]
    assert sum(code is not None for code in left) == 8  # 10 codes, 2 handed out


def test_a_shared_code_is_not_limited(app_with):
    client = app_with(codes_per_day=1)
    codes = [post(client, batch(page_view("/spring"))).json()["show"]["code"] for _ in range(3)]
    assert codes == ["SPRING10"] * 3


def test_limits_of_zero_are_off(app_with):
    client = app_with(new_visitors_per_minute=0, new_visitors_per_hour=0, codes_per_day=0)
    replies = [post(client, batch(page_view("/welcome"))) for _ in range(70)]
    assert all(reply.status_code == 200 for reply in replies)
    assert len({reply.json()["show"]["code"] for reply in replies[:10]}) == 10
