"""LINE on two server processes sharing one real Redis (server/line/receive.py, server/store claims).

Contract: LINE may deliver an event again, and the two deliveries may reach different processes,
even at the same moment: the event is stored once. (Two processes handling one webhook's events
at the same moment may store them in either order; one process keeps their order.) A reply written on either process reaches
LINE (the stand-in) once, from the process that stored it.
"""

from __future__ import annotations

import concurrent.futures
import json
import urllib.request

import pytest

from tests.conftest import serve_process
from tests.helpers import write_site
from tests.line.helpers import LINE_SITE, WEBHOOK, eventually, line_settings, stand_in

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
