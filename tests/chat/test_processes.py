"""A conversation's record across two server processes on one real redis-server.

Contract: every change to a conversation's record lands, whichever process makes it and however
the two interleave. Visitor messages sent through both processes at once each count as unread
for the operators, and an operator's assignment made through either process meanwhile stays.
"""

from __future__ import annotations

import concurrent.futures
import json

import httpx2 as httpx
import pytest

from tests.conftest import serve_process
from tests.helpers import write_site
from tests.web.sse import say, visitor_and_ticket

pytestmark = pytest.mark.redis
SECRET = "operator-secret-0123456789"
MESSAGES = 40


def operator(base: str, path: str, body: dict | None = None) -> dict:
    url = f"{base}/v1/sites/shop/conversations{path}"
    headers = {"authorization": f"Bearer {SECRET}"}
    if body is None:
        reply = httpx.get(url, headers=headers)
    else:
        reply = httpx.post(url, content=json.dumps(body), headers=headers)
    assert reply.status_code in (200, 204), reply.text
    return reply.json() if reply.status_code == 200 else {}


def test_changes_made_at_once_through_two_processes_all_land(tmp_path, redis_url):
    write_site(tmp_path)  # no business hours: conversations wait for a person
    settings = {"IRASSHAI_SITE_SECRETS": f"shop={SECRET}", "IRASSHAI_CHAT_MESSAGES_PER_MINUTE": "1000"}
    with serve_process(tmp_path, redis_url, **settings) as one, serve_process(tmp_path, redis_url, **settings) as two:
        token, _ = visitor_and_ticket(one)
        conversation = say(one, token, "hello", "client-0000")["conversation"]["id"]

        def change(n: int) -> None:
            base = (one, two)[n % 2]
            if n == MESSAGES // 2:  # an operator takes the conversation while the visitor writes
                operator(base, f"/{conversation}/status", {"status": "waiting", "assignee": "aya@example.com"})
            say(base, token, f"message {n}", f"client-{n + 1:04d}")

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(change, range(MESSAGES)))
        for base in (one, two):
            record = operator(base, f"/{conversation}")["conversation"]
            assert (record["unread_by_operator"], record["assignee"]) == (MESSAGES + 1, "aya@example.com")
