"""Per-rule daily counters, as the event endpoint records them and GET /v1/sites/{site}/stats reads them.

A reply that carries `show` counts "decided" for its rule; feedback events from the widget
count "shown", "clicked", "dismissed" and "copied", on the day (site timezone) they happened,
once however often their batch is retried, even for a rule id no longer in the rules. Feedback
counts only for a rule decided for that visitor, each kind once per decision: made-up rule
ids and repeated feedback change no counters.
A batch of page views alone counts nothing. The stats endpoint answers every rule of the
last `days` days with all five counters, and only to a caller with the site's secret (401,
the same answer, for a wrong secret, a site without one and an unknown site).
Against both stores.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest
import redis as redis_sync
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.base import StoreUnavailable
from server.store.memory import MemoryStore
from tests.helpers import (
    SECRET,
    SHOP,
    SITE_YAML,
    batch,
    event_id,
    make_app,
    page_view,
    post,
    stored_profile,
    write_site,
)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=TOKYO).timestamp()
TODAY, YESTERDAY = "2026-11-22", "2026-11-21"
SHOP_SECRET = "shop-stats-secret-0123456789"
RULES = """\
rules:
  - id: hello
    when: {page: /pricing}
    show: {chat: {text: hi}}
"""
ZERO = {"decided": 0, "shown": 0, "clicked": 0, "dismissed": 0, "copied": 0}


def counters(**counts: int) -> dict[str, int]:
    return {**ZERO, **counts}


def feedback(rule: str, action: str, ts: float = NOW) -> dict:
    return {
        "type": "feedback",
        "id": event_id(),
        "ts": int(ts * 1000),
        "rule": rule,
        "action": action,
        "url": SHOP + "/pricing",
    }


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_site(tmp_path, "shop", SITE_YAML, **{"rules.yaml": RULES})
    write_site(tmp_path, "other")
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    app = make_app(tmp_path, request.param, redis_url, clock=lambda: NOW, site_secrets=f"shop={SHOP_SECRET}")
    with TestClient(app) as client:
        yield client


def stats(client, days: int | str = 1, site: str = "shop", secret: str | None = SHOP_SECRET):
    headers = {} if secret is None else {"authorization": f"Bearer {secret}"}
    return client.get(f"/v1/sites/{site}/stats", params={"days": days}, headers=headers)


def send(client, *events: dict, visitor: str | None = None) -> dict:
    response = post(client, batch(*events, visitor=visitor))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reply_that_shows_a_rule_counts_decided(client):
    reply = send(client, page_view("/pricing", ts=NOW))
    assert reply["show"]["rule"] == "hello"
    assert stats(client).json() == {TODAY: {"hello": counters(decided=1)}}


def decided(client) -> str:
    """A visitor for whom the server decided to show "hello"; their token."""
    reply = send(client, page_view("/pricing", ts=NOW))
    assert reply["show"]["rule"] == "hello"
    return reply["visitor"]


def test_feedback_from_the_widget_counts_each_action(client):
    token = decided(client)
    send(client, feedback("hello", "shown"), feedback("hello", "copied"), feedback("hello", "clicked"), visitor=token)
    send(client, feedback("hello", "dismissed"), visitor=token)
    assert stats(client).json() == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1, dismissed=1, copied=1)}}


def test_a_retried_feedback_batch_is_counted_once(client):
    token = decided(client)
    body = batch(feedback("hello", "shown"), feedback("hello", "clicked"), visitor=token)
    assert "duplicates" not in post(client, body).json()  # 0, omitted
    assert post(client, body).json()["duplicates"] == 2
    assert stats(client).json() == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1)}}


def test_made_up_rules_and_rules_never_decided_for_the_visitor_count_nothing(client, request):
    """The outside probe's fake statistics: 20,000 made-up rule ids from 100 requests."""
    token = send(client, page_view("/", ts=NOW))["visitor"]  # "hello" not decided for them
    send(client, *(feedback(f"made-up-{n}", "shown") for n in range(200)), visitor=token)
    send(client, feedback("hello", "clicked"), feedback("hello", "shown"))
    send(client, feedback("hello", "clicked"), visitor=token)
    assert stats(client).json() == {TODAY: {}}
    if "redis" in request.node.callspec.id:
        assert redis_sync.Redis.from_url(request.getfixturevalue("redis_url")).keys("*stats*") == []


def test_feedback_repeated_for_one_decision_counts_once_per_kind(client):
    token = decided(client)
    for _ in range(3):
        send(
            client, feedback("hello", "shown"), feedback("hello", "clicked"), feedback("hello", "copied"), visitor=token
        )
    assert stats(client).json() == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1, copied=1)}}


def test_feedback_for_a_rule_no_longer_in_the_rules_is_still_counted(client, tmp_path):
    token = decided(client)
    write_site(tmp_path / "reloaded", "shop", SITE_YAML)  # a reload removed "hello"
    client.app.state.services.live.config = load_config(tmp_path / "reloaded")[0]
    send(client, feedback("hello", "shown"), visitor=token)
    assert stats(client).json() == {TODAY: {"hello": counters(decided=1, shown=1)}}


def test_feedback_counts_on_the_day_it_happened_in_the_sites_timezone(client):
    token = decided(client)
    late_last_night = datetime(2026, 11, 21, 23, 30, tzinfo=TOKYO).timestamp()  # 14:30 UTC
    send(client, feedback("hello", "shown", ts=late_last_night), feedback("hello", "clicked", ts=NOW), visitor=token)
    assert stats(client, days=2).json() == {
        YESTERDAY: {"hello": counters(shown=1)},
        TODAY: {"hello": counters(decided=1, clicked=1)},
    }


def test_page_views_alone_count_nothing(client, request):
    send(client, page_view("/", ts=NOW), page_view("/about", ts=NOW))
    assert stats(client).json() == {TODAY: {}}
    if "redis" in request.node.callspec.id:
        keys = redis_sync.Redis.from_url(request.getfixturevalue("redis_url")).keys("*stats*")
        assert keys == []


def test_the_endpoint_answers_every_day_asked_oldest_first(client):
    send(client, feedback("hello", "shown"), visitor=decided(client))
    week = stats(client, days=7).json()
    assert list(week) == [f"2026-11-{day}" for day in range(16, 23)]
    assert week[TODAY] == {"hello": counters(decided=1, shown=1)} and all(week[day] == {} for day in list(week)[:-1])
    assert list(client.get("/v1/sites/shop/stats", headers={"authorization": f"Bearer {SHOP_SECRET}"}).json()) == list(
        week
    )  # 7 days by default


@pytest.mark.parametrize("days", ["0", "401", "seven", "-1", "1.5", ""])
def test_a_bad_number_of_days_is_400(client, days):
    response = stats(client, days=days)
    assert response.status_code == 400 and "from 1 to 400" in response.json()["error"]


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789"])
def test_the_endpoint_needs_the_sites_secret(client, secret):
    response = stats(client, secret=secret)
    assert response.status_code == 401 and "Bearer" in response.json()["error"]


def test_a_site_without_a_secret_and_an_unknown_one_get_the_same_401_as_a_wrong_secret(client):
    wrong = stats(client, secret="wrong-secret-0123456789")
    for site in ("other", "nope"):
        response = stats(client, site=site)
        assert response.status_code == 401 and response.json() == wrong.json()


def test_the_endpoint_has_no_cors(client):
    response = client.get("/v1/sites/shop/stats", headers={"authorization": f"Bearer {SHOP_SECRET}", "origin": SHOP})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


def test_counters_the_store_cannot_update_do_not_cost_the_visitor_the_reply(tmp_path, caplog):
    class CountersDown(MemoryStore):
        async def add_counts(self, site, counts):
            raise StoreUnavailable("counters are down")

    write_site(tmp_path, "shop", SITE_YAML, **{"rules.yaml": RULES})
    config, _ = load_config(tmp_path)
    app = create_app(
        Settings(secret_key=SECRET),
        config=config,
        store=CountersDown(clock=lambda: NOW),
        clock=lambda: NOW,
        reload=False,
    )
    with TestClient(app) as client:
        reply = send(client, page_view("/pricing", ts=NOW))
        assert reply["show"]["rule"] == "hello"  # stored and decided: only the count is lost
        assert stored_profile(client, reply["visitor"]).engagements
    assert "rule counters not updated: counters are down" in caplog.text
