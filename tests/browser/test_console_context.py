"""The console's context for operators, in real Chromium on a real redis-server.

Contract: a signed-in operator on the live visitors page sees a visitor who browses the shop in
another browser context appear in the list without reloading (visitors.js polls the JSON);
picking them opens the proactive message form and the visitor panel. The visitor panel fills
in on `console:conversation` (the inbox's event) with the visitor's current page and earlier
conversation, as text, and the rules decided for them: a held-out decision (the rule's control
group) is labelled as such, never as shown. In the reply box, "/sh" offers the canned reply "shipping"; ArrowDown
and Enter put its text in, Escape closes the list. No console errors under the console's CSP.
Screenshots at 1280×800 (tests/artifacts/console-visitors.png, console-visitor-panel.png,
console-replies.png) are the ones docs/console.md describes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from playwright.sync_api import expect

from server.app import create_app
from server.chat.service import ChatService
from server.config import load_config
from server.console.accounts import Accounts
from server.settings import Settings
from server.store.redis import RedisStore
from server.visitor import Engagement, decode, encode
from tests.browser.console import sign_in
from tests.browser.engagements import watch_console
from tests.browser.shop import shop_app
from tests.conftest import SECRET, free_port, live_server
from tests.helpers import write_site

pytestmark = pytest.mark.browser

REPLIES = """\
replies:
  - code: greeting
    text:
      ja: いらっしゃいませ。
      en: Welcome!
  - code: shipping
    text:
      ja: 10,000円以上で送料無料です。
      en: Shipping is free from ¥10,000.
"""


def run(coroutine_factory, redis_url):
    async def with_store():
        store = RedisStore(redis_url)
        try:
            return await coroutine_factory(store)
        finally:
            await store.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, with_store()).result()


def test_live_visitors_panel_and_replies(browser, tmp_path, redis_url, artifacts):
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    write_site(
        tmp_path, site_yaml=f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\nlanguage: ja\n", **{"replies.yaml": REPLIES}
    )
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    server = create_app(
        Settings(secret_key=SECRET, rules_dir=str(tmp_path)), config=config, store=RedisStore(redis_url)
    )
    run(
        lambda store: Accounts(store).add(
            "shop", "hanako@example.com", password="correct horse", name="佐藤 花子", language="ja"
        ),
        redis_url,
    )

    with live_server(shop_app(server_url), port=shop_port), live_server(server, port=server_port):
        operator = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
        page = operator.new_page()
        console = watch_console(page)
        sign_in(page, server_url, "hanako@example.com", "correct horse")
        expect(page.locator("#operator-name")).to_have_text("佐藤 花子")
        page.goto(server_url + "/console/sites/shop/visitors")
        expect(page.locator("#visitors-empty")).to_be_visible()

        visitor_context = browser.new_context(locale="ja-JP")
        shopper = visitor_context.new_page()
        shopper.goto(shop_url + "/products/linen-shirt")

        # Without a reload, the visitor shows up in the operator's list.
        row = page.locator("#visitors-rows tr")
        expect(row).to_have_count(1, timeout=20_000)
        expect(row.locator(".page-path")).to_have_text("/products/linen-shirt")
        expect(row.locator(".page-title")).to_have_text("Tracking fixture")
        expect(page.locator("#visitors-empty")).to_be_hidden()
        visitor = row.get_attribute("data-visitor")

        row.get_by_role("button").click()
        expect(page.locator("#proactive-form")).to_be_visible()
        expect(page.locator("#proactive-text")).to_be_focused()
        expect(row).to_have_attribute("aria-selected", "true")
        panel = page.locator("#visitor-panel")
        expect(panel.locator(".panel-facts")).to_contain_text("/products/linen-shirt")
        page.locator("#proactive-text").fill("何かお探しですか？サイズのご相談も承ります。")
        page.screenshot(path=artifacts / "console-visitors.png")

        # The inbox's event fills the panel for a conversation; the earlier conversation is listed,
        # and the rules decided for the visitor: one shown, one held out (its control group).
        async def start_chat(store):
            chat = ChatService(store)
            await chat.say(config.sites["shop"], visitor, "client-msg-0001", "送料はいくらですか？")
            blob, version = await store.load_visitor("shop", visitor)
            state = decode(blob)
            state.engagements += [
                Engagement(state.last_seen, "size-help", state.sessions, feedback=2),
                Engagement(state.last_seen, "cart-coupon", state.sessions, held_out=True, converted=True),
            ]
            assert await store.save_visitor("shop", visitor, encode(state), version, 3600)

        run(start_chat, redis_url)
        page.evaluate(
            """([visitor]) => document.dispatchEvent(new CustomEvent("console:conversation",
                 {detail: {site: "shop", conversation: visitor + ".1", visitor}}))""",
            [visitor],
        )
        expect(panel.locator(".panel-section").filter(has_text="過去の会話")).to_contain_text("待機中")
        expect(panel.locator(".panel-name")).to_have_text("匿名の訪問者")
        decisions = panel.locator(".panel-section").filter(has_text="判定したメッセージ").locator("li")
        held_out = decisions.filter(has_text="cart-coupon").locator(".item-detail")
        expect(held_out).to_contain_text("対照群（表示せず）")
        expect(held_out).to_contain_text("成果あり")
        expect(held_out).not_to_contain_text("表示 ·")
        expect(decisions.filter(has_text="size-help").locator(".item-detail")).to_contain_text("表示 · クリック")
        assert panel.evaluate("e => e.innerHTML.includes('<script')") is False
        panel.screenshot(path=artifacts / "console-visitor-panel.png")

        # Canned replies in a reply box (the inbox's #reply-text), keyboard only.
        page.evaluate(
            """() => {
                 const box = document.createElement("textarea");
                 box.id = "reply-text";
                 document.querySelector(".visitor-side").prepend(box);
               }"""
        )
        page.add_script_tag(url="/console/static/replies.js", type="module")
        reply = page.locator("#reply-text")
        reply.click()
        reply.press_sequentially("ご質問ありがとうございます。 /")
        options = page.locator("#reply-suggestions [role=option]")
        expect(options).to_have_count(2)
        reply.press_sequentially("sh")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("/shipping")
        page.screenshot(path=artifacts / "console-replies.png")
        reply.press("Enter")
        expect(reply).to_have_value("ご質問ありがとうございます。 10,000円以上で送料無料です。")
        reply.press_sequentially(" /gr")
        expect(page.locator("#reply-suggestions")).to_be_visible()
        reply.press("Escape")
        expect(page.locator("#reply-suggestions")).to_be_hidden()
        reply.press_sequentially("e")
        reply.press("ArrowDown")  # one match: the arrow wraps to it
        reply.press("Enter")
        expect(reply).to_have_value("ご質問ありがとうございます。 10,000円以上で送料無料です。 いらっしゃいませ。")

        assert console.messages == []
        visitor_context.close()
        operator.close()
