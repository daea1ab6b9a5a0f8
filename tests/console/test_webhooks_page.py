"""The console's Webhooks page: admins only, endpoints with their state, deliveries and failures,
resend (CSRF like every console POST) and enabling an endpoint a receiver disabled with 410.

Over HTTP in-process, with the server's own worker sending to a real local receiver.
"""

from __future__ import annotations

import base64
import re

import pytest
from starlette.testclient import TestClient

from server.webhooks import events
from tests.console.helpers import add_operator, csrf_of, sign_in
from tests.helpers import SHOP, make_app, write_site
from tests.webhooks.receiver import Receiver, serving

WHSEC = "whsec_" + base64.b64encode(b"k" * 32).decode()
PASSWORD = "correct horse battery staple"


def site_yaml(url: str) -> str:
    return f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
webhooks:
  crm:
    url: {url}
    events: [conversation.*, coupon.redeemed]
    allow_private: true
  slack:
    url: https://hooks.example.net/irasshai
    events: [message.created]
"""


@pytest.fixture
def receiver():
    return Receiver()


@pytest.fixture
def console(tmp_path, receiver):
    with serving(receiver) as url:
        write_site(tmp_path, "shop", site_yaml(url))
        app = make_app(tmp_path, webhook_secrets=f"shop/crm={WHSEC}", webhook_backoff=3600.0)
        with TestClient(app) as client:
            store = app.state.services.store
            add_operator(store, "shop", "admin@example.com", PASSWORD, role="admin", language="en")
            add_operator(store, "shop", "op@example.com", PASSWORD)
            yield client, app


def emit(client, app, type: str = events.CONVERSATION_STARTED) -> None:
    data = events.conversation("shop", "v1.1", "v1", "waiting", "web")
    client.portal.call(app.state.services.webhooks.emit, "shop", type, data)


def test_only_admins_see_the_page_and_its_link(console):
    client, _ = console
    assert client.get("/console/sites/shop/webhooks", follow_redirects=False).headers["location"] == "/console/login"
    sign_in(client, "op@example.com", PASSWORD)
    assert client.get("/console/sites/shop/webhooks").status_code == 403
    assert "/webhooks" not in client.get("/console/sites/shop").text
    client.cookies.clear()
    sign_in(client, "admin@example.com", PASSWORD)
    assert 'href="/console/sites/shop/webhooks"' in client.get("/console/sites/shop").text
    page = client.get("/console/sites/shop/webhooks")
    assert page.status_code == 200
    assert "hooks.example.net/irasshai" in page.text and "IRASSHAI_WEBHOOK_SECRETS" in page.text  # slack: no secret


def test_deliveries_and_failures_are_listed_and_one_is_resent(console, receiver):
    client, app = console
    receiver.answers = [500]
    emit(client, app)
    receiver.wait_for(1)
    sign_in(client, "admin@example.com", PASSWORD)
    page = _wait_for(client, "HTTP 500")
    failures = _table(page.text, "webhook-failures")
    assert "conversation.started" in failures and "HTTP 500" in failures  # pending, next try in an hour
    delivery = re.search(r'data-delivery="([^"]+)"', failures).group(1)
    refused = client.post("/console/sites/shop/webhooks/resend", data={"delivery": delivery})
    assert refused.status_code == 403 and len(receiver.requests) == 1
    done = client.post(
        "/console/sites/shop/webhooks/resend",
        data={"delivery": delivery, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/webhooks?done=resent")
    first, second = receiver.wait_for(2)
    assert first[0]["webhook-id"] == second[0]["webhook-id"]  # the same event, once more
    page = _wait_for(client, "webhook-failures-title")
    assert _table(page.text, "webhook-failures") == ""
    assert "conversation.started" in _table(page.text, "webhook-deliveries")


def test_a_410_shows_the_endpoint_disabled_until_an_admin_enables_it(console, receiver):
    client, app = console
    receiver.answers = [410]
    emit(client, app)
    receiver.wait_for(1)
    sign_in(client, "admin@example.com", PASSWORD)
    page = _wait_for(client, "410 Gone")
    endpoints = _table(page.text, "webhook-endpoints")
    assert 'data-endpoint="crm"' in endpoints and "Disabled" in endpoints
    emit(client, app, events.CONVERSATION_RESOLVED)  # not queued for a disabled endpoint
    enabled = client.post(
        "/console/sites/shop/webhooks/enable",
        data={"endpoint": "crm", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert enabled.status_code == 303
    emit(client, app, events.CONVERSATION_WAITING)
    types = [events_of(body) for _, body in receiver.wait_for(2)]
    assert types == ["conversation.started", "conversation.waiting"]
    assert "Disabled" not in _table(client.get("/console/sites/shop/webhooks").text, "webhook-endpoints")


def events_of(body: bytes) -> str:
    import json

    return json.loads(body)["type"]


def _table(html: str, table_id: str) -> str:
    found = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', html, re.S)
    return found.group(1) if found else ""


def _wait_for(client, text: str, tries: int = 200):
    """The page, once it shows `text` (the worker records an attempt just after the receiver answers)."""
    import time

    for _ in range(tries):
        page = client.get("/console/sites/shop/webhooks")
        if text in page.text:
            return page
        time.sleep(0.05)
    raise AssertionError(f"the page never showed {text!r}")
