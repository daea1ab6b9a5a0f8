"""LINE on two server processes sharing one real Redis (server/line/receive.py, server/line/push.py).

Contract: LINE may deliver an event again, and the two deliveries may reach different processes,
even at the same moment: the event is stored once. (Two processes handling one webhook's events
at the same moment may store them in either order; one process keeps their order.) A reply written
on either process reaches LINE (the stand-in) once. A reply is queued in the store, not in the
process: one that could not be pushed before its process stopped (LINE down, or LINE took it but
its answer was lost) is pushed by the next process, and LINE still sends it once (the same
X-Line-Retry-Key: LINE answers the repeat 409), with no "not delivered" note.
"""

from __future__ import annotations

import concurrent.futures
import json
import urllib.request

import pytest
import redis

from server.store import keys
from tests.conftest import free_port, live_server, serve_process
from tests.helpers import write_site
from tests.line.helpers import (
    ACCESS_TOKEN,
    CHANNEL_SECRET,
    LINE_SITE,
    WEBHOOK,
    eventually,
    line_settings,
    stand_in,
)
from tests.line.standin import LineStandIn

pytestmark = pytest.mark.redis

OPERATOR_SECRET = "operator-api-secret-0001"


def call(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", f"Bearer {OPERATOR_SECRET}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_a_repeated_event_is_stored_once_across_two_processes(tmp_path, redis_url):
    write_site(tmp_path, "shop", LINE_SITE)
    with stand_in() as (line, api):
        settings = {**line_settings(api), "IRASSHAI_SITE_SECRETS": f"shop={OPERATOR_SECRET}"}
        with (
            serve_process(tmp_path, redis_url, **settings) as one,
            serve_process(tmp_path, redis_url, **settings) as two,
        ):
            user = line.add_user("山田 花子")
            first = [line.event(user, "follow"), line.text(user, "在庫はありますか？")]
            # The same event to both processes at once, then again to each (LINE's redelivery).
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(lambda base: line.deliver(base + WEBHOOK, first), [one, two]))
            assert [status for status, _ in answers] == [200, 200]
            assert line.deliver(one + WEBHOOK, first)[0] == 200
            assert line.deliver(two + WEBHOOK, first)[0] == 200
            second = line.text(user, "Mサイズです")
            assert line.deliver(two + WEBHOOK, [second])[0] == 200

            [conversation] = call(one + "/v1/sites/shop/conversations")["conversations"]
            read = call(f"{two}/v1/sites/shop/conversations/{conversation['id']}")
            # Each event once; the two processes may have stored the first two in either order.
            said = sorted((m["author"], m["text"]) for m in read["messages"])
            assert said == [
                ("system", "LINEで友だち追加されました。"),
                ("visitor", "Mサイズです"),
                ("visitor", "在庫はありますか？"),
            ]
            assert read["conversation"]["unread_by_operator"] == 2

            reply = call(
                f"{one}/v1/sites/shop/conversations/{conversation['id']}/messages",
                {"text": "ございます", "author": "Aya"},
            )
            [push] = eventually(lambda: line.pushes, "the reply pushed to LINE")
            assert (push["to"], push["messages"][0]["text"]) == (user, "ございます")
            assert reply["message"]["id"]
            named = eventually(
                lambda: call(two + "/v1/sites/shop/conversations")["conversations"][0]["name"], "the display name"
            )
            assert named == "山田 花子"


def pushes_in_store(redis_url: str) -> list[dict[str, str]]:
    """The site's queued LINE pushes as Redis holds them (status, attempts, …)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = client.keys(keys.queue_delivery("shop", "*", keys.LINE_PUSHES))
        return [client.hgetall(key) for key in found]
    finally:
        client.close()


def tried(redis_url: str) -> dict[str, str] | None:
    """The one queued push once it has been tried and is waiting for its next try."""
    found = pushes_in_store(redis_url)
    return found[0] if len(found) == 1 and int(found[0]["attempts"]) >= 1 and found[0]["status"] == "pending" else None


def delivered(redis_url: str) -> dict[str, str] | None:
    found = pushes_in_store(redis_url)
    return found[0] if len(found) == 1 and found[0]["status"] == "delivered" else None


def start_conversation(line: LineStandIn, base: str, user: str) -> str:
    assert line.deliver(base + WEBHOOK, [line.text(user, "在庫はありますか？")])[0] == 200
    [conversation] = call(base + "/v1/sites/shop/conversations")["conversations"]
    return conversation["id"]


def said(base: str, conversation: str) -> list[tuple[str, str]]:
    return [(m["author"], m["text"]) for m in call(f"{base}/v1/sites/shop/conversations/{conversation}")["messages"]]


def test_a_reply_queued_while_line_is_down_is_pushed_once_by_the_next_process(tmp_path, redis_url):
    write_site(tmp_path, "shop", LINE_SITE)
    line = LineStandIn(token=ACCESS_TOKEN, secret=CHANNEL_SECRET)
    port = free_port()
    api = f"http://127.0.0.1:{port}"  # where LINE answers, once it is up again
    settings = {**line_settings(api), "IRASSHAI_SITE_SECRETS": f"shop={OPERATOR_SECRET}"}
    user = line.add_user("山田 花子")
    with serve_process(tmp_path, redis_url, **settings) as one:  # LINE is down: nothing answers at `api`
        conversation = start_conversation(line, one, user)
        call(f"{one}/v1/sites/shop/conversations/{conversation}/messages", {"text": "ございます", "author": "Aya"})
        eventually(lambda: tried(redis_url), "the first process's first try, which finds LINE down")
    # The first process stopped while the reply was waiting for its next try.
    assert tried(redis_url) is not None
    with live_server(line.app, port=port), serve_process(tmp_path, redis_url, **settings) as two:
        eventually(lambda: delivered(redis_url), "the reply pushed by the second process", seconds=60)
        assert [(p["to"], p["messages"][0]["text"]) for p in line.pushes] == [(user, "ございます")]
        assert line.refused == []
        assert said(two, conversation) == [("visitor", "在庫はありますか？"), ("operator", "ございます")]


def test_a_push_line_took_before_its_process_stopped_is_not_sent_again_by_the_next(tmp_path, redis_url):
    write_site(tmp_path, "shop", LINE_SITE)
    with stand_in() as (line, api):
        settings = {**line_settings(api), "IRASSHAI_SITE_SECRETS": f"shop={OPERATOR_SECRET}"}
        user = line.add_user("山田 花子")
        line.hold_pushes = True  # LINE takes the push, but its answer never reaches the first process
        try:
            with serve_process(tmp_path, redis_url, **settings) as one:
                conversation = start_conversation(line, one, user)
                call(
                    f"{one}/v1/sites/shop/conversations/{conversation}/messages",
                    {"text": "ございます", "author": "Aya"},
                )
                eventually(lambda: line.pushes, "the first process's push, taken by LINE")
            # Stopped while waiting for LINE's answer: the push is still to be done, as far as the store knows.
            assert [p["status"] for p in pushes_in_store(redis_url)] == ["pending"]
        finally:
            line.release_pushes()
        with serve_process(tmp_path, redis_url, **settings) as two:
            eventually(lambda: delivered(redis_url), "the reply's retry by the second process", seconds=60)
            assert [(p["to"], p["messages"][0]["text"]) for p in line.pushes] == [(user, "ございます")]  # once
            assert [status for _, status, _ in line.refused] == [409]  # the same retry key: already accepted
            assert said(two, conversation) == [("visitor", "在庫はありますか？"), ("operator", "ございます")]
