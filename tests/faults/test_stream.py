"""A visitor's live chat stream across a Redis outage: it ends when Redis goes (the browser's
EventSource reconnects by itself), a new one and chat posts are refused with 503 meanwhile (never
a 500), and once Redis is back a
reconnection with the last event id resumes, and a reply posted after it arrives live (through
the process's wake-up subscription, which must have come back by itself: the stream's own poll is
20 s, longer than this test waits for anything).
"""

from __future__ import annotations

import json

import httpx2 as httpx
import pytest

from tests.faults.conftest import OPERATOR_SECRET
from tests.helpers import SHOP
from tests.web.sse import open_stream, operator_says, say, visitor_and_ticket

pytestmark = pytest.mark.redis


def _post(base: str, path: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/sites/shop/{path}",
        content=json.dumps(body),
        headers={"origin": SHOP, "content-type": "text/plain;charset=UTF-8", **headers},
        timeout=10,
    )


@pytest.mark.parametrize("fault", ["kill", "shutdown"])
def test_a_stream_ends_with_redis_and_resumes_after_it_is_back(fault, server_on_faulty_redis, redis_back):
    base = server_on_faulty_redis
    token, ticket = visitor_and_ticket(base)
    conversation = say(base, token, "hello", "client-hello-0001")["conversation"]["id"]
    with open_stream(base, ticket) as stream:
        before = operator_says(base, OPERATOR_SECRET, conversation, "before the outage")
        last = stream.until(lambda e: e.get("id") == before["id"])[-1]["id"]
        redis_back.kill() if fault == "kill" else redis_back.shutdown()
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.until(lambda e: False)

    # Redis gone: the widget's message and the operator's reply are refused with 503, not 500.
    message = {"visitor": token, "do": {"type": "say", "id": "client-during-01", "text": "anyone?"}}
    refused = _post(base, "chat", message)
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert refused.headers["access-control-allow-origin"] == SHOP
    reply = {"text": "during", "author": "Aya"}
    refused = _post(base, f"conversations/{conversation}/messages", reply, authorization=f"Bearer {OPERATOR_SECRET}")
    assert refused.status_code == 503 and refused.headers["retry-after"]

    # A stream opened now (no last id: it must read the conversation first) is refused the same way.
    opened = httpx.get(f"{base}/v1/sites/shop/stream", params={"ticket": ticket}, headers={"origin": SHOP}, timeout=10)
    assert opened.status_code == 503 and opened.headers["retry-after"]
    assert opened.headers["access-control-allow-origin"] == SHOP

    redis_back.start()
    # The widget's message is sent again, as its outbox does, and stored once.
    assert _post(base, "chat", message).status_code == 200
    with open_stream(base, ticket, last=last) as stream:
        resumed = stream.until(lambda e: e["data"].get("text") == "anyone?")
        after = operator_says(base, OPERATOR_SECRET, conversation, "after the outage")
        live = stream.until(lambda e: e.get("id") == after["id"])
    assert [e["data"].get("text") for e in resumed + live if e.get("event") == "message"] == [
        "anyone?",
        "after the outage",
    ]
