"""Proactive messages end to end: two real server processes on one real Redis, real Chromium.

Contract (issue 10, item 4): while an operator is online, a visitor browsing a shop page with no
conversation keeps a stream open; the operator's proactive message, sent through the operator
API of the *other* process, appears in that visitor's widget without a reload as a chat prompt
with the operator's name; replying opens a conversation with rule `proactive`, assigned to that
operator, visible in the operator API.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
import redis
from playwright.sync_api import expect

from server.store import keys
from tests.browser.engagements import STATS_SECRET, new_visitor, wait_shown, watch_console
from tests.browser.live_chat import chat_servers

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def live_visitor(client: redis.Redis, timeout: float = 10) -> str:
    """The live visitor the event path recorded (server/console/visitors.py), read from Redis."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.zrevrange(keys.live("shop"), 0, 0)
        if found:
            return found[0].decode()
        time.sleep(0.1)
    raise AssertionError("the visitor never showed up as live")


def test_an_operators_proactive_message_appears_live_and_a_reply_opens_their_conversation(browser, tmp_path, redis_url):
    client = redis.Redis.from_url(redis_url)
    client.zadd(keys.presence("shop"), {"aya@shop.example": time.time() + 600})  # Aya is online
    with chat_servers(tmp_path, redis_url) as servers, new_visitor(browser) as context:
        operator = servers.operator()  # the process the visitor's page does not talk to
        page = context.new_page()
        console = watch_console(page)
        streams = []
        page.on("request", lambda request: "/stream?" in request.url and streams.append(request))
        page.goto(servers.url("clean", "browse"))  # a page where no rule shows anything
        visitor = live_visitor(client)
        deadline = time.monotonic() + 10
        while not streams and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert streams, "no stream was opened for prompts while an operator is online"

        request = urllib.request.Request(
            f"{operator.server}/v1/sites/shop/visitors/{visitor}/message",
            data=json.dumps({"text": "サイズでお悩みでしたらお気軽にどうぞ。", "author": "Aya"}).encode(),
            method="POST",
            headers={"authorization": f"Bearer {STATS_SECRET}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["engagement"]["rule"] == "proactive"

        prompt = wait_shown(page)
        expect(prompt).to_contain_text("Aya")
        expect(prompt).to_contain_text("サイズでお悩みでしたらお気軽にどうぞ。")
        page.screenshot(path=str(tmp_path / "proactive.png"))
        prompt.get_by_role("button", name="返信する").click()
        dialog = page.locator("irasshai-chat").get_by_role("dialog")
        expect(dialog).to_be_visible()
        box = dialog.get_by_role("textbox")
        box.fill("Mサイズで迷っています")
        box.press("Enter")
        [conversation] = operator.wait_conversation()
        assert (conversation["rule"], conversation["status"], conversation["assignee"]) == (
            "proactive",
            "waiting",
            "Aya",
        )
        assert operator.visitor_texts(conversation["id"]) == ["Mサイズで迷っています"]
        page.screenshot(path=str(tmp_path / "proactive-reply.png"))
        assert not [m for m in console.messages if m.startswith(("error", "pageerror"))], console.messages
