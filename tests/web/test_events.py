"""POST /v1/sites/{site}/events, against both stores (in-memory and a real redis-server).

Events are acknowledged once stored and counted once however often they are retried; bad
input gets a 4xx with one line saying what is wrong and never changes stored state; only
allowed origins get in, and only they get CORS headers; forged visitor ids are replaced.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from server.identity import VisitorIds
from tests.helpers import SECRET, SHOP, batch, make_app, page_view, post, set_attributes, stored_profile, track, write_site


SEED = "a-secret-seed-only-this-browser-knows"


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_site(tmp_path)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    with TestClient(make_app(tmp_path, request.param, redis_url)) as client:
        yield client


def first_visit(client, *events):
    response = post(client, batch(*events))
    assert response.status_code == 200, response.text
    return response.json()


def test_events_are_stored_and_acknowledged(client):
    events = [page_view("/pricing?utm_source=line&utm_campaign=spring"), track("add_to_cart", {"price": 4900}),
              set_attributes({"cart_value": 4900})]
    reply = first_visit(client, *events)
    assert reply["acked"] == [e["id"] for e in events]
    profile = stored_profile(client, reply["visitor"])
    assert profile.page_views["/pricing"].total == 1
    assert profile.event_counts == {"add_to_cart": 1}
    assert profile.attributes == {"cart_value": 4900}
    assert profile.sessions == 1 and profile.session_log[0].utm == {"source": "line", "campaign": "spring"}
    assert profile.language == "ja-jp" and profile.device == "desktop"


def test_cors_headers_name_the_allowed_origin(client):
    response = post(client, batch(page_view("/")))
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "Origin" in response.headers["vary"]


def test_the_same_batch_sent_twice_is_counted_once(client):
    body = batch(page_view("/pricing"), track("add_to_cart"), seed=SEED)
    first = post(client, body).json()
    # The retry carries the token the first reply issued, or none (and the seed) if that reply was lost.
    second = post(client, body).json()
    assert second["visitor"] == first["visitor"]
    assert second["acked"] == first["acked"] and second["duplicates"] == 2
    profile = stored_profile(client, first["visitor"])
    assert profile.page_views["/pricing"].total == 1 and profile.event_counts["add_to_cart"] == 1


def test_a_first_batch_replayed_without_its_seed_gets_another_visitor(client):
    """The outside probe's takeover: the victim's first event id, sent with visitor null, used to
    return the victim's token (ids were derived from it)."""
    first = page_view("/")
    victim = post(client, batch(first, set_attributes({"name": "Hanako"}), seed=SEED)).json()
    for seed in (None, "another-seed-of-22-chars-or-more"):
        replay = post(client, batch(first, set_attributes({"name": "Mallory"}), seed=seed)).json()
        assert replay["visitor"] != victim["visitor"]
        assert "duplicates" not in replay  # stored again, for a new visitor of its own
    assert stored_profile(client, victim["visitor"]).attributes == {"name": "Hanako"}


def test_a_retry_that_overlaps_new_events_stores_only_the_new_ones(client):
    old = page_view("/a")
    token = first_visit(client, old)["visitor"]
    reply = post(client, batch(old, page_view("/b"), visitor=token)).json()
    assert reply["duplicates"] == 1 and len(reply["acked"]) == 2
    profile = stored_profile(client, token)
    assert profile.page_views["/a"].total == 1 and profile.page_views["/b"].total == 1


def test_a_known_visitor_keeps_its_id(client):
    token = first_visit(client, page_view("/"))["visitor"]
    reply = post(client, batch(page_view("/pricing"), visitor=token)).json()
    assert reply["visitor"] == token
    assert set(stored_profile(client, token).page_views) == {"/", "/pricing"}


@pytest.mark.parametrize("forged", [
    "attacker-chosen-id",  # unsigned
    "tampered.AAAAAAAAAAAAAAAAAAAAAAAAAAA",  # bad signature
    VisitorIds(SECRET).sign("other-site", "victim"),  # signed for another site
    VisitorIds("another-secret").sign("shop", "victim"),  # signed with another key
])
def test_a_forged_visitor_id_is_replaced_never_trusted(client, forged):
    reply = post(client, batch(page_view("/"), visitor=forged)).json()
    assert reply["visitor"] != forged
    visitor_id = VisitorIds(SECRET).verify("shop", reply["visitor"])
    assert visitor_id not in (None, "victim")


def test_an_unknown_site_gets_404(client):
    response = post(client, batch(page_view("/")), site="nope")
    assert response.status_code == 404 and response.json() == {"error": "unknown site 'nope'"}


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", None])
def test_a_disallowed_origin_is_refused_with_a_reason_and_no_cors(client, origin):
    response = post(client, batch(page_view("/")), origin=origin)
    assert response.status_code == 403
    assert "not allowed" in response.json()["error"] or "missing Origin" in response.json()["error"]
    assert "access-control-allow-origin" not in response.headers


def test_preflight_is_answered_for_allowed_origins_only(client):
    ok = client.options("/v1/sites/shop/events", headers={"origin": SHOP, "access-control-request-method": "POST"})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == SHOP
    refused = client.options("/v1/sites/shop/events", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


BAD_INPUTS = [
    (b"{not json", 400, "not valid JSON"),
    (b"", 400, "empty body"),
    (b"[]", 400, "Expected `object`"),
    (b'{"events": []}', 400, "length >= 1"),
    (b'{"events": [{"type": "page_view", "id": "short", "ts": 1, "url": "/"}]}', 400, "invalid event 0"),
    (b'{"events": [{"type": "page_view", "id": "abcdefgh12", "ts": "yesterday", "url": "/"}]}', 400, "$.ts"),
    (b'{"events": [{"type": "teleport", "id": "abcdefgh12", "ts": 1}]}', 400, "Invalid value 'teleport'"),
    (b'{"events": [{"type": "set", "id": "abcdefgh12", "ts": 1, "attributes": {"a": {"b": 1}}}]}', 400,
     "$.attributes[...]"),
    (b'{"events": [{"type": "page_view", "id": "abcdefgh12", "ts": 1, "url": "/", "extra": 1}]}', 400,
     "unknown field `extra`"),
    (b'{"seed": "too-short", "events": [{"type": "page_view", "id": "abcdefgh12", "ts": 1, "url": "/"}]}', 400,
     "$.seed"),
]


@pytest.mark.parametrize("body, status, reason", BAD_INPUTS)
def test_bad_input_gets_a_4xx_with_one_line_and_stores_nothing(client, body, status, reason):
    response = post(client, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert reason in error and "\n" not in error
    assert response.headers["access-control-allow-origin"] == SHOP  # so the widget can log the reason


def test_an_event_over_32_kb_is_refused_and_nothing_of_its_batch_is_stored(client):
    token = first_visit(client, page_view("/"))["visitor"]
    huge = track("note", {"text": "x" * 33_000})
    response = post(client, batch(page_view("/pricing"), huge, visitor=token))
    assert response.status_code == 413 and "event 1 is" in response.json()["error"]
    assert set(stored_profile(client, token).page_views) == {"/"}


def test_a_batch_over_256_kb_is_refused(client):
    events = [track("note", {"text": "x" * 20_000}) for _ in range(14)]
    response = post(client, batch(*events))
    assert response.status_code == 413 and "limit is 262144" in response.json()["error"]


def test_a_batch_over_256_kb_without_content_length_is_refused(client):
    events = [track("note", {"text": "x" * 20_000}) for _ in range(14)]
    body = batch(*events)
    response = client.post("/v1/sites/shop/events", content=iter([body[:100_000], body[100_000:]]),
                           headers={"origin": SHOP, "content-type": "text/plain"})
    assert response.status_code == 413


def test_a_bad_event_after_good_ones_stores_none_of_them(client):
    token = first_visit(client, page_view("/"))["visitor"]
    body = json.loads(batch(page_view("/pricing"), visitor=token))
    body["events"].append({"type": "track", "id": "abcdefgh12", "ts": 1, "name": "has space"})
    assert post(client, json.dumps(body).encode()).status_code == 400
    assert set(stored_profile(client, token).page_views) == {"/"}


def test_a_phone_is_recorded_as_mobile(client):
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    reply = post(client, batch(page_view("/")), **{"user-agent": ua}).json()
    assert stored_profile(client, reply["visitor"]).device == "mobile"
