"""Rules through the event endpoint, on both stores, and two server processes racing on one Redis.

The reply to a batch shows the best rule that holds, its texts rendered, with its id; the
same visitor does not get it again beyond its limit; a page view says which client signals
to watch there, and the signal, once reported, can fire its rule. A limit is claimed with the
visitor's state in one compare-and-set: two server processes receiving batches from the same
visitor at the same moment never show a `per_visitor: 1` rule twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.store.redis import RedisStore
from server.tracking import RequestFacts
from tests.helpers import (
    SECRET,
    SHOP,
    SITE_YAML,
    batch,
    event_id,
    make_app,
    page_view,
    post,
    set_attributes,
    stored_profile,
)

RULES = """\
rules:
  - id: pricing-help
    when: {page: /pricing}
    show:
      chat:
        text: "{{ visitor.name | default('お客様') }}さん、料金プランのご相談はこちら"
        button: {label: 相談する, url: /contact}
  - id: once-ever
    when: {page: /sale}
    show: {message: {title: セール開催中, style: banner}}
    limit: {per_visitor: 1}
  - id: reader
    when: {page: /blog/*, time_on_page: 30s}
    show: {chat: ゆっくりご覧ください}
  - id: staff-pick
    when: {page: /staff}
    show: {message: {title: スタッフのおすすめ}}
    limit: {per_session: 5}
"""
SITE = SITE_YAML + "engagement_gap: 0s\n"


def write_rules(folder):
    (folder / "shop").mkdir(parents=True, exist_ok=True)
    (folder / "shop" / "site.yaml").write_text(SITE, encoding="utf-8")
    (folder / "shop" / "rules.yaml").write_text(RULES, encoding="utf-8")


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_rules(tmp_path)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    with TestClient(make_app(tmp_path, request.param, redis_url)) as client:
        yield client


def send(client, *events, visitor: str | None = None) -> dict:
    response = post(client, batch(*events, visitor=visitor))
    assert response.status_code == 200, response.text
    return response.json()


def signal(name: str, value: float, path: str) -> dict:
    return {
        "type": "signal",
        "id": event_id(),
        "ts": int(time.time() * 1000),
        "signal": name,
        "value": value,
        "url": SHOP + path,
    }


def dismissed(rule: str) -> dict:
    return {"type": "feedback", "id": event_id(), "ts": int(time.time() * 1000), "rule": rule, "action": "dismissed"}


def test_a_page_view_that_satisfies_a_rule_gets_it_shown_rendered(client):
    reply = send(client, set_attributes({"name": "花子"}), page_view("/pricing"))
    assert reply["show"] == {
        "type": "chat",
        "text": "花子さん、料金プランのご相談はこちら",
        "button": {"label": "相談する", "url": "/contact"},
        "rule": "pricing-help",
        "lang": "ja",
        "placement": "bottom-right",
    }


def test_the_same_visitor_does_not_get_it_again_beyond_its_limit(client):
    first = send(client, page_view("/pricing"))
    assert first["show"]["rule"] == "pricing-help" and first["show"]["text"] == "お客様さん、料金プランのご相談はこちら"
    second = send(client, page_view("/pricing"), visitor=first["visitor"])
    assert "show" not in second
    assert [e.rule for e in stored_profile(client, first["visitor"]).engagements] == ["pricing-help"]


def test_another_visitor_gets_it_too(client):
    assert send(client, page_view("/pricing"))["show"]["rule"] == "pricing-help"
    assert send(client, page_view("/pricing"))["show"]["rule"] == "pricing-help"


def test_a_page_view_that_satisfies_no_rule_shows_nothing(client):
    reply = send(client, page_view("/about"))
    assert "show" not in reply and not reply.get("watch")


def test_a_retried_batch_does_not_show_the_rule_again(client):
    body = batch(page_view("/sale"), seed="a-secret-seed-only-this-browser-knows")
    first = post(client, body).json()
    assert first["show"]["rule"] == "once-ever"
    retry = post(client, body).json()  # the reply was lost; the widget sends the same events again
    assert retry["duplicates"] == 1 and "show" not in retry


def test_the_reply_says_what_to_watch_and_the_reported_signal_fires_the_rule(client):
    first = send(client, page_view("/blog/kimono"))
    assert "show" not in first and first["watch"] == {"time_on_page": [30.0]}
    client.app.state.services.ingest.clock = lambda: time.time() + 30  # 30 s later, by the server's clock
    reached = send(client, signal("time_on_page", 30, "/blog/kimono"), visitor=first["visitor"])
    assert reached["show"] == {
        "type": "chat",
        "text": "ゆっくりご覧ください",
        "rule": "reader",
        "lang": "ja",
        "placement": "bottom-right",
    }
    again = send(client, page_view("/blog/kimono"), visitor=first["visitor"])
    assert "show" not in again and not again.get("watch")  # shown this session: nothing left to watch


def test_a_dismissed_engagement_is_not_shown_again_that_session(client):
    first = send(client, page_view("/staff"))
    token = first["visitor"]
    assert first["show"]["rule"] == "staff-pick"
    assert send(client, page_view("/staff"), visitor=token)["show"]["rule"] == "staff-pick"  # up to 5 a session
    assert "show" not in send(client, dismissed("staff-pick"), visitor=token)
    assert "show" not in send(client, page_view("/staff"), visitor=token)


# Two server processes, one Redis


VISITORS = 20


def test_two_processes_racing_for_the_same_limit_show_it_once_over_http(tmp_path, redis_url):
    write_rules(tmp_path)
    # Two apps, each with its own Redis connections, like two `irasshai serve` processes.
    with (
        TestClient(make_app(tmp_path, "redis", redis_url)) as one,
        TestClient(make_app(tmp_path, "redis", redis_url)) as two,
    ):
        barrier = threading.Barrier(2)

        def race(client, token):
            body = batch(page_view("/sale"), visitor=token)  # fresh event ids for each batch
            barrier.wait()
            response = post(client, body)
            assert response.status_code == 200, response.text
            return response.json()

        shown = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            for _ in range(VISITORS):
                token = send(one, page_view("/"))["visitor"]
                replies = list(pool.map(race, (one, two), (token, token)))
                assert all(len(reply["acked"]) == 1 and reply["visitor"] == token for reply in replies)
                shown.append(sum("show" in reply for reply in replies))
                profile = stored_profile(one, token)
                assert [e.rule for e in profile.engagements] == ["once-ever"]
                assert profile.page_views["/sale"].total == 2  # both batches stored, neither lost
    assert shown == [1] * VISITORS


@pytest.mark.anyio
async def test_two_ingests_handling_the_same_visitor_at_once_claim_the_limit_once(tmp_path, redis_url):
    write_rules(tmp_path)
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    stores = [RedisStore(redis_url), RedisStore(redis_url)]
    ingests = [Ingest(store, ids, 1800) for store in stores]
    facts = RequestFacts("desktop", "ja")
    try:
        shown = []
        for number in range(VISITORS):
            token = ids.sign("shop", f"racer-{number}")
            bodies = [batch(page_view("/sale"), visitor=token) for _ in ingests]
            # Both read the visitor before either writes: one write wins, the other re-reads and re-decides.
            replies = await asyncio.gather(
                *(
                    ingest.handle(site, rules, *decode_batch(body), facts)
                    for ingest, body in zip(ingests, bodies, strict=True)
                )
            )
            shown.append(sum(reply.show is not None for reply in replies))
            state = await ingests[1].profile(site, f"racer-{number}")
            assert [e.rule for e in state.engagements] == ["once-ever"] and state.page_views["/sale"].total == 2
        assert shown == [1] * VISITORS
    finally:
        for store in stores:
            await store.close()
