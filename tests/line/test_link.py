"""LINE's account link (server/line/link.py, POST /v1/sites/{site}/line/link, the accountLink event).

Contract: a follow on a site with `link: true` is answered (LINE's reply API, on the stand-in)
with the shop's link page carrying a fresh link token. The link page's request, from an allowed
origin with the web visitor's token and the proof of the signed-in customer, gets LINE's
account-link URL with a nonce; when LINE (the stand-in's dialog) sends the accountLink event
with that nonce, the LINE visitor is linked to that web visitor and customer, both ways, and the
conversation notes it. A nonce works once; a failed link and an unknown nonce are noted. The
request is refused without the proof, with a wrong one, from another origin, with a bad
visitor token, and on a site without LINE.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from starlette.testclient import TestClient

from server.line.users import visitor_of
from server.verified_identity import identity_hash
from tests.helpers import SHOP, batch, page_view
from tests.line.helpers import IDENTITY_SECRET, eventually, line_app, post_webhook, stand_in

LINK = "/v1/sites/shop/line/link"


@pytest.fixture
def line():
    with stand_in() as (standin, url):
        yield standin, url


@pytest.fixture
def client(tmp_path, line):
    _, url = line
    app, _ = line_app(tmp_path, url, site_secrets=f"shop={'s' * 20}")
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def web_visitor(client) -> str:
    headers = {"origin": SHOP, "content-type": "text/plain;charset=UTF-8"}
    answer = client.post("/v1/sites/shop/events", content=batch(page_view("/line-link")), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["visitor"]


def ask(client, body: dict, origin: str = SHOP):
    return client.post(LINK, content=json.dumps(body), headers={"origin": origin, "content-type": "text/plain"})


def conversation_texts(client, visitor: str) -> list[str]:
    secret = {"authorization": f"Bearer {'s' * 20}"}
    return [
        m["text"] for m in client.get(f"/v1/sites/shop/conversations/{visitor}.1", headers=secret).json()["messages"]
    ]


def test_a_follow_is_answered_with_the_link_page_and_a_fresh_link_token(client, line):
    standin, _ = line
    user = standin.add_user("Ken")
    assert post_webhook(client, standin, [standin.event(user, "follow")]).status_code == 200
    [reply] = eventually(lambda: standin.replies, "the invitation answering the follow")
    text = reply["messages"][0]["text"]
    url = text[text.index(SHOP) :]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith(f"{SHOP}/line-link?")
    assert query["openExternalBrowser"] == ["1"]
    assert standin.link_tokens[query["linkToken"][0]]["user"] == user


def test_the_link_page_gets_a_nonce_and_the_account_link_event_links_both_ways(client, line):
    standin, _ = line
    user = standin.add_user("Ken")
    post_webhook(client, standin, [standin.text(user, "hello")])
    token = web_visitor(client)
    link_token = "L" * 20
    answer = ask(
        client,
        {
            "visitor": token,
            "link_token": link_token,
            "customer": "C-1001",
            "hash": identity_hash(IDENTITY_SECRET, "C-1001"),
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == SHOP
    url = urllib.parse.urlsplit(answer.json()["url"])
    query = urllib.parse.parse_qs(url.query)
    assert url.path == "/dialog/bot/accountLink" and query["linkToken"] == [link_token]
    nonce = query["nonce"][0]
    assert len(nonce) >= 32

    # LINE confirms the link (its event carries the nonce): linked, both ways, and noted.
    event = standin.event(user, "accountLink", link={"result": "ok", "nonce": nonce})
    assert post_webhook(client, standin, [event]).status_code == 200
    line_visitor = visitor_of("shop", user)
    assert "LINEアカウントがショップの会員（C-1001）と連携されました。" in conversation_texts(client, line_visitor)
    # A second event with the same nonce (a replay under another event id) links nothing more.
    replay = standin.event(user, "accountLink", link={"result": "ok", "nonce": nonce})
    post_webhook(client, standin, [replay])
    assert conversation_texts(client, line_visitor)[-1].endswith("（連携の確認コードが不明か、期限切れです）。")


def test_a_failed_link_is_noted(client, line):
    standin, _ = line
    user = standin.add_user("Ken")
    post_webhook(client, standin, [standin.text(user, "hello")])
    post_webhook(client, standin, [standin.event(user, "accountLink", link={"result": "failed", "nonce": "n" * 20})])
    assert conversation_texts(client, visitor_of("shop", user))[-1] == (
        "LINEアカウントの連携はできませんでした（LINEが失敗を通知しました）。"
    )


def test_the_link_request_is_refused_without_proof_from_elsewhere_or_for_a_stranger(client):
    token = web_visitor(client)
    good = {"visitor": token, "link_token": "L" * 20, "customer": "C-1001"}
    proof = identity_hash(IDENTITY_SECRET, "C-1001")
    assert ask(client, good).status_code == 403  # no proof: not signed in
    assert ask(client, {**good, "hash": identity_hash(IDENTITY_SECRET, "C-2002")}).status_code == 403
    assert ask(client, {**good, "hash": proof}, origin="https://evil.example").status_code == 403
    assert ask(client, {**good, "hash": proof, "visitor": token + "x"}).status_code == 401
    assert ask(client, {**good, "hash": proof, "link_token": "../x"}).status_code == 400
    refused = ask(client, {**good, "hash": proof, "extra": 1})
    assert refused.status_code == 400 and "extra" in refused.json()["error"]
    assert client.post("/v1/sites/nowhere/line/link", content=b"{}", headers={"origin": SHOP}).status_code == 404
