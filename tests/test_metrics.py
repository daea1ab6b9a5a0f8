"""GET /metrics, as a Prometheus scrape sees it (server/metrics.py, server/web/metrics.py).

Not exposed without IRASSHAI_METRICS_TOKEN (404, as an unknown path); with it, 401 without the
token or with another. What an operator watches moves with what happens: a batch counts its
events by type and the batch as accepted, a refused batch counts by reason and status, a
decided rule counts as shown or held out by site and rule, the event path's store calls are
timed, a rate limit's refusals count by limit, and a reload of a broken rules folder counts as an
error. Metrics are process-wide (as in a server), so each test reads what changed.
"""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from server.config import Live, load_config
from server.reloader import Reloader
from tests.helpers import batch, make_app, page_view, post, write_site

TOKEN = "metrics-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
RULES = """\
rules:
  - id: sale-banner
    when: {page: /sale}
    show: {message: {title: セール開催中, style: banner}}
    holdout: 50%
"""


def samples(client: TestClient) -> dict[tuple, float]:
    """Every sample of a scrape, as (name, (label, value), …) -> value."""
    reply = client.get("/metrics", headers=AUTH)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            found[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return found


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, *sorted(labels.items())), 0.0)


def test_metrics_are_not_exposed_without_a_token_and_refused_without_the_right_one(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=AUTH).status_code == 404
    with TestClient(make_app(tmp_path, metrics_token=TOKEN)) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"authorization": "Bearer metrics-token-0123456780"})
        basic = client.get("/metrics", headers={"authorization": f"Basic {TOKEN}"})
        assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "IRASSHAI_METRICS_TOKEN" in missing.json()["error"]
        assert client.get("/metrics", headers=AUTH).status_code == 200


def test_an_accepted_batch_counts_its_events_by_type_and_its_store_calls(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, metrics_token=TOKEN)) as client:
        before = samples(client)
        reply = post(client, batch(page_view("/"), page_view("/shoes")))
        assert reply.status_code == 200
        after = samples(client)
    assert (
        value(after, "irasshai_events_accepted_total", type="page_view")
        - value(before, "irasshai_events_accepted_total", type="page_view")
        == 2
    )
    assert (
        value(after, "irasshai_batches_total", outcome="accepted")
        - value(before, "irasshai_batches_total", outcome="accepted")
        == 1
    )
    for operation in ("load_visitor", "swap_visitor"):
        assert (
            value(after, "irasshai_store_seconds_count", operation=operation)
            - value(before, "irasshai_store_seconds_count", operation=operation)
            == 1
        )


def test_a_refused_batch_is_counted_by_reason_and_status(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, metrics_token=TOKEN)) as client:
        before = samples(client)
        assert post(client, b"{not json").status_code == 400
        assert post(client, batch(page_view("/")), origin="https://elsewhere.example").status_code == 403
        after = samples(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("irasshai_batches_total", outcome="bad_batch") == 1
    assert grew("irasshai_batches_total", outcome="refused") == 1
    assert grew("irasshai_batches_total", outcome="accepted") == 0
    assert grew("irasshai_refusals_total", endpoint="post_events", reason="bad_batch", status="400") == 1
    assert grew("irasshai_refusals_total", endpoint="post_events", reason="refused", status="403") == 1


def test_decisions_count_per_rule_as_shown_or_held_out(tmp_path):
    write_site(tmp_path, **{"sale.yaml": RULES})
    visitors = 12
    with TestClient(make_app(tmp_path, metrics_token=TOKEN, new_visitors_per_minute=0)) as client:
        before = samples(client)
        shows = sum(post(client, batch(page_view("/sale"))).json().get("show") is not None for _ in range(visitors))
        after = samples(client)

    def grew(outcome: str) -> float:
        labels = {"site": "shop", "rule": "sale-banner", "outcome": outcome}
        return value(after, "irasshai_decisions_total", **labels) - value(before, "irasshai_decisions_total", **labels)

    assert grew("shown") == shows
    assert grew("held_out") == visitors - shows


def test_a_rate_limit_refusal_is_counted_by_limit(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path, metrics_token=TOKEN, new_visitors_per_minute=1)) as client:
        before = samples(client)
        statuses = [post(client, batch(page_view("/"))).status_code for _ in range(3)]
        after = samples(client)
    assert statuses == [200, 429, 429]
    assert (
        value(after, "irasshai_rate_limited_total", limit="new_visitors")
        - value(before, "irasshai_rate_limited_total", limit="new_visitors")
        == 2
    )
    assert (
        value(after, "irasshai_batches_total", outcome="rate_limited")
        - value(before, "irasshai_batches_total", outcome="rate_limited")
        == 2
    )


def test_reloads_count_as_ok_or_error(tmp_path):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    live = Live(config)
    reloader = Reloader(tmp_path, live, 1.0)
    with TestClient(make_app(tmp_path, metrics_token=TOKEN)) as client:
        before = samples(client)
        (tmp_path / "shop" / "broken.yaml").write_text("rules: [{id: x, when: {pag: /}}]\n", encoding="utf-8")
        assert asyncio.run(reloader.check()) is False
        (tmp_path / "shop" / "broken.yaml").write_text(RULES, encoding="utf-8")
        assert asyncio.run(reloader.check()) is True
        after = samples(client)
    assert (
        value(after, "irasshai_rule_reloads_total", result="error")
        - value(before, "irasshai_rule_reloads_total", result="error")
        == 1
    )
    assert (
        value(after, "irasshai_rule_reloads_total", result="ok")
        - value(before, "irasshai_rule_reloads_total", result="ok")
        == 1
    )


def test_webhook_attempts_are_counted_by_outcome(tmp_path):
    from tests.webhooks.receiver import Receiver, serving
    from tests.webhooks.test_delivery import app_for, chat, delivered

    receiver = Receiver(answers=[500, 503])
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[conversation.started]", webhook_backoff=0.05, metrics_token=TOKEN)
        with TestClient(app) as client:
            before = samples(client)
            token = post(client, batch(page_view("/"))).json()["visitor"]
            assert chat(client, {"visitor": token, "do": {"type": "open"}}).status_code == 200
            delivered(client, app)
            after = samples(client)

    def grew(outcome: str) -> float:
        labels = {"channel": "webhook", "outcome": outcome}
        return value(after, "irasshai_deliveries_total", **labels) - value(
            before, "irasshai_deliveries_total", **labels
        )

    assert (grew("retry"), grew("delivered"), grew("failed")) == (2, 1, 0)
