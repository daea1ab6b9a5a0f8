"""The inbox's JSON API (server/console/web/inbox_api.py): /console/api/sites/{site}/conversations….

Contract: a signed-in operator of the site lists the conversations (newest activity first, with
who they are and the site's operators), reads one with its messages and the visitor's read mark,
replies in their own name (the conversation becomes open and theirs), takes, assigns to another
operator of the site, resolves, reopens, marks read, says they are typing, and sets themselves
away. Every POST without the CSRF token is 403; another site's conversation is 404; another
site is 403; no session is 401; bad input is a 4xx with one line under "error".
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.console.helpers import add_operator, console_app, sign_in
from tests.helpers import SHOP, batch, page_view

API = "/console/api/sites/shop-a/conversations"


def visitor_says(client: TestClient, site: str, text: str, now: float) -> str:
    """A visitor of `site` writes `text`; the id of their conversation."""
    headers = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}
    events = client.post(f"/v1/sites/{site}/events", content=batch(page_view("/", ts=now)), headers=headers)
    assert events.status_code == 200, events.text
    body = {"visitor": events.json()["visitor"], "do": {"type": "say", "id": "client-0001", "text": text}}
    said = client.post(f"/v1/sites/{site}/chat", content=json.dumps(body), headers=headers)
    assert said.status_code == 200, said.text
    return said.json()["conversation"]["id"]


@pytest.fixture
def inbox(tmp_path):
    app, store, clock = console_app(tmp_path)
    add_operator(store, "shop-a", "aya@example.com", "pw", name="Aya")
    add_operator(store, "shop-a", "ken@example.com", "pw", name="Ken")
    add_operator(store, "shop-b", "bo@example.com", "pw", name="Bo")
    with TestClient(app, base_url="http://testserver") as client:
        sign_in(client, "aya@example.com", "pw")
        page = client.get("/console/sites/shop-a")
        csrf = page.text.split('data-csrf="', 1)[1].split('"', 1)[0]
        conversation = visitor_says(client, "shop-a", "<b>hello</b>", clock.now)
        yield client, {"x-csrf-token": csrf}, conversation, clock


def test_list_and_read_a_conversation(inbox):
    client, _, conversation, _ = inbox
    listed = client.get(API).json()
    assert listed["me"] == "aya@example.com"
    assert [c["id"] for c in listed["conversations"]] == [conversation]
    assert listed["conversations"][0]["unread_by_operator"] == 1
    assert [o["email"] for o in listed["operators"]] == ["aya@example.com", "ken@example.com"]
    one = client.get(f"{API}/{conversation}").json()
    assert [m["text"] for m in one["messages"] if m["author"] == "visitor"] == ["<b>hello</b>"]
    assert one["visitor_read"] == ""


def test_reply_take_assign_resolve_reopen_read_typing_away(inbox):
    client, csrf, conversation, _ = inbox
    said = client.post(f"{API}/{conversation}/messages", json={"text": "Hi!"}, headers=csrf)
    assert said.status_code == 200 and said.json()["message"]["name"] == "Aya"
    record = client.get(f"{API}/{conversation}").json()["conversation"]
    assert (record["status"], record["assignee"], record["unread_by_operator"]) == ("open", "aya@example.com", 0)

    def act(action: str, **extra) -> dict:
        answer = client.post(f"{API}/{conversation}/actions", json={"action": action, **extra}, headers=csrf)
        assert answer.status_code == 200, answer.text
        return answer.json()["conversation"]

    assert act("assign", assignee="ken@example.com")["assignee"] == "ken@example.com"
    assert act("take")["assignee"] == "aya@example.com"
    assert act("resolve")["status"] == "resolved"
    reopened = act("reopen")
    assert (reopened["status"], reopened["assignee"]) == ("open", "aya@example.com")
    assert client.post(f"{API}/{conversation}/read", json={}, headers=csrf).status_code == 200
    assert client.post(f"{API}/{conversation}/typing", json={}, headers=csrf).status_code == 204
    away = client.post("/console/api/sites/shop-a/away", json={"away": True}, headers=csrf)
    assert away.status_code == 200 and away.json() == {"away": True}


@pytest.mark.parametrize(
    "path",
    ["/messages", "/actions", "/read", "/typing"],
)
def test_a_post_without_the_csrf_token_is_refused(inbox, path):
    client, _, conversation, _ = inbox
    answer = client.post(f"{API}/{conversation}{path}", json={"text": "x", "action": "take"})
    assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    assert client.post("/console/api/sites/shop-a/away", json={"away": True}).status_code == 403


def test_another_sites_conversation_is_not_found_and_another_site_is_forbidden(inbox):
    client, csrf, _, clock = inbox
    theirs = visitor_says(client, "shop-b", "psst", clock.now)
    # shop-b's conversation asked for under shop-a, where Aya works: not found.
    assert client.get(f"{API}/{theirs}").status_code == 404
    assert client.post(f"{API}/{theirs}/messages", json={"text": "x"}, headers=csrf).status_code == 404
    refused = client.get(f"/console/api/sites/shop-b/conversations/{theirs}")
    assert refused.status_code == 403 and "not on site 'shop-b'" in refused.json()["error"]


def test_without_a_session_the_api_answers_401(tmp_path):
    app, _, _ = console_app(tmp_path)
    answer = TestClient(app, base_url="http://testserver").get(API)
    assert answer.status_code == 401 and "sign in" in answer.json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/messages", {"text": "   "}, 400, "empty message"),
        ("/messages", {"text": "x", "author": "Someone"}, 400, "operator's name"),
        ("/messages", {"txt": "x"}, 400, "bad request body"),
        ("/actions", {"action": "explode"}, 400, "action must be one of"),
        ("/actions", {"action": "assign", "assignee": "bo@example.com"}, 400, "not an operator of site"),
        ("/read", {"up_to": "nope"}, 400, "up_to must be"),
    ],
)
def test_bad_input_is_one_line_and_a_4xx(inbox, path, body, status, says):
    client, csrf, conversation, _ = inbox
    answer = client.post(f"{API}/{conversation}{path}", json=body, headers=csrf)
    assert answer.status_code == status and says in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
    assert client.post(f"{API}/nope/read", json={}, headers=csrf).status_code == 404
