"""GET /v1/sites/{site}/stream: the visitor's live channel (SSE), on a live server.

Without a last id it starts with the current conversation (its opening status, its messages);
an operator's message arrives live; a reconnect with Last-Event-ID gets every entry after it
exactly once and in order; typing arrives without an id; a quiet stream gets heartbeats; a bad
or expired ticket is 401, a foreign origin 403, a malformed last id 400, one line each. Clients
that drop their streams leave no listener behind; HEAD gets the headers and no stream.
"""

from __future__ import annotations

import socket
import time

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from server.web import stream as stream_module
from tests.conftest import live_server
from tests.helpers import SHOP, batch, make_app, page_view, post, write_site
from tests.store.test_contract import Clock
from tests.web.sse import open_stream, operator_says, say, visitor_and_ticket

SECRET = "operator-secret-0123456789"


@pytest.fixture
def base(tmp_path):
    write_site(tmp_path)
    with live_server(make_app(tmp_path, site_secrets=f"shop={SECRET}")) as base:
        yield base


def test_history_then_live_delivery_then_resume_exactly_once_in_order(base):
    token, ticket = visitor_and_ticket(base)
    said = say(base, token, "hello", "client-0001")
    conversation = said["conversation"]["id"]
    with open_stream(base, ticket) as stream:
        history = stream.until(lambda e: e["event"] == "message" and e["data"]["author"] == "system")
        assert [e["event"] for e in history] == ["status", "message", "message"]
        assert history[0]["data"]["status"] == "waiting" and history[1]["id"] == said["message"]["id"]
        assert history[1]["data"] | {"choices": []} == said["message"] | {"choices": []}
        live = operator_says(base, SECRET, conversation, "いらっしゃいませ")
        events = stream.until(lambda e: e.get("id") == live["id"])
        assert [e["event"] for e in events] == ["status", "message"]  # open, then the operator's message
        assert events[-1]["data"]["text"] == "いらっしゃいませ" and events[-1]["data"]["author"] == "operator"
        last = events[-1]["id"]
    replies = [operator_says(base, SECRET, conversation, f"reply {n}")["id"] for n in range(3)]
    with open_stream(base, ticket, last=last) as stream:
        resumed = stream.until(lambda e: e.get("id") == replies[-1])
    assert [e["id"] for e in resumed] == replies
    assert [e["data"]["text"] for e in resumed] == ["reply 0", "reply 1", "reply 2"]


def test_typing_arrives_without_an_id_and_a_quiet_stream_gets_heartbeats(base, monkeypatch):
    monkeypatch.setattr(stream_module, "HEARTBEAT", 0.2)
    token, ticket = visitor_and_ticket(base)
    conversation = say(base, token, "hello", "client-0001")["conversation"]["id"]
    with open_stream(base, ticket) as stream:
        stream.until(lambda e: e["data"].get("author") == "system")
        beat = stream.next(comments=True)
        assert beat == {"comment": "hb"}
        typing = httpx.post(
            f"{base}/v1/sites/shop/conversations/{conversation}/typing",
            content='{"author": "Aya"}',
            headers={"authorization": f"Bearer {SECRET}"},
        )
        assert typing.status_code == 204
        event = stream.next()
        assert event == {"event": "typing", "data": {"who": "operator", "name": "Aya"}}


def test_a_visitor_without_a_conversation_gets_it_from_its_first_entry(base):
    token, ticket = visitor_and_ticket(base)
    with open_stream(base, ticket) as stream:
        said = say(base, token, "first words", "client-0001")
        events = stream.until(lambda e: e.get("id") == said["message"]["id"])
    assert [e["event"] for e in events] == ["status", "message"]


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path)
    clock = Clock(2_000_000_000.0)
    with TestClient(make_app(tmp_path, clock=clock)) as client:
        client.clock = clock
        yield client


def ticket_of(client) -> str:
    return post(client, batch(page_view("/", ts=client.clock.now))).json()["ticket"]


@pytest.mark.parametrize(
    ("ticket", "headers", "site", "status"),
    [
        ("forged", {"origin": SHOP}, "shop", 401),
        ("", {"origin": SHOP}, "shop", 401),
        ("GOOD", {"origin": "https://evil.example"}, "shop", 403),
        ("GOOD", {}, "shop", 403),
        ("GOOD", {"origin": SHOP}, "nope", 404),
        ("GOOD", {"origin": SHOP, "last-event-id": "yesterday"}, "shop", 400),
    ],
)
def test_bad_stream_requests_are_refused_with_one_line(client, ticket, headers, site, status):
    ticket = ticket_of(client) if ticket == "GOOD" else ticket
    reply = client.get(f"/v1/sites/{site}/stream", params={"ticket": ticket}, headers=headers)
    assert reply.status_code == status
    assert list(reply.json()) == ["error"] and "\n" not in reply.json()["error"]


def test_an_expired_ticket_is_refused(client):
    ticket = ticket_of(client)
    client.clock.now += 901
    reply = client.get("/v1/sites/shop/stream", params={"ticket": ticket}, headers={"origin": SHOP})
    assert reply.status_code == 401 and "expired" in reply.json()["error"]


def test_history_leaves_out_conversations_before_the_current_one(base):
    token, ticket = visitor_and_ticket(base)
    old = say(base, token, "first visit", "client-0001")["conversation"]["id"]
    resolved = httpx.post(
        f"{base}/v1/sites/shop/conversations/{old}/status",
        content='{"status": "resolved"}',
        headers={"authorization": f"Bearer {SECRET}"},
    )
    assert resolved.status_code == 200
    new = say(base, token, "second visit", "client-0002")
    with open_stream(base, ticket) as stream:
        events = stream.until(lambda e: e.get("id") == new["message"]["id"])
    assert {e["data"]["conversation"] for e in events} == {new["conversation"]["id"]}
    assert [e["event"] for e in events] == ["status", "message"]


def wait_until(condition, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so after {seconds:.0f} s: {what}")
        time.sleep(0.02)


def test_streams_dropped_by_their_clients_leave_no_listener_behind(tmp_path):
    write_site(tmp_path)
    app = make_app(tmp_path)
    wakeups = app.state.services.wakeups
    with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        _, ticket = visitor_and_ticket(base)
        request = (
            f"GET /v1/sites/shop/stream?ticket={ticket} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"accept: text/event-stream\r\norigin: {SHOP}\r\n\r\n"
        ).encode()
        for _ in range(3):  # open many, drop them all; again, to see nothing piles up
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
            for client in clients:
                client.sendall(request)
            for client in clients:
                assert client.recv(4096).startswith(b"HTTP/1.1 200")
            wait_until(lambda: wakeups.listening() == 60, "60 streams listening")
            for client in clients:
                client.close()
            wait_until(lambda: wakeups.listening() == 0, "every listener gone once its client left")


def test_head_gets_the_headers_of_a_stream_and_no_stream(base):
    _, ticket = visitor_and_ticket(base)
    reply = httpx.head(f"{base}/v1/sites/shop/stream", params={"ticket": ticket}, headers={"origin": SHOP})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert reply.headers["access-control-allow-origin"] == SHOP and reply.content == b""
