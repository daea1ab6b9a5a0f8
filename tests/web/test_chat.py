"""POST /v1/sites/{site}/chat and the operator API, over HTTP (in-process).

The widget opens a conversation and gets it with a ticket; a message is stored once per client
id; the operator API lists, reads, answers and changes conversations with the site's secret;
the events reply carries a stream ticket. Every bad input gets its 4xx and one line of JSON.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, batch, make_app, page_view, post, write_site

SECRET = "operator-secret-0123456789"
SITE_YAML = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
language: ja
"""


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path, site_yaml=SITE_YAML)  # no business hours: conversations wait for a person
    app = make_app(tmp_path, site_secrets=f"shop={SECRET}", chat_messages_per_minute=5)
    with TestClient(app) as client:
        yield client


def visitor_token(client) -> str:
    reply = post(client, batch(page_view("/")))
    assert reply.status_code == 200
    assert reply.json()["ticket"]
    return reply.json()["visitor"]


def chat(client, body, site="shop", origin=SHOP):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"content-type": "text/plain;charset=UTF-8"}
    if origin:
        headers["origin"] = origin
    return client.post(f"/v1/sites/{site}/chat", content=data, headers=headers)


def operator(client, method, path, body=None, secret=SECRET):
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    url = f"/v1/sites/shop/conversations{path}"
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, content=body if isinstance(body, (bytes, str)) else json.dumps(body or {}), headers=headers)


def say(client, token, text="hello", client_id="client-0001"):
    return chat(client, {"visitor": token, "do": {"type": "say", "id": client_id, "text": text}})


def test_open_returns_the_conversation_and_a_ticket(client):
    token = visitor_token(client)
    reply = chat(client, {"visitor": token, "do": {"type": "open", "rule": "welcome"}})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == SHOP
    body = reply.json()
    assert body["conversation"]["status"] == "waiting" and body["conversation"]["rule"] == "welcome"
    assert body["conversation"]["id"].endswith(".1") and body["ticket"]


def test_a_message_is_stored_once_and_an_operator_answers_it(client):
    token = visitor_token(client)
    first = say(client, token)
    again = say(client, token)
    assert first.status_code == again.status_code == 200
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    conversation = first.json()["conversation"]["id"]
    listed = operator(client, "GET", "?status=waiting,open").json()["conversations"]
    assert [c["id"] for c in listed] == [conversation] and listed[0]["unread_by_operator"] == 1
    answer = operator(client, "POST", f"/{conversation}/messages", {"text": "いらっしゃいませ", "author": "Aya"})
    assert answer.status_code == 200 and answer.json()["message"]["author"] == "operator"
    detail = operator(client, "GET", f"/{conversation}").json()
    assert detail["conversation"]["status"] == "open" and detail["conversation"]["assignee"] == "Aya"
    assert [m["author"] for m in detail["messages"]] == ["visitor", "system", "operator"]
    status = operator(client, "POST", f"/{conversation}/status", {"status": "resolved"})
    assert status.json()["conversation"]["status"] == "resolved"
    assert operator(client, "GET", "?status=resolved").json()["conversations"][0]["id"] == conversation
    assert operator(client, "POST", f"/{conversation}/read").status_code == 200
    assert operator(client, "POST", f"/{conversation}/typing", {"author": "Aya"}).status_code == 204


def test_choose_typing_and_read_actions(client):
    token = visitor_token(client)
    said = say(client, token).json()["message"]
    handoff = chat(client, {"visitor": token, "do": {"type": "choose", "id": "client-0002", "choice": "handoff"}})
    assert handoff.status_code == 200 and handoff.json()["message"]["text"] == "スタッフに相談する"
    assert chat(client, {"visitor": token, "do": {"type": "typing"}}).status_code == 204
    assert chat(client, {"visitor": token, "do": {"type": "read", "up_to": said["id"]}}).status_code == 204


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ({"visitor": "x"}, 400),
        ({"visitor": "TOKEN", "do": {"type": "shout"}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "say", "id": "client-0001", "text": ""}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "say", "id": "client-0001", "text": " \n "}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "say", "id": "client-0001", "text": "x" * 2001}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "say", "id": "bad id!", "text": "hi"}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "say", "id": "client-0001", "text": 5}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "choose", "id": "client-0001", "choice": "nope"}}, 400),
        ({"visitor": "TOKEN", "do": {"type": "read", "up_to": "yesterday"}}, 400),
        ({"visitor": "forged.token", "do": {"type": "typing"}}, 401),
        ("x" * 20000, 413),
        # Found by tests/fuzz (deep profile): both were 500s (RecursionError in msgspec, matching
        # the action's type against the actions, or skipping an unknown field).
        ('{"visitor": "x", "do": {"type": ' + "[" * 3000 + "]" * 3000 + "}}", 400),
        ('{"z": ' + "[" * 3000 + "]" * 3000 + ', "visitor": "x", "do": {"type": "typing"}}', 400),
    ],
)
def test_each_bad_widget_request_gets_its_4xx_and_one_line(client, body, status):
    token = visitor_token(client)
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace("TOKEN", token))
    reply = chat(client, body)
    assert reply.status_code == status, reply.text
    assert list(reply.json()) == ["error"] and "\n" not in reply.json()["error"]


def test_unknown_site_and_wrong_origin_are_refused(client):
    token = visitor_token(client)
    assert chat(client, {"visitor": token, "do": {"type": "typing"}}, site="nope").status_code == 404
    assert chat(client, {"visitor": token, "do": {"type": "typing"}}, origin="https://evil.example").status_code == 403
    assert chat(client, {"visitor": token, "do": {"type": "typing"}}, origin=None).status_code == 403


def test_too_many_messages_in_a_minute_get_429_with_retry_after(client):
    token = visitor_token(client)
    for n in range(5):
        assert say(client, token, client_id=f"client-000{n}").status_code == 200
    limited = say(client, token, client_id="client-0099")
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert limited.headers["access-control-allow-origin"] == SHOP


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "?status=asleep", None, 400),
        ("GET", "/nobody.1", None, 404),
        ("GET", "/not-an-id", None, 404),
        ("POST", "/nobody.1/messages", {"text": "hi"}, 404),
        ("POST", "/CONVERSATION/messages", {"text": ""}, 400),
        ("POST", "/CONVERSATION/messages", {"text": "x" * 2001}, 400),
        ("POST", "/CONVERSATION/messages", b"{", 400),
        ("POST", "/CONVERSATION/messages", {"txt": "hi"}, 400),
        ("POST", "/CONVERSATION/status", {"status": "bot"}, 400),
        ("POST", "/CONVERSATION/status", {"status": 3}, 400),
        ("POST", "/CONVERSATION/read", {"up_to": "soon"}, 400),
        ("POST", "/CONVERSATION/messages", "x" * 20000, 413),
    ],
)
def test_each_bad_operator_request_gets_its_4xx_and_one_line(client, method, path, body, status):
    conversation = say(client, visitor_token(client)).json()["conversation"]["id"]
    reply = operator(client, method, path.replace("CONVERSATION", conversation), body)
    assert reply.status_code == status, reply.text
    assert list(reply.json()) == ["error"] and "\n" not in reply.json()["error"]


def test_the_operator_api_needs_the_sites_secret(client):
    assert operator(client, "GET", "", secret=None).status_code == 401
    assert operator(client, "GET", "", secret="wrong-secret-0123456789").status_code == 401
    assert operator(client, "POST", "/x.1/messages", {"text": "hi"}, secret=None).status_code == 401
    assert client.get("/v1/sites/nope/conversations", headers={"authorization": f"Bearer {SECRET}"}).status_code == 401


def test_a_resolved_conversation_takes_no_operator_message(client):
    conversation = say(client, visitor_token(client)).json()["conversation"]["id"]
    operator(client, "POST", f"/{conversation}/status", {"status": "resolved"})
    reply = operator(client, "POST", f"/{conversation}/messages", {"text": "hello?"})
    assert reply.status_code == 409 and "resolved" in reply.json()["error"]
