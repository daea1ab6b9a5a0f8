"""POST /v1/sites/{site}/visitors/{visitor}/message over HTTP (in-process): proactive prompts.

With the site's secret, an operator's prompt to a live visitor is answered with the engagement
sent; every bad input gets its 4xx and one line (no secret 401, unknown visitor 404, inside the
gap 409, empty or too long text 400); the events reply says `listen` while an operator is online.
"""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, batch, make_app, page_view, post, write_site

SECRET = "operator-secret-0123456789"


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path, site_yaml=f"origins: [{SHOP}]\ntimezone: Asia/Tokyo\nlanguage: ja\n")
    app = make_app(tmp_path, site_secrets=f"shop={SECRET}")
    with TestClient(app) as client:
        yield client


def visitor_id(client) -> str:
    reply = post(client, batch(page_view("/")))
    assert reply.status_code == 200
    return client.app.state.services.ingest.ids.verify("shop", reply.json()["visitor"])


def prompt(client, visitor, body, secret=SECRET):
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/v1/sites/shop/visitors/{visitor}/message", content=data, headers=headers)


def test_a_prompt_to_a_live_visitor_is_sent_once_and_then_the_gap_refuses(client):
    visitor = visitor_id(client)
    reply = prompt(client, visitor, {"text": "いらっしゃいませ", "author": "Aya"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["engagement"]["agent"] == {"name": "Aya"}
    again = prompt(client, visitor, {"text": "まだいますか", "author": "Aya"})
    assert again.status_code == 409 and "engagement_gap" in again.json()["error"]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": "", "author": "Aya"}, 400), ({"text": "x" * 2001, "author": "Aya"}, 400), ("{", 400), ({"a": 1}, 400)],
)
def test_each_bad_prompt_gets_its_4xx_and_one_line(client, body, status):
    reply = prompt(client, visitor_id(client), body)
    assert reply.status_code == status and "\n" not in reply.json()["error"]


def test_unknown_visitor_and_missing_secret(client):
    assert prompt(client, "nobody", {"text": "hi", "author": "Aya"}).status_code == 404
    assert prompt(client, visitor_id(client), {"text": "hi", "author": "Aya"}, secret="").status_code == 401


def test_the_events_reply_says_listen_while_an_operator_is_online(client):
    assert "listen" not in post(client, batch(page_view("/"))).json()
    services = client.app.state.services
    client.portal.call(services.presence.touch, "shop", "aya@shop.example")
    services.ingest.listening._known.clear()
    assert post(client, batch(page_view("/a"))).json()["listen"] is True
