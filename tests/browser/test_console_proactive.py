"""A proactive message sent from the console's live visitors page, in real Chromium.

Contract (issue 10, "Proactive message"): an operator signed in to the console of one server
process opens the live visitors page, picks a visitor who is browsing the shop (served by the
*other* process, on one real Redis) and sends a message through the page's Message form; the
form says it was sent, and the message appears in that visitor's widget, without a reload, as
a prompt with the operator's name. The visitors page keeps the operator online as the inbox
does (its console stream): leaving the inbox for it must not stop visitors' widgets listening.
No console errors on either page.
"""

from __future__ import annotations

import time

import pytest
import redis
from playwright.sync_api import expect

from server.store import keys
from tests.browser.console import add_operator, sign_in
from tests.browser.engagements import new_visitor, wait_shown, watch_console
from tests.browser.live_chat import chat_servers

pytestmark = [pytest.mark.browser, pytest.mark.redis]

TEXT = "サイズでお悩みでしたらお気軽にどうぞ。"


def wait_online(client: redis.Redis, email: str, timeout: float = 10) -> None:
    """Wait until the operator's presence (server/console/presence.py) runs into the future."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        until = client.zscore(keys.presence("shop"), email)
        if until is not None and until > time.time():
            return
        time.sleep(0.1)
    raise AssertionError(f"{email} is not online on the visitors page")


def test_the_operator_messages_a_live_visitor_from_the_visitors_page(browser, tmp_path, redis_url):
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name="綾", language="ja")
    with chat_servers(tmp_path, redis_url) as servers, new_visitor(browser) as visitor_context:
        operator_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        console_page = operator_context.new_page()
        console_errors = watch_console(console_page)
        sign_in(console_page, servers.other, "aya@example.com", "correct horse")
        console_page.wait_for_url(servers.other + "/console/sites/shop")
        expect(console_page.locator("#away-toggle")).to_have_text("対応可能")
        console_page.goto(servers.other + "/console/sites/shop/visitors")
        expect(console_page.locator("#visitors-empty")).to_be_visible()
        wait_online(redis.Redis.from_url(redis_url), "aya@example.com")

        shopper = visitor_context.new_page()
        shopper_errors = watch_console(shopper)
        shopper.goto(servers.url("clean", "browse"))  # a page where no rule shows anything

        row = console_page.locator("#visitors-rows tr")
        expect(row).to_have_count(1, timeout=20_000)
        row.get_by_role("button").click()
        expect(console_page.locator("#proactive-text")).to_be_focused()
        console_page.locator("#proactive-text").fill(TEXT)
        console_page.get_by_role("button", name="送信", exact=True).click()
        expect(console_page.locator("#proactive-status")).to_have_text("送信しました")
        expect(console_page.locator("#proactive-text")).to_have_value("")

        prompt = wait_shown(shopper, timeout=15_000)
        expect(prompt).to_contain_text(TEXT)
        expect(prompt).to_contain_text("綾")
        assert console_errors.messages == []
        assert not [m for m in shopper_errors.messages if m.startswith(("error", "pageerror"))], shopper_errors.messages
        operator_context.close()
