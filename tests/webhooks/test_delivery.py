"""Webhooks end to end, in-process: the server's own worker sends to a real local receiver.

Every event type reaches the receiver, signed so that the Standard Webhooks library accepts it
(with the old and the new secret while one is rotated); a receiver that fails twice gets the event
exactly once more, with the same webhook-id; a 410 disables the endpoint until an admin enables
it; a receiver that does not answer never holds up the event endpoint or the chat.
"""

from __future__ import annotations

import base64
import json

from starlette.testclient import TestClient

from server.webhooks import events
from tests.helpers import SHOP, batch, event_id, make_app, page_view, post, track, write_site
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
goals:
  purchase: {{event: purchase, value: total}}
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
            bought = post(client, batch(track("purchase", {"total": 4800}), visitor=token))
            assert bought.status_code == 200
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
    converted = by_type["goal.converted"]
    assert [(c["visitor"], c["goal"], c["rule"], c["value"], c["held_out"]) for c in converted] == [
        (visitor, "purchase", "pricing-coupon", 4800.0, False)
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


def delivered(client, app, count: int = 1) -> list:
    """The site's deliveries once `count` of them are finished (delivered or failed for good)."""
    queue = app.state.services.store.webhooks
    for _ in range(400):
        found = client.portal.call(queue.recent, "shop", 100)
        if sum(d.status != "pending" for d in found) >= count:
            return found
        __import__("time").sleep(0.025)
    raise AssertionError(f"deliveries still pending: {found}")


def test_a_receiver_that_fails_twice_gets_the_event_exactly_once_more(tmp_path):
    receiver = Receiver(answers=[500, 503])
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[conversation.started]", webhook_backoff=0.05)
        with TestClient(app) as client:
            token = post(client, batch(page_view("/"))).json()["visitor"]
            assert chat(client, {"visitor": token, "do": {"type": "open"}}).status_code == 200
            [delivery] = delivered(client, app)
            requests = receiver.wait_for(3)
    assert len(receiver.requests) == 3  # two failures, one success, and nothing after it
    assert len({headers["webhook-id"] for headers, _ in requests}) == 1  # one event, retried
    assert len({body for _, body in requests}) == 1
    assert (delivery.status, delivery.attempts, delivery.last_status, delivery.last_error) == ("delivered", 3, 204, "")
    assert [p["type"] for p in receiver.events(NEW_SECRET)] == ["conversation.started"] * 3


def test_a_410_disables_the_endpoint_and_later_events_are_not_sent(tmp_path):
    receiver = Receiver(answers=[410])
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[conversation.started, message.created]")
        with TestClient(app) as client:
            token = post(client, batch(page_view("/"))).json()["visitor"]
            chat(client, {"visitor": token, "do": {"type": "open"}})
            [gone] = delivered(client, app)
            said = chat(client, {"visitor": token, "do": {"type": "say", "id": "client-0001", "text": "hi"}})
            assert said.status_code == 200
            found = client.portal.call(app.state.services.store.webhooks.recent, "shop", 100)
            disabled = client.portal.call(app.state.services.store.webhooks.disabled, "shop")
    assert (gone.status, gone.last_status) == ("failed", 410) and "disabled" in gone.last_error
    assert [d.type for d in found] == ["conversation.started"]  # the message was not queued
    assert list(disabled) == ["receiver"]
    assert len(receiver.requests) == 1


def test_a_slow_receiver_does_not_hold_up_events_or_chat(tmp_path):
    receiver = Receiver(hold=True)
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[coupon.claimed, message.created]")
        with TestClient(app) as client:
            first = post(client, batch(page_view("/pricing")))
            assert first.json()["show"]["code"] == "SPRING10"
            assert receiver.holding.wait(10)  # the worker is inside the receiver, which does not answer
            # While it holds the delivery, the event endpoint and the chat answer as usual.
            for n in range(3):
                assert post(client, batch(page_view(f"/page-{n}"), visitor=first.json()["visitor"])).status_code == 200
            said = chat(
                client, {"visitor": first.json()["visitor"], "do": {"type": "say", "id": "client-0001", "text": "hi"}}
            )
            assert said.status_code == 200
            waiting = client.portal.call(app.state.services.store.webhooks.recent, "shop", 10)
            assert [d.status for d in waiting] == ["pending"] * 3  # the code, the visitor's message, the note
            assert len(receiver.requests) <= 3 and receiver.holding.is_set()
            receiver.release()
            found = delivered(client, app, 3)
    assert sorted(d.type for d in found) == ["coupon.claimed", "message.created", "message.created"]
    assert {d.status for d in found} == {"delivered"}


def test_a_receiver_that_never_answers_is_given_up_on_after_the_timeout(tmp_path):
    receiver = Receiver(hold=True)
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[conversation.started]", webhook_timeout=0.5, webhook_backoff=3600.0)
        with TestClient(app) as client:
            token = post(client, batch(page_view("/"))).json()["visitor"]
            chat(client, {"visitor": token, "do": {"type": "open"}})
            queue = app.state.services.store.webhooks
            for _ in range(400):
                [delivery] = client.portal.call(queue.recent, "shop", 10)
                if delivery.attempts:
                    break
                __import__("time").sleep(0.025)
    assert (delivery.status, delivery.last_error, delivery.last_status) == ("pending", "no answer within 0.5 s", 0)
    assert delivery.next_at - delivery.last_at >= 3600 * 0.8  # retried later, per the backoff


def test_nothing_is_queued_for_types_no_endpoint_wants(tmp_path):
    receiver = Receiver()
    with serving(receiver) as url:
        app = app_for(tmp_path, url, types="[coupon.redeemed]")
        with TestClient(app) as client:
            token = post(client, batch(page_view("/pricing"))).json()["visitor"]
            assert post(client, batch(feedback("pricing-coupon", "shown"), visitor=token)).status_code == 200
            chat(client, {"visitor": token, "do": {"type": "say", "id": "client-0001", "text": "hi"}})
            found = client.portal.call(app.state.services.store.webhooks.recent, "shop", 100)
    assert found == [] and receiver.requests == []


def test_an_endpoint_without_a_secret_gets_nothing_and_says_why(tmp_path):
    receiver = Receiver()
    with serving(receiver) as url:
        write_site(tmp_path, "shop", site_yaml(url, "[conversation.started]"), **{"rules.yaml": RULES})
        app = make_app(tmp_path, webhook_backoff=3600.0)
        with TestClient(app) as client:
            token = post(client, batch(page_view("/"))).json()["visitor"]
            chat(client, {"visitor": token, "do": {"type": "open"}})
            queue = app.state.services.store.webhooks
            for _ in range(400):
                [delivery] = client.portal.call(queue.recent, "shop", 10)
                if delivery.attempts:
                    break
                __import__("time").sleep(0.025)
    assert delivery.status == "pending" and receiver.requests == []
    assert delivery.last_error == "no secret for shop/receiver in IRASSHAI_WEBHOOK_SECRETS; nothing was sent"
