"""Rate limits per client address (server/ratelimits.py), over HTTP, against both stores.

One address creates at most `new_visitors_per_minute` (and per hour) new visitors per site:
beyond that a batch without a token gets 429, one line and a Retry-After, and nothing is
stored; returning visitors and a retried first batch (same seed) are not counted. One address
is handed at most `codes_per_day` unique or generated coupon codes per site per day: beyond
that a coupon rule shows nothing, as for an empty pool, and the codes stay in the pool;
shared codes are not limited. One visitor sends at most `events_per_visitor_per_minute` events
(the first batch of a minute always gets in; a retried batch is not counted again) and one
address at most `events_per_address_per_minute`: beyond either, 429 with Retry-After and
nothing stored. A site's own `limits` in site.yaml win over the settings, for that site only.
Limits of 0 are off.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, SITE_YAML, batch, make_app, page_view, post, stored_profile, write_site

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


def events(count: int, path: str = "/") -> list[dict]:
    return [page_view(f"{path}{n}") for n in range(count)]


def test_events_beyond_a_visitors_limit_get_429_and_nothing_is_stored(app_with):
    client = app_with(events_per_visitor_per_minute=25, new_visitors_per_minute=0)
    first = post(client, batch(*events(10)))
    token = first.json()["visitor"]
    assert post(client, batch(*events(10, "/b"), visitor=token)).status_code == 200
    refused = post(client, batch(*events(10, "/c"), visitor=token))
    assert refused.status_code == 429 and "more than 25 events from this visitor" in refused.json()["error"]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["access-control-allow-origin"] == SHOP  # the widget reads it and sends them later
    assert refused.headers["access-control-expose-headers"] == "Retry-After"
    assert not any(path.startswith("/c") for path in stored_profile(client, token).page_views)
    assert post(client, batch(*events(5, "/d"), visitor=token)).status_code == 200  # up to the limit: 25
    assert post(client, batch(page_view("/other"))).status_code == 200  # another visitor has their own


def test_a_visitors_first_batch_of_a_minute_is_let_in_whatever_its_size(app_with):
    client = app_with(events_per_visitor_per_minute=5)
    reply = post(client, batch(*events(20)))
    assert reply.status_code == 200 and len(reply.json()["acked"]) == 20


def test_a_retried_batch_is_not_counted_again(app_with):
    client = app_with(events_per_visitor_per_minute=15)
    token = post(client, batch(*events(10))).json()["visitor"]
    again = batch(*events(5, "/b"), visitor=token)
    assert post(client, again).status_code == 200
    assert post(client, again).json()["duplicates"] == 5  # a lost reply's retry: no new events, no 429


def test_events_beyond_an_addresss_limit_get_429_whichever_visitor_sends_them(app_with):
    client = app_with(events_per_address_per_minute=30, events_per_visitor_per_minute=0, new_visitors_per_minute=0)
    assert [post(client, batch(*events(10))).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = post(client, batch(*events(1)))
    assert refused.status_code == 429 and "more than 30 events from this address" in refused.json()["error"]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    other = post(client, batch(*events(10)), **{"x-forwarded-for": "198.51.100.7"})
    assert other.status_code == 429  # not a trusted proxy: the header is not believed


def test_a_site_sets_its_own_limits_over_the_settings(tmp_path):
    limits = """\
limits:
  events_per_visitor_per_minute: 12
  events_per_address_per_minute: 0
  new_visitors_per_minute: 2
  codes_per_day: 1
  chat_messages_per_minute: 2
"""
    codes = "".join(f"CODE-{n:04d}\n" for n in range(10))
    write_site(tmp_path, "shop", COUPON_SITE + limits, **{"rules.yaml": RULES, "codes.txt": codes})
    write_site(tmp_path, "other", COUPON_SITE, **{"rules.yaml": RULES, "codes.txt": codes})
    settings = dict(
        events_per_visitor_per_minute=1000,
        events_per_address_per_minute=25,
        new_visitors_per_minute=1000,
        codes_per_day=1000,
        chat_messages_per_minute=1000,
    )
    with TestClient(make_app(tmp_path, **settings)) as client:
        first = post(client, batch(page_view("/welcome"), *events(9)))
        assert first.json()["show"]["code"].startswith("CODE-")
        token = first.json()["visitor"]
        assert post(client, batch(*events(5, "/b"), visitor=token)).status_code == 429  # 12 per visitor
        assert post(client, batch(page_view("/welcome"))).json().get("show") is None  # 1 code per address
        assert post(client, batch(page_view("/"))).status_code == 429  # 2 new visitors per minute
        messages = [
            client.post(
                "/v1/sites/shop/chat",
                content=json.dumps({"visitor": token, "do": {"type": "say", "id": f"client-{n:04d}", "text": "hi"}}),
                headers={"origin": SHOP, "content-type": "text/plain"},
            ).status_code
            for n in range(3)
        ]
        assert messages == [200, 200, 429]
        # The other site keeps the settings: 25 events per address, the rest generous.
        statuses = [post(client, batch(*events(10)), site="other").status_code for _ in range(4)]
        assert statuses == [200, 200, 429, 429]
