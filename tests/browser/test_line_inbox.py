"""A LINE conversation in the console's inbox, in Chromium, against a real server process on Redis and
the local LINE stand-in (tests/line/standin.py).

Contract: a LINE user's message (a webhook LINE signed) appears in the inbox without a reload,
marked with a LINE badge and the user's display name from LINE's profile, in the list and in
the conversation; the visitor panel says they are a LINE friend; the operator's reply typed in
the inbox reaches LINE as a push to that user. The page has no console errors. The screenshot
(1280×800) is the one docs/line.md shows.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.console import add_operator, sign_in
from tests.browser.engagements import watch_console
from tests.conftest import serve_process
from tests.helpers import write_site
from tests.line.helpers import LINE_SITE, WEBHOOK, eventually, line_settings, stand_in

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_a_line_conversation_shows_its_badge_and_name_and_is_answered(browser, tmp_path, redis_url, artifacts):
    write_site(tmp_path, "shop", LINE_SITE)
    add_operator(redis_url, "shop", "aya@example.com", "correct horse", name="綾", language="ja")
    with stand_in() as (line, api), serve_process(tmp_path, redis_url, **line_settings(api)) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        page = context.new_page()
        errors = watch_console(page)
        sign_in(page, server, "aya@example.com", "correct horse")
        page.wait_for_url(server + "/console/sites/shop")
        expect(page.locator("#away-toggle")).to_have_text("対応可能")

        user = line.add_user("山田 花子")
        status, _ = line.deliver(
            server + WEBHOOK, [line.event(user, "follow"), line.text(user, "配送はいつ頃になりますか？")]
        )
        assert status == 200
        item = page.locator('[data-group="waiting"] .inbox-item')
        expect(item).to_have_count(1)
        expect(item.locator(".channel-badge")).to_have_text("LINE")
        expect(item.locator(".inbox-item-name")).to_have_text("LINE山田 花子")  # the name LINE's profile gave
        item.click()
        expect(page.locator("#conversation-title")).to_have_text("山田 花子")
        expect(page.locator("#conversation-channel")).to_be_visible()
        expect(page.locator("#messages .message-visitor .message-meta")).to_contain_text("山田 花子")
        expect(page.locator("#messages .message-system .message-text")).to_have_text("LINEで友だち追加されました。")
        panel = page.locator("#visitor-panel")
        expect(panel.locator(".panel-name")).to_have_text("山田 花子")
        expect(panel.locator(".panel-facts")).to_contain_text("友だち")

        reply = page.locator("#reply-text")
        expect(reply).to_have_attribute("placeholder", "LINEで返信（友だちに届きます）")
        reply.fill("ご注文の翌日に発送いたします。")
        reply.press("Enter")
        expect(page.locator("#messages .message-operator .message-text")).to_have_text(
            ["ご注文の翌日に発送いたします。"]
        )
        [push] = eventually(lambda: line.pushes, "the reply pushed to LINE")
        assert (push["to"], push["messages"]) == (user, [{"type": "text", "text": "ご注文の翌日に発送いたします。"}])
        expect(page.locator("#conversation-status")).to_have_text("対応中")
        page.screenshot(path=artifacts / "console-line-ja-laptop.png")
        assert errors.messages == []
        context.close()
