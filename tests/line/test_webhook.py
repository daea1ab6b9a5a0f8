"""LINE conversations in the inbox (server/web/line.py, server/line/receive.py, server/line/push.py).

Contract: a webhook LINE signed with the channel secret starts a conversation (channel "line",
the user's display name from LINE's profile) that a signed-in operator lists, reads and answers
through the console API; the answer reaches LINE (the local stand-in, which checks the token,
the retry key and the payload) as a push to that user, with the retry key derived from the
message. A bad or missing signature is 401 and stores nothing; an event delivered twice is
stored once; follow and unfollow are kept and noted; a sticker is noted as not shown; a reply
LINE refuses, or to a user who blocked the shop, gets a note the operator sees.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.line.push import retry_key
from server.line.signature import sign
from server.line.users import visitor_of
from server.settings import Settings
from server.store.redis import RedisStore
from tests.conftest import SECRET, free_port
from tests.console.helpers import add_operator, sign_in
from tests.line.helpers import CHANNEL_SECRET, eventually, line_app, post_webhook, stand_in

API = "/console/api/sites/shop/conversations"


@pytest.fixture
def line():
    with stand_in() as (standin, url):
        yield standin, url


@pytest.fixture
def inbox(tmp_path, line):
    standin, url = line
    app, store = line_app(tmp_path, url)
    add_operator(store, "shop", "aya@example.com", "pw", name="Aya")
    with TestClient(app, base_url="http://testserver") as client:
        sign_in(client, "aya@example.com", "pw")
        page = client.get("/console/sites/shop")
        csrf = {"x-csrf-token": page.text.split('data-csrf="', 1)[1].split('"', 1)[0]}
        yield client, csrf, standin


def conversations(client) -> list[dict]:
    return client.get(API).json()["conversations"]


def messages(client, conversation: str) -> list[dict]:
    return client.get(f"{API}/{conversation}").json()["messages"]


def test_a_signed_text_message_becomes_a_line_conversation_that_the_operator_answers(inbox):
    client, csrf, line = inbox
    user = line.add_user("山田 花子")
    answer = post_webhook(client, line, [line.text(user, "Mサイズの在庫はありますか？")])
    assert answer.status_code == 200, answer.text

    [listed] = conversations(client)
    assert (listed["channel"], listed["status"], listed["unread_by_operator"]) == ("line", "waiting", 1)
    assert listed["visitor"] == visitor_of("shop", user) and user not in listed["id"]  # LINE's user id stays hidden
    named = eventually(lambda: conversations(client)[0]["name"], "the display name from LINE's profile")
    assert named == "山田 花子"
    assert [(m["author"], m["text"]) for m in messages(client, listed["id"])] == [
        ("visitor", "Mサイズの在庫はありますか？")
    ]

    said = client.post(f"{API}/{listed['id']}/messages", json={"text": "はい、ございます。"}, headers=csrf)
    assert said.status_code == 200, said.text
    reply = said.json()["message"]
    [push] = eventually(lambda: line.pushes, "the reply pushed to LINE")
    assert push["to"] == user
    assert push["messages"] == [{"type": "text", "text": "はい、ございます。"}]
    assert push["retry_key"] == retry_key("shop", listed["id"], reply["id"])
    assert line.refused == []  # the stand-in accepted the token, the key and the payload as they were

    # The user writes again: the same conversation, now open and the operator's.
    assert post_webhook(client, line, [line.text(user, "ありがとうございます")]).status_code == 200
    [again] = conversations(client)
    assert (again["id"], again["status"], again["assignee"]) == (listed["id"], "open", "aya@example.com")


def test_a_bad_or_missing_signature_is_refused_and_stores_nothing(inbox):
    client, _, line = inbox
    user = line.add_user("Ken")
    event = line.text(user, "hello")
    assert post_webhook(client, line, [event], signature="bm90IHRoZSBzaWduYXR1cmU=").status_code == 401
    assert post_webhook(client, line, [event], signature="").status_code == 401
    body = line.body([event])
    forged = client.post("/v1/sites/shop/line/webhook", content=body + b" ", headers={"x-line-signature": "x"})
    assert forged.status_code == 401
    assert "x-line-signature" in forged.json()["error"]
    assert conversations(client) == []
    # Nothing was claimed either: LINE's own delivery of that event is then stored.
    assert post_webhook(client, line, [event]).status_code == 200
    assert len(conversations(client)) == 1


def test_an_event_delivered_twice_is_stored_once(inbox):
    client, _, line = inbox
    user = line.add_user("Ken")
    event = line.text(user, "hello")
    assert post_webhook(client, line, [event]).status_code == 200
    event["deliveryContext"] = {"isRedelivery": True}
    assert post_webhook(client, line, [event]).status_code == 200
    [conversation] = conversations(client)
    assert [m["text"] for m in messages(client, conversation["id"])] == ["hello"]
    assert conversation["unread_by_operator"] == 1


def test_follow_unfollow_and_a_sticker_are_noted_and_a_reply_to_a_blocked_user_is_not_sent(inbox):
    client, csrf, line = inbox
    user = line.add_user("Mika")
    assert post_webhook(client, line, [line.event(user, "follow")]).status_code == 200
    assert conversations(client) == []  # a follow alone is no conversation
    sticker = line.event(user, "message", message={"id": "1", "type": "sticker", "packageId": "1", "stickerId": "2"})
    assert post_webhook(client, line, [sticker]).status_code == 200
    [conversation] = conversations(client)
    said = [(m["author"], m["text"]) for m in messages(client, conversation["id"])]
    assert said == [
        ("system", "LINEで友だち追加されました。"),
        ("visitor", "［スタンプ］"),
        (
            "system",
            "LINEでスタンプが送られました。この受信箱では表示できないため、LINE公式アカウントのチャットでご確認ください。",
        ),
    ]
    panel = client.get(f"/console/api/sites/shop/visitors/{conversation['visitor']}").json()
    assert panel["line"]["follows"] == "1"

    assert post_webhook(client, line, [line.event(user, "unfollow")]).status_code == 200
    assert client.get(f"/console/api/sites/shop/visitors/{conversation['visitor']}").json()["line"]["follows"] == "0"
    client.post(f"{API}/{conversation['id']}/messages", json={"text": "またのご利用を"}, headers=csrf)
    notes = eventually(
        lambda: [m["text"] for m in messages(client, conversation["id"]) if "届けられません" in m["text"]],
        "the note that the reply was not delivered",
    )
    assert notes == ["LINEに届けられませんでした（they have blocked the shop's LINE account）：「またのご利用を」"]
    assert line.pushes == []


def test_a_reply_line_refuses_gets_a_note_the_operator_sees(inbox):
    client, csrf, line = inbox
    user = line.add_user("Ken")
    post_webhook(client, line, [line.text(user, "hello")])
    [conversation] = conversations(client)
    line.fail_pushes.append((400, False))
    client.post(f"{API}/{conversation['id']}/messages", json={"text": "Hi Ken"}, headers=csrf)
    [note] = eventually(
        lambda: [m for m in messages(client, conversation["id"]) if m["author"] == "system"], "the failure note"
    )
    assert note["text"] == "LINEに届けられませんでした（400 failing on purpose with 400）：「Hi Ken」"
    assert line.pushes == []


def test_a_site_without_line_or_without_a_secret_refuses_webhooks(tmp_path, line):
    standin, url = line
    app, _ = line_app(tmp_path, url, line_secrets="")
    with TestClient(app) as client:
        assert post_webhook(client, standin, []).status_code == 401
        assert post_webhook(client, standin, [], site="nowhere").status_code == 404


def test_the_body_is_bounded_and_must_be_a_webhook(inbox):
    client, _, line = inbox
    huge = client.post(WEBHOOK_URL, content=b"x" * (256 * 1024 + 1), headers={"x-line-signature": "x"})
    assert huge.status_code == 413
    assert post_webhook(client, line, []).status_code == 200  # the console's "Verify" sends no events
    bad = client.post(WEBHOOK_URL, content=b"[1]", headers={"x-line-signature": sign(CHANNEL_SECRET, b"[1]")})
    assert bad.status_code == 400 and "not a LINE webhook" in bad.json()["error"]


WEBHOOK_URL = "/v1/sites/shop/line/webhook"


def test_an_unreachable_store_is_a_503_so_that_line_delivers_again(tmp_path, line):
    standin, url = line
    line_app(tmp_path, url)  # writes the site
    config, _ = load_config(tmp_path)
    dead = RedisStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    settings = Settings(secret_key=SECRET, rules_dir=str(tmp_path), line_secrets=f"shop={CHANNEL_SECRET}")
    app = create_app(settings, config=config, store=dead, reload=False)
    with TestClient(app) as client:
        answer = post_webhook(client, standin, [standin.text(standin.add_user("Ken"), "hello")])
    assert answer.status_code == 503
    assert answer.json()["error"].startswith("LINE events not stored: the store is unavailable")
    assert answer.headers["retry-after"] == "5"
