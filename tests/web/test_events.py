"""POST /v1/sites/{site}/events, against both stores (in-memory and a real redis-server).

Events are acknowledged once stored and counted once however often they are retried; bad
input gets a 4xx with one line saying what is wrong and never changes stored state (when one
event is the cause, the reply names it by index and id, so that the widget can drop it alone);
no input answers 500; what the widget itself can send (a title cut in an emoji, a huge number)
is stored; only allowed origins get in, and only they get CORS headers, even on a 500;
forged visitor ids are replaced.
A body that does not arrive within IRASSHAI_BODY_TIMEOUT is answered 408 and its connection
closed; a store outage is logged once per few seconds, not once per batch.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from starlette.testclient import TestClient

from server.identity import VisitorIds
from server.visitor import MAX_EVENT_NAMES
from tests.conftest import free_port, live_server
from tests.helpers import (
    SECRET,
    SHOP,
    SITE_YAML,
    batch,
    make_app,
    page_view,
    post,
    set_attributes,
    stored_profile,
    track,
    write_site,
)

SEED = "a-secret-seed-only-this-browser-knows"


@pytest.fixture(params=["memory", "redis"])
def client(request, tmp_path):
    write_site(tmp_path)
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    # One visitor here sends far more than a person could: the rate limits have tests of their own.
    with TestClient(make_app(tmp_path, request.param, redis_url, events_per_visitor_per_minute=0)) as client:
        yield client


def first_visit(client, *events):
    response = post(client, batch(*events))
    assert response.status_code == 200, response.text
    return response.json()


def test_events_are_stored_and_acknowledged(client):
    events = [
        page_view("/pricing?utm_source=line&utm_campaign=spring"),
        track("add_to_cart", {"price": 4900}),
        set_attributes({"cart_value": 4900}),
    ]
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
    # The widget reads Retry-After from every answer; a header CORS does not expose, Chromium
    # refuses to read and logs as an error on the shop's page.
    assert response.headers["access-control-expose-headers"] == "Retry-After"


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


@pytest.mark.parametrize(
    "forged",
    [
        "attacker-chosen-id",  # unsigned
        "tampered.AAAAAAAAAAAAAAAAAAAAAAAAAAA",  # bad signature
        VisitorIds(SECRET).sign("other-site", "victim"),  # signed for another site
        VisitorIds("another-secret").sign("shop", "victim"),  # signed with another key
    ],
)
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
    (b'{"events": [{"type": "page_view", "id": "short", "ts": 1, "url": "/"}]}', 400, "event 0: "),
    (b'{"events": [{"type": "page_view", "id": "abcdefgh12", "ts": "yesterday", "url": "/"}]}', 400, "$.ts"),
    (b'{"events": [{"type": "teleport", "id": "abcdefgh12", "ts": 1}]}', 400, "Invalid value 'teleport'"),
    # Found by tests/fuzz: a field name with a line break split the error over two lines.
    (
        b'{"events": [{"type": "page_view", "id": "abcdefgh12", "ts": 1, "url": "/", "a\\nb\\u2028": 1}]}',
        400,
        "unknown field `a\\nb\\u2028`",
    ),
    (b'{"events": [{"type": "tele\\r\\nport", "id": "abcdefgh12", "ts": 1}]}', 400, "Invalid value 'tele\\r\\nport'"),
    (
        b'{"events": [{"type": "set", "id": "abcdefgh12", "ts": 1, "attributes": {"a": {"b": 1}}}]}',
        400,
        "$.attributes[...]",
    ),
    (
        b'{"events": [{"type": "page_view", "id": "abcdefgh12", "ts": 1, "url": "/", "extra": 1}]}',
        400,
        "unknown field `extra`",
    ),
    (
        b'{"seed": "too-short", "events": [{"type": "page_view", "id": "abcdefgh12", "ts": 1, "url": "/"}]}',
        400,
        "$.seed",
    ),
    # Found by tests/fuzz: a field nested thousands deep before an event's "type" was a 500
    # (msgspec recursed skipping it while looking for the type).
    (b'{"events": [' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"]}", 400, "nests too deeply"),
    (b'{"events": [{"x": ' + b"[" * 3000 + b"]" * 3000 + b', "type": "set"}]}', 400, "nests too deeply"),
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
    assert response.status_code == 413 and f"event 1 (id {huge['id']}): 33" in response.json()["error"]
    assert response.json()["event"] == 1
    assert set(stored_profile(client, token).page_views) == {"/"}


def test_a_batch_over_256_kb_is_refused(client):
    events = [track("note", {"text": "x" * 20_000}) for _ in range(14)]
    response = post(client, batch(*events))
    assert response.status_code == 413 and "limit is 262144" in response.json()["error"]


def test_a_batch_over_256_kb_without_content_length_is_refused(client):
    events = [track("note", {"text": "x" * 20_000}) for _ in range(14)]
    body = batch(*events)
    response = client.post(
        "/v1/sites/shop/events",
        content=iter([body[:100_000], body[100_000:]]),
        headers={"origin": SHOP, "content-type": "text/plain"},
    )
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


# A body that never arrives is answered 408 after IRASSHAI_BODY_TIMEOUT; an outage logs one line, not one per batch.


def send_headers_only(url: str, path: str) -> bytes:
    """Send a request's headers, promise a body and never send it; return what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(30)  # a failsafe: without the body timeout the server would wait for the body
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {SHOP}\r\nContent-Type: text/plain\r\n"
            f'Content-Length: 500\r\n\r\n{{"events": ['.encode()
        )
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", ["/v1/sites/shop/events", "/v1/coupons/redeem"])
def test_a_body_that_never_arrives_is_answered_408_and_the_connection_closed(tmp_path, path):
    write_site(tmp_path)
    with live_server(make_app(tmp_path, body_timeout=0.2)) as url:
        answer = send_headers_only(url, path)  # returns only once the server closed the connection
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout", answer
    assert b"the body did not arrive within 0.2 s" in rest


def test_a_store_outage_logs_one_warning_not_one_per_batch(tmp_path, caplog):
    write_site(tmp_path)
    now = 1_800_000_000.0
    app = make_app(tmp_path, "redis", f"redis://127.0.0.1:{free_port()}/0", clock=lambda: now)
    with TestClient(app) as client:
        statuses = {post(client, batch(page_view("/"))).status_code for _ in range(30)}
    assert statuses == {503}
    warnings = [r.getMessage() for r in caplog.records if "events not stored" in r.getMessage()]
    assert len(warnings) == 1 and "is unreachable" in warnings[0]


# Crafted events (issue 15, item 1): each is refused with a 400 that names it, never a 500.

BAD_ID = "crafted-event-01"
DEEP = 3000  # levels: deeper than Python's recursion limit


def _event(fields: bytes) -> bytes:
    return b'{"type": "set", "id": "' + BAD_ID.encode() + b'", "ts": ' + str(int(time.time() * 1000)).encode() + fields


CRAFTED = {
    "invalid UTF-8 in a string": _event(b', "attributes": {"name": "caf\xc3\x28 \xff"}}'),
    "invalid UTF-8 in a key": _event(b', "attributes": {"n\xffme": 1}}'),
    "page URL with a broken IPv6 host": json.dumps({**page_view("/"), "id": BAD_ID, "url": "http://[::1/x"}).encode(),
    "page URL with a bracketed non-address": json.dumps(
        {**page_view("/"), "id": BAD_ID, "url": "http://[shop]/"}
    ).encode(),
    "referrer that is not a URL after NFKC": json.dumps(
        {**page_view("/"), "id": BAD_ID, "referrer": "http://a\uff0fb.example@c/"}
    ).encode(),
    "track URL with a broken IPv6 host": json.dumps({**track("x"), "id": BAD_ID, "url": "https://[1:2/"}).encode(),
    "attributes nested hundreds deep": _event(b', "attributes": {"a": ' + b"[" * 400 + b"]" * 400 + b"}}"),
    "properties nested thousands deep": json.dumps({**track("x"), "id": BAD_ID})
    .replace('"properties": {}', '"properties": {"a": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}")
    .encode(),
    "a number beyond any float": _event(b', "attributes": {"big": 1' + b"0" * 400 + b"}}"),
}


@pytest.mark.parametrize("bad", CRAFTED.values(), ids=CRAFTED.keys())
@pytest.mark.parametrize("padding", [0, 40_000], ids=["small batch", "batch over 32 KB"])
def test_a_crafted_event_gets_a_400_naming_it_and_nothing_of_its_batch_is_stored(client, bad, padding):
    token = first_visit(client, page_view("/"))["visitor"]
    before = track("note", {"text": "x" * 1000})
    after = [track("note", {"n": n, "text": "y" * 1000}) for n in range(padding // 1000)] or [page_view("/after")]
    body = json.loads(batch(page_view("/before"), before, visitor=token))
    raw = json.dumps(body).encode().replace(b"]}", b"," + bad + b"," + json.dumps(after)[1:].encode() + b"}")
    assert len(raw) > padding
    response = post(client, raw)
    assert response.status_code == 400, response.text
    reply = response.json()
    assert reply["event"] == 2 and reply["id"] in ("", BAD_ID)
    assert reply["error"].startswith("event 2") and "\n" not in reply["error"]
    assert response.headers["access-control-allow-origin"] == SHOP
    assert set(stored_profile(client, token).page_views) == {"/"}


def test_integers_too_large_to_store_are_kept_as_the_floats_they_were_in_javascript(client):
    # JSON.stringify(1e20) is "100000000000000000000": what irasshai('set', {big: 1e20}) sends.
    body = batch(set_attributes({"big": 10**20, "small": -(10**20), "many": [1, 10**30]}), track("x", {"big": 10**21}))
    profile = stored_profile(client, first_visit(client, *json.loads(body)["events"])["visitor"])
    assert profile.attributes == {"big": 1e20, "small": -1e20, "many": [1, 1e30]}
    assert profile.recent_events[0].properties == {"big": 1e21}


def test_the_largest_64_bit_integers_are_kept_exactly(client):
    reply = first_visit(client, set_attributes({"max": 2**64 - 1, "min": -(2**63)}))
    assert stored_profile(client, reply["visitor"]).attributes == {"max": 2**64 - 1, "min": -(2**63)}


def test_an_unexpected_error_is_a_500_with_cors_headers_so_the_widget_can_read_it(tmp_path, redis_url):
    write_site(tmp_path)
    app = make_app(tmp_path, "redis", redis_url)

    async def broken(*args):
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.services.ingest.handle = broken
        response = post(client, batch(page_view("/")))
        assert response.status_code == 500 and "\n" not in response.json()["error"]
        assert response.headers["access-control-allow-origin"] == SHOP
        refused = post(client, batch(page_view("/")), origin="https://evil.example")
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


# What the widget itself sends (issue 15, item 2) is stored, not refused.


def test_a_title_cut_inside_an_emoji_by_an_older_widget_is_stored(client):
    # "a".repeat(511) + "😀" cut at 512 UTF-16 units, then JSON.stringify: a lone high surrogate.
    view = page_view("/cut", title="a" * 511 + "\ud83d")
    body = json.dumps({"visitor": None, "events": [view, set_attributes({"note": "\udc00 ok \\ud800"})]}).encode()
    assert b'a\\ud83d"' in body and b"\\udc00" in body  # as the browser sends it
    profile = stored_profile(client, first_visit_raw(client, body)["visitor"])
    assert profile.page_views["/cut"].total == 1
    assert profile.attributes == {"note": "\ufffd ok \\ud800"}  # an escaped backslash stays text


def test_a_surrogate_pair_escaped_by_json_stringify_is_kept(client):
    body = json.dumps({"events": [set_attributes({"face": "😀"})]}).encode()  # ensure_ascii: "\ud83d\ude00"
    profile = stored_profile(client, first_visit_raw(client, body)["visitor"])
    assert profile.attributes == {"face": "😀"}


def test_an_over_long_title_or_url_is_cut_not_refused(client):
    url = "/long?q=" + "x" * 5000
    reply = first_visit(client, page_view(url, title="t" * 5000, referrer="https://ref.example/" + "r" * 5000))
    profile = stored_profile(client, reply["visitor"])
    assert profile.page_views["/long"].total == 1


def first_visit_raw(client, body: bytes) -> dict:
    response = post(client, body)
    assert response.status_code == 200, response.text
    return response.json()


# One visitor's state is bounded by size as well as count (issue 15, item 4).


def stored_bytes(client, token: str) -> int:
    visitor_id = VisitorIds(SECRET).verify("shop", token)
    blob, _ = client.portal.call(client.app.state.services.store.load_visitor, "shop", visitor_id)
    return len(blob)


def test_a_visitor_cannot_grow_its_state_past_the_caps(client):
    token = first_visit(client, page_view("/"))["visitor"]
    refused = []
    for n in range(40):  # each of these used to be stored: 40 requests built a state of megabytes
        for event in (
            track("note", {"text": f"{n}" + "x" * 30_000}),
            set_attributes({f"a{n}": "y" * 30_000}),
            *(track(f"{kind}_{n}_" + "n" * 50, {"n": n}) for kind in ("one", "two", "three")),
        ):
            response = post(client, batch(page_view(f"/p{n}"), event, visitor=token))
            assert response.status_code in (200, 422), response.text
            if response.status_code == 422:
                reply = response.json()
                assert reply["event"] == 1 and reply["id"] == event["id"] and "kept" in reply["error"]
                refused.append(reply["error"].split(": ", 1)[1].split(" ")[0])
    assert refused.count("properties") == 40 and refused.count("attribute") == 40
    assert refused.count("the") == 3 * 40 - MAX_EVENT_NAMES  # new names beyond the cap
    profile = stored_profile(client, token)
    assert len(profile.event_counts) == MAX_EVENT_NAMES and profile.attributes == {}
    assert stored_bytes(client, token) < 64 * 1024


def test_a_site_with_a_launcher_says_so_in_every_reply_in_its_language(tmp_path):
    """The widget learns from the events reply that it should draw the chat launcher (docs/engagements.md)."""
    write_site(
        tmp_path, site_yaml=SITE_YAML.replace("language: ja", "language: en") + "launcher: true\nname: Fixture shop\n"
    )
    with TestClient(make_app(tmp_path)) as client:
        reply = first_visit(client, page_view("/"))
        assert reply["launcher"] == {"lang": "en", "name": "Fixture shop"}
        again = post(client, batch(track("add_to_cart"), visitor=reply["visitor"])).json()
        assert again["launcher"] == {"lang": "en", "name": "Fixture shop"}


def test_a_site_without_a_launcher_sends_none(client):
    assert "launcher" not in first_visit(client, page_view("/"))


# The endpoint is plain ASGI in front of the router (server/web/events.py, EventsPath).


class Recorder:
    """An app-wide pure ASGI middleware, as a deployment may add (request ids, metrics): it
    must see every events request and its answer, refusals included."""

    def __init__(self, app):
        self.app, self.seen = app, []

    async def __call__(self, scope, receive, send):
        async def recorded(message):
            if message["type"] == "http.response.start":
                self.seen.append((scope["method"], scope["path"], message["status"]))
            await send(message)

        await self.app(scope, receive, recorded)


def test_app_wide_middleware_sees_every_events_request_and_answer(tmp_path):
    write_site(tmp_path)
    app = make_app(tmp_path)
    recorders = []
    app.add_middleware(lambda inner: recorders.append(Recorder(inner)) or recorders[-1])
    with TestClient(app) as client:
        assert post(client, batch(page_view("/"))).status_code == 200
        assert post(client, batch(page_view("/")), origin="https://evil.example").status_code == 403
        assert post(client, b"{not json").status_code == 400
        assert client.options("/v1/sites/shop/events", headers={"origin": SHOP}).status_code == 204
        assert client.get("/v1/sites/shop/events").status_code == 405  # the router's answer, as before
    assert recorders[0].seen == [
        ("POST", "/v1/sites/shop/events", 200),
        ("POST", "/v1/sites/shop/events", 403),
        ("POST", "/v1/sites/shop/events", 400),
        ("OPTIONS", "/v1/sites/shop/events", 204),
        ("GET", "/v1/sites/shop/events", 405),
    ]


def test_under_a_root_path_the_router_answers_the_same(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path), root_path="/irasshai") as client:
        response = post(client, batch(page_view("/")))
        assert response.status_code == 200 and response.json()["acked"]
        assert response.headers["access-control-allow-origin"] == SHOP and response.headers["vary"] == "Origin"
        assert "not valid JSON" in post(client, b"{not json").json()["error"]


@pytest.mark.parametrize("path", ["/v1/sites//events", "/v1/sites/shop/x/events", "/v1/sites/shop/events/"])
def test_paths_that_are_not_a_sites_events_are_not_found(tmp_path, path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        assert client.post(path, content=batch(page_view("/")), headers={"origin": SHOP}).status_code == 404
