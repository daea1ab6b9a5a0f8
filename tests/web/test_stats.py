"""Per-rule daily counters, as the event endpoint records them and GET /v1/sites/{site}/stats reads them.

A reply that carries `show` counts "decided" for its rule; feedback events from the widget
count "shown", "clicked", "dismissed" and "copied", on the day (site timezone) they happened,
once however often their batch is retried, even for a rule id no longer in the rules. Feedback
counts only for a rule decided for that visitor, each kind once per decision: made-up rule
ids and repeated feedback change no counters.
A batch of page views alone counts nothing. The stats endpoint answers the site, the range
(the last `days` days, or from/to), every rule of every day with every counter, and each rule's
totals and absolute uplift (None below the minimum); /stats/rules/{rule} answers the rule's
report. Both answer only a caller with the site's secret (401, the same answer, for a wrong
secret, a site without one and an unknown site); a bad range is 400 with one line.
Against both stores.
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from datetime import datetime

import pytest
import redis as redis_sync
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.insights.goals import Goal
from server.insights.report import COUNTERS
from server.rules.engine import RuleSet
from server.settings import Settings
from server.store.base import StoreUnavailable
from server.store.memory import MemoryStore
from tests.conftest import free_port
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
ZERO = dict.fromkeys(COUNTERS, 0)


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
    app = make_app(
        tmp_path,
        request.param,
        redis_url,
        clock=lambda: NOW,
        site_secrets=f"shop={SHOP_SECRET}",
        events_per_visitor_per_minute=0,  # 200 events from one visitor at once: the limits have their own tests
    )
    with TestClient(app) as client:
        yield client


def stats(
    client,
    days: int | str = 1,
    site: str = "shop",
    secret: str | None = SHOP_SECRET,
    path: str = "",
    query: dict[str, str] | None = None,
):
    """GET /stats (or /stats<path>) for the last `days` days, or with the `query` given instead."""
    headers = {} if secret is None else {"authorization": f"Bearer {secret}"}
    return client.get(f"/v1/sites/{site}/stats{path}", params=query or {"days": days}, headers=headers)


def daily(client, days: int | str = 1) -> dict:
    """The answer's per-day counters."""
    response = stats(client, days)
    assert response.status_code == 200, response.text
    return response.json()["days"]


def send(client, *events: dict, visitor: str | None = None) -> dict:
    response = post(client, batch(*events, visitor=visitor))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reply_that_shows_a_rule_counts_decided(client):
    reply = send(client, page_view("/pricing", ts=NOW))
    assert reply["show"]["rule"] == "hello"
    assert daily(client) == {TODAY: {"hello": counters(decided=1)}}


def decided(client) -> str:
    """A visitor for whom the server decided to show "hello"; their token."""
    reply = send(client, page_view("/pricing", ts=NOW))
    assert reply["show"]["rule"] == "hello"
    return reply["visitor"]


def test_feedback_from_the_widget_counts_each_action(client):
    token = decided(client)
    send(client, feedback("hello", "shown"), feedback("hello", "copied"), feedback("hello", "clicked"), visitor=token)
    send(client, feedback("hello", "dismissed"), visitor=token)
    assert daily(client) == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1, dismissed=1, copied=1)}}


def test_a_retried_feedback_batch_is_counted_once(client):
    token = decided(client)
    body = batch(feedback("hello", "shown"), feedback("hello", "clicked"), visitor=token)
    assert "duplicates" not in post(client, body).json()  # 0, omitted
    assert post(client, body).json()["duplicates"] == 2
    assert daily(client) == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1)}}


def test_made_up_rules_and_rules_never_decided_for_the_visitor_count_nothing(client, request):
    """The outside probe's fake statistics: 20,000 made-up rule ids from 100 requests."""
    token = send(client, page_view("/", ts=NOW))["visitor"]  # "hello" not decided for them
    send(client, *(feedback(f"made-up-{n}", "shown") for n in range(200)), visitor=token)
    send(client, feedback("hello", "clicked"), feedback("hello", "shown"))
    send(client, feedback("hello", "clicked"), visitor=token)
    assert daily(client) == {TODAY: {}}
    if "redis" in request.node.callspec.id:
        assert redis_sync.Redis.from_url(request.getfixturevalue("redis_url")).keys("*stats*") == []


def test_feedback_repeated_for_one_decision_counts_once_per_kind(client):
    token = decided(client)
    for _ in range(3):
        send(
            client, feedback("hello", "shown"), feedback("hello", "clicked"), feedback("hello", "copied"), visitor=token
        )
    assert daily(client) == {TODAY: {"hello": counters(decided=1, shown=1, clicked=1, copied=1)}}


def test_feedback_for_a_rule_no_longer_in_the_rules_is_still_counted(client, tmp_path):
    token = decided(client)
    write_site(tmp_path / "reloaded", "shop", SITE_YAML)  # a reload removed "hello"
    client.app.state.services.live.config = load_config(tmp_path / "reloaded")[0]
    send(client, feedback("hello", "shown"), visitor=token)
    assert daily(client) == {TODAY: {"hello": counters(decided=1, shown=1)}}


def test_feedback_counts_on_the_day_it_happened_in_the_sites_timezone(client):
    token = decided(client)
    late_last_night = datetime(2026, 11, 21, 23, 30, tzinfo=TOKYO).timestamp()  # 14:30 UTC
    send(client, feedback("hello", "shown", ts=late_last_night), feedback("hello", "clicked", ts=NOW), visitor=token)
    assert daily(client, 2) == {
        YESTERDAY: {"hello": counters(shown=1)},
        TODAY: {"hello": counters(decided=1, clicked=1)},
    }


def test_page_views_alone_count_nothing(client, request):
    send(client, page_view("/", ts=NOW), page_view("/about", ts=NOW))
    assert daily(client) == {TODAY: {}}
    if "redis" in request.node.callspec.id:
        keys = redis_sync.Redis.from_url(request.getfixturevalue("redis_url")).keys("*stats*")
        assert keys == []


def test_the_endpoint_answers_every_day_asked_oldest_first(client):
    send(client, feedback("hello", "shown"), visitor=decided(client))
    week = daily(client, 7)
    assert list(week) == [f"2026-11-{day}" for day in range(16, 23)]
    assert week[TODAY] == {"hello": counters(decided=1, shown=1)} and all(week[day] == {} for day in list(week)[:-1])
    default = client.get("/v1/sites/shop/stats", headers={"authorization": f"Bearer {SHOP_SECRET}"}).json()
    assert list(default["days"]) == list(week)  # 7 days by default


@pytest.mark.parametrize("days", ["0", "401", "seven", "-1", "1.5", ""])
def test_a_bad_number_of_days_is_400(client, days):
    response = stats(client, days=days)
    assert response.status_code == 400 and "from 1 to 400" in response.json()["error"]


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789"])
@pytest.mark.parametrize("path", ["", "/rules/hello", "/overview"])
def test_the_endpoint_needs_the_sites_secret(client, secret, path):
    response = stats(client, secret=secret, path=path)
    assert response.status_code == 401 and "Bearer" in response.json()["error"]


def test_a_site_without_a_secret_and_an_unknown_one_get_the_same_401_as_a_wrong_secret(client):
    wrong = stats(client, secret="wrong-secret-0123456789")
    for site in ("other", "nope"):
        for path in ("", "/rules/hello", "/overview"):
            response = stats(client, site=site, path=path)
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


# What the engine and the conversions count for "hello" (docs/insights.md), put in the store as
# they would be: 1200 decided on 2026-11-21, 200 held out; 120 of the other 1000 converted
# (value 6000, Σv² 600,000), 16 of the 200 held out (800, 80,000). Whole numbers only: the Redis
# store of this branch adds with HINCRBY.
HELLO = {
    "decided": 1200,
    "held_out": 200,
    "shown": 950,
    "clicked": 80,
    "dismissed": 500,
    "copied": 0,
    "converted": 120,
    "converted_held_out": 16,
    "value": 6000,
    "value_held_out": 800,
    "value_sq": 600_000,
    "value_sq_held_out": 80_000,
    "decided@device=mobile": 700,
    "decided@device=desktop": 500,
    "converted@device=mobile": 90,
    "decided@hour=12": 1200,
    "decided@page=/pricing": 1200,
}
PURCHASE = Goal("purchase", event="purchase", value="value", within=7 * 86400)


@pytest.fixture
def counted(client) -> TestClient:
    """The shop with a purchase goal and a 20 % holdout on "hello", and HELLO counted yesterday."""
    live = client.app.state.services.live
    site = dataclasses.replace(live.config.sites["shop"], goals={"purchase": PURCHASE}, holdout=0.2)
    rules = RuleSet(site, live.config.rules["shop"].rules)
    live.config = dataclasses.replace(
        live.config, sites={**live.config.sites, "shop": site}, rules={**live.config.rules, "shop": rules}
    )
    store = client.app.state.services.store
    client.portal.call(store.add_counts, "shop", {(YESTERDAY, "hello", name): n for name, n in HELLO.items()})
    client.portal.call(store.add_counts, "shop", {("2026-11-01", "removed", "decided"): 4})
    return client


def test_the_answer_names_the_site_and_its_range_and_every_rules_totals_and_uplift(counted):
    answer = stats(counted, days=2).json()
    assert (answer["site"], answer["from"], answer["to"]) == ("shop", YESTERDAY, TODAY)
    assert answer["days"] == {
        YESTERDAY: {"hello": {name: n for name, n in HELLO.items() if "@" not in name}},
        TODAY: {},
    }
    hello = answer["rules"]["hello"]
    assert {name: hello[name] for name in COUNTERS} == answer["days"][YESTERDAY]["hello"]
    # Worked out by hand in tests/insights/test_uplift.py: 12 % against 8 %.
    assert hello["uplift"] == pytest.approx({"estimate": 0.04, "low": -0.0026534, "high": 0.0826534}, abs=1e-6)
    assert hello["sample_ratio"]["mismatch"] is False and hello["sample_ratio"]["expected"] == 0.2
    assert list(answer["rules"]) == ["hello"]  # "removed" counted nothing in these two days


def test_a_range_from_and_to_includes_both_days(counted):
    answer = stats(counted, query={"from": "2026-11-01", "to": YESTERDAY}).json()
    assert (answer["from"], answer["to"], len(answer["days"])) == ("2026-11-01", YESTERDAY, 21)
    assert answer["days"]["2026-11-01"] == {"removed": counters(decided=4)}
    assert answer["rules"]["removed"]["decided"] == 4 and answer["rules"]["removed"]["uplift"] is None
    assert answer["rules"]["hello"]["decided"] == 1200


def test_too_little_data_has_no_uplift(counted):
    store = counted.app.state.services.store
    counted.portal.call(store.add_counts, "shop", {(TODAY, "hello", "decided"): 150, (TODAY, "hello", "held_out"): 30})
    assert stats(counted, days=1).json()["rules"]["hello"]["uplift"] is None  # today alone: 30 held out, no conversions
    assert stats(counted, days=2).json()["rules"]["hello"]["uplift"] is not None


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-11-01"}, "to is missing"),
        ({"to": "2026-11-01"}, "from is missing"),
        ({"from": "2026-11-01", "to": "2026-11-02", "days": "2"}, "either days or from and to"),
        ({"from": "2026-11-5", "to": "2026-11-22"}, "from has value '2026-11-5'; expected a date as YYYY-MM-DD"),
        ({"from": "2026-W47-1", "to": "2026-11-22"}, "from has value '2026-W47-1'"),
        ({"from": "2026-11-01", "to": "2026-02-30"}, "to has value '2026-02-30'"),
        ({"from": "2026-11-22", "to": "2026-11-01"}, "from (2026-11-22) is after to (2026-11-01)"),
        ({"from": "2025-01-01", "to": "2026-11-22"}, "is 691 days; at most 400 days at once"),
    ],
)
def test_a_bad_range_is_400_with_one_line_naming_it(client, params, message):
    for path in ("", "/rules/hello"):
        response = stats(client, path=path, query=params)
        assert response.status_code == 400 and message in response.json()["error"]
        assert "\n" not in response.json()["error"]


def test_a_rules_report_has_its_funnel_breakdowns_and_uplift(counted):
    answer = stats(counted, days=2, path="/rules/hello").json()
    assert (answer["site"], answer["from"], answer["to"]) == ("shop", YESTERDAY, TODAY)
    assert answer["rule"]["id"] == "hello" and answer["rule"]["holdout"] == 0.2 and answer["rule"]["goal"] == "purchase"
    funnel = answer["tables"]["funnel"]
    assert funnel["columns"][:4] == ["day", "decided", "held_out", "shown"]
    assert funnel["rows"] == [[YESTERDAY, 1200, 200, 950, 80, 500, 0, 120, 16, 6000, 800], [TODAY] + [0] * 10]
    assert answer["tables"]["by_device"]["rows"][0][:2] == ["mobile", 700]
    assert answer["tables"]["by_page"]["rows"] == [["/pricing", 1200] + [0] * 9]
    assert answer["tables"]["by_hour"]["rows"][12][:2] == [12, 1200]
    uplift = answer["uplift"]
    assert uplift["enough_data"] and uplift["treatment"]["rate"] == 0.12 and uplift["control"]["rate"] == 0.08
    assert uplift["relative"] == pytest.approx({"estimate": 0.5, "low": -0.0893426, "high": 1.4707427}, abs=1e-6)
    assert uplift["value"] == pytest.approx({"estimate": 2.0, "low": -1.106892, "high": 5.106892}, abs=2e-5)


def test_a_rule_no_longer_in_the_rules_reports_what_it_counted_and_an_unknown_one_is_404(counted):
    removed = stats(counted, path="/rules/removed", query={"from": "2026-11-01", "to": TODAY}).json()
    assert removed["rule"] == {"id": "removed"} and removed["totals"]["decided"] == 4
    response = stats(counted, days=7, path="/rules/removed")
    assert response.status_code == 404
    assert (
        response.json()["error"]
        == "unknown rule 'removed': not in the site's rules, nothing counted from 2026-11-16 to 2026-11-22"
    )


@pytest.mark.parametrize("path", ["", "/rules/hello", "/overview"])
def test_an_unreachable_store_is_503(tmp_path, path):
    write_site(tmp_path, "shop", SITE_YAML, **{"rules.yaml": RULES})
    app = make_app(tmp_path, "redis", f"redis://127.0.0.1:{free_port()}/0", site_secrets=f"shop={SHOP_SECRET}")
    with TestClient(app) as client:
        response = stats(client, path=path)
    assert response.status_code == 503 and "stats not read" in response.json()["error"]
    assert response.headers["retry-after"] == "5"


def test_the_overview_answers_the_sites_traffic_once_flushed(client):
    send(client, page_view("/pricing", ts=NOW - 60), page_view("/", ts=NOW))
    client.portal.call(client.app.state.services.ingest.traffic.flush)  # the background task's work, now
    response = stats(client, path="/overview")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["site"], answer["from"], answer["to"]) == ("shop", TODAY, TODAY)
    daily_table = answer["tables"]["daily"]
    row = dict(zip(daily_table["columns"], daily_table["rows"][-1], strict=True))
    assert (row["day"], row["page_views"], row["visitors"], row["sessions"]) == (TODAY, 2, 1, 1)
