"""GET /console/sites/{site}/stream (server/console/web/ops_stream.py): the operators' live channel.

Contract: signed in and on the site, the stream starts at the feed's end and says `ready` (with
the feed's position as its id); then every change arrives with its feed id (a visitor's message,
the conversation's record), and a visitor's typing without an id, naming the visitor. A
reconnect with Last-Event-ID gets exactly the entries after it, in order. While open the
operator is online (presence touched); the away switch makes them away; closing the stream
leaves. Without a session 401, another site 403, a malformed last id 400.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest

from server.console.presence import Presence
from server.console.web import ops_stream
from tests.conftest import live_server
from tests.console.helpers import add_operator, console_app
from tests.helpers import SHOP, batch, page_view
from tests.web.sse import Stream

STREAM = "/console/sites/shop-a/stream"


def online(store, clock) -> list[str]:
    return asyncio.run(Presence(store, clock).online("shop-a"))


def wait_until(predicate, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


@pytest.fixture
def served(tmp_path, monkeypatch):
    # A closed connection is noticed for sure at the next write: heartbeats make that soon.
    monkeypatch.setattr(ops_stream, "HEARTBEAT", 0.2)
    app, store, clock = console_app(tmp_path)
    add_operator(store, "shop-a", "aya@example.com", "pw", name="Aya")
    with live_server(app) as base, httpx.Client(base_url=base, timeout=httpx.Timeout(10.0)) as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        signed = client.post("/console/login", data={"email": "aya@example.com", "password": "pw", "csrf": token})
        assert signed.status_code in (200, 303), signed.text
        csrf = client.get("/console/sites/shop-a").text.split('data-csrf="', 1)[1].split('"', 1)[0]
        yield client, store, clock, csrf


class Visitor:
    def __init__(self, client: httpx.Client, now: float):
        headers = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}
        self.client, self.headers = client, headers
        reply = client.post("/v1/sites/shop-a/events", content=batch(page_view("/", ts=now)), headers=headers)
        assert reply.status_code == 200, reply.text
        self.token = reply.json()["visitor"]
        self.sent = 0

    def do(self, action: dict) -> dict:
        body = json.dumps({"visitor": self.token, "do": action})
        reply = self.client.post("/v1/sites/shop-a/chat", content=body, headers=self.headers)
        assert reply.status_code in (200, 204), reply.text
        return reply.json() if reply.status_code == 200 else {}

    def say(self, text: str) -> dict:
        self.sent += 1
        return self.do({"type": "say", "id": f"client-{self.sent:04d}", "text": text})


@contextmanager
def open_stream(client: httpx.Client, last: str = "", query: str = "") -> Iterator[httpx.Response]:
    """The stream on a connection of its own, closed on exit (as a closed tab closes it)."""
    headers = {"accept": "text/event-stream", **({"last-event-id": last} if last else {})}
    with (
        httpx.Client(base_url=client.base_url, cookies=client.cookies, timeout=httpx.Timeout(10.0)) as own,
        own.stream("GET", STREAM + query, headers=headers) as response,
    ):
        yield response


def test_changes_typing_presence_and_resume(served):
    client, store, clock, csrf = served
    visitor = Visitor(client, clock.now)
    with open_stream(client) as response:
        assert response.status_code == 200
        stream = Stream(response)
        ready = stream.next()  # heartbeats are comments: next() skips them
        assert ready["event"] == "ready" and ready["data"] == {"me": "aya@example.com", "away": False}
        assert online(store, clock) == ["aya@example.com"]
        said = visitor.say("hello")
        events = stream.until(lambda e: e["event"] == "message" and e["data"]["author"] == "visitor")
        assert all(re.match(r"^\d+-\d+$", e["id"]) for e in events)
        assert "conversation" in [e["event"] for e in events]
        assert events[-1]["data"]["text"] == "hello" and events[-1]["data"]["entry"] == said["message"]["id"]
        mark = events[-1]["id"]
        visitor.do({"type": "typing"})
        typing = stream.until(lambda e: e["event"] == "typing")[-1]
        assert "id" not in typing and typing["data"]["who"] == "visitor" and typing["data"]["visitor"]
        later = [visitor.say(f"more {n}")["message"]["id"] for n in range(2)]
        stream.until(lambda e: e.get("data", {}).get("entry") == later[-1])
        away = client.post("/console/api/sites/shop-a/away", json={"away": True}, headers={"x-csrf-token": csrf})
        assert away.status_code == 200
        assert stream.until(lambda e: e["event"] == "away")[-1]["data"] == {"away": True}
        assert online(store, clock) == []
    wait_until(lambda: online(store, clock) == [], "the closed stream left")

    with open_stream(client, last=mark) as response:
        stream = Stream(response)
        resumed = stream.until(lambda e: e["event"] == "ready")
    texts = [e["data"]["text"] for e in resumed if e["event"] == "message" and e["data"]["author"] == "visitor"]
    assert texts == ["more 0", "more 1"]  # after the mark, each once, in order
    assert resumed[-1]["id"] == resumed[-2]["id"]  # `ready` carries the feed's position
    ids = [e["id"] for e in resumed[:-1]]
    assert (
        ids[0] != mark and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))) and len(set(ids)) == len(ids)
    )


def test_a_stream_opened_away_keeps_the_operator_away_and_leaving_ends_presence(served):
    client, store, clock, _ = served
    with open_stream(client, query="?away=1") as response:
        stream = Stream(response)  # held: a Stream dropped closes its response
        assert stream.next()["data"]["away"] is True
        assert online(store, clock) == []
        clock.now += 1  # so that the leave (until = now) differs from the away touch (until = now - 1)
    left = lambda: asyncio.run(store.read_presence("shop-a")) == {"aya@example.com": clock.now}  # noqa: E731
    wait_until(left, "the away stream left")  # before the next stream's touch, which it would undo
    with open_stream(client) as response:
        stream = Stream(response)
        stream.next()
        assert online(store, clock) == ["aya@example.com"]
    wait_until(lambda: online(store, clock) == [], "the closed stream left")


def test_refusals(served, tmp_path):
    client, *_ = served
    with open_stream(client, last="bogus") as response:
        assert response.status_code == 400 and "not an event id" in response.read().decode()
    with client.stream("GET", "/console/sites/shop-b/stream") as response:
        assert response.status_code == 403
    anonymous = httpx.get(str(client.base_url) + STREAM)
    assert anonymous.status_code == 401 and "sign in" in anonymous.json()["error"]


def test_a_reconnect_with_the_position_of_an_empty_feed_is_served_from_its_start(served):
    """`ready` on an empty feed has the id "0", which the browser sends back when it reconnects
    (a network drop, or a stopping server's `bye`): it is a position, not a mistake."""
    client, _, clock, _ = served
    with open_stream(client) as response:
        ready = Stream(response).next()
    assert ready["event"] == "ready" and ready["id"] == "0"
    visitor = Visitor(client, clock.now)
    visitor.say("while away")
    with open_stream(client, last="0") as response:
        assert response.status_code == 200
        resumed = Stream(response).until(lambda e: e["event"] == "ready")
    assert [e["data"]["text"] for e in resumed if e["event"] == "message" and e["data"]["author"] == "visitor"] == [
        "while away"
    ]
