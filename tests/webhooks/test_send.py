"""Sending one delivery: Standard Webhooks headers, a timeout, and public addresses only, checked
again at send time on the address the connection really uses.

A name that passed the check of site.yaml but resolves to a private address when sending (DNS
rebinding) reaches nothing: here "localhost", an endpoint the checker would have refused, stands
for such a name, built directly as the checker never would.
"""

from __future__ import annotations

import base64

import pytest
from standardwebhooks.webhooks import Webhook

from server.webhooks import signing
from server.webhooks.config import Endpoint
from server.webhooks.send import Sender
from server.webhooks.worker import MAX_DELAY, RETRY_FOR, delay
from tests.webhooks.receiver import Receiver, serving

pytestmark = pytest.mark.anyio
KEY = b"s" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def endpoint(url: str, allow_private: bool) -> Endpoint:
    return Endpoint("crm", url, frozenset({"coupon.claimed"}), allow_private)


async def test_a_private_address_is_refused_when_sending_even_if_the_name_looked_public():
    receiver = Receiver()
    with serving(receiver) as url:
        sender = Sender(timeout=5.0)
        body = b'{"type":"coupon.claimed"}'
        port = url.split(":")[2].split("/")[0]
        by_name = await sender.send(endpoint(f"http://localhost:{port}/hooks", False), [], body)
        by_address = await sender.send(endpoint(url, False), [], body)
        allowed = await sender.send(endpoint(url, True), signing.headers((KEY,), "msg_1", 1, body), body)
        await sender.close()
    assert by_name.status == 0 and by_name.error.startswith("refused: localhost resolves to 127.0.0.1 (loopback)")
    assert by_address.error.startswith("refused: 127.0.0.1 is loopback; only public addresses are allowed")
    assert (allowed.status, allowed.error) == (204, "")
    assert len(receiver.requests) == 1  # only the endpoint that allows private addresses reached it


async def test_an_error_answer_is_one_line_with_the_status():
    receiver = Receiver(answers=[503])
    with serving(receiver) as url:
        sender = Sender(timeout=5.0)
        answer = await sender.send(endpoint(url, True), [], b"{}")
        closed = await sender.send(endpoint("http://127.0.0.1:9/hooks", True), [], b"{}")
        await sender.close()
    assert (answer.status, answer.error) == (503, 'HTTP 503: {"status": 503}')
    assert closed.status == 0 and closed.error.startswith("could not connect") and "\n" not in closed.error


def test_the_signature_is_the_standard_webhooks_one_for_every_key():
    body = b'{"type":"coupon.claimed","timestamp":"2026-11-22T03:04:05.678Z","data":{}}'
    import time

    now = int(time.time())
    other = b"t" * 40
    found = dict((k.decode(), v.decode()) for k, v in signing.headers((KEY, other), "msg_abc", now, body))
    assert found["webhook-id"] == "msg_abc" and found["webhook-timestamp"] == str(now)
    assert len(found["webhook-signature"].split(" ")) == 2
    assert Webhook(SECRET).verify(body, found) == {
        "type": "coupon.claimed",
        "timestamp": "2026-11-22T03:04:05.678Z",
        "data": {},
    }
    assert Webhook(base64.b64encode(other).decode()).verify(body, found)["type"] == "coupon.claimed"
    assert "." not in signing.message_id() and signing.message_id() != signing.message_id()


def test_retries_back_off_exponentially_with_jitter_for_about_three_days():
    waits = []
    elapsed = 0.0
    while True:
        wait = delay(5.0, len(waits) + 1)
        if elapsed + wait > RETRY_FOR:
            break
        waits.append(wait)
        elapsed += wait
    assert 0.8 * 5 <= waits[0] <= 1.2 * 5
    assert all(later > earlier for earlier, later in zip(waits[:8], waits[1:9], strict=True))
    assert max(waits) <= 1.2 * MAX_DELAY
    assert 9 <= len(waits) <= 13 and 2 * 86400 < elapsed <= RETRY_FOR  # the last retry a day or less before the end
    assert delay(5.0, 1, retry_after=120) >= 120  # a receiver's Retry-After is honoured
