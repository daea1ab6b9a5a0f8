"""The chat panel in the widget (widget_js/chat.js), against the real server (live_chat.py).

Contract: a chat prompt's button and the site's launcher open a labelled dialog with a log of
messages and a focused input, in the site's language, under a strict CSP, as a bottom sheet on a
phone; Escape closes it and gives focus back. A message sent shows at once and is POSTed once;
messages sent while the server is unreachable wait in localStorage (across a reload) and go in
order, once, when it is back. Replies, typing and bot choices arrive over the stream without a
reload; a reply while the panel is closed puts an unread badge on the launcher. A reload shows
the conversation's history, and the next page opens the stream without a click. A tab holds at
most one stream, and none once it has been hidden for a minute (nor opens one while hidden).
Operators act through the operator API; bot choices are tested on the demo (test_demo_chat.py).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.engagements import IPHONE_13, new_visitor, settled, wait_shown, watch_console
from tests.browser.live_chat import StreamCount, one_server

pytestmark = pytest.mark.browser

# Tests only: the page can be made to look hidden (`window.__hidden = true` and a visibilitychange).
HIDDEN = """
(() => {
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return !!window.__hidden; } });
})();
"""


def wait_for(condition, page: Page, what: str) -> None:
    """Wait (through the page's event loop, at most 10 s) until `condition()` holds on the test's side."""
    for _ in range(200):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


def open_from_prompt(page: Page, url: str, button: str = "相談する"):
    page.goto(url)
    wait_shown(page)
    page.get_by_role("button", name=button).click()
    dialog = page.locator("irasshai-chat").get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def send(dialog, text: str) -> None:
    box = dialog.get_by_role("textbox")
    box.fill(text)
    box.press("Enter")


def chat_posts(page: Page) -> list[dict]:
    """The actions the page POSTs to …/chat, recorded as they are sent (read them after a Playwright call)."""
    posts: list[dict] = []
    page.on(
        "request",
        lambda request: (
            request.method == "POST"
            and request.url.endswith("/chat")
            and posts.append(json.loads(request.post_data)["do"])
        ),
    )
    return posts


def test_a_prompt_opens_the_panel_and_replies_and_typing_arrive_without_a_reload(browser, tmp_path):
    with one_server(tmp_path) as servers:
        context = new_visitor(browser)
        page = context.new_page()
        console = watch_console(page)
        posts = chat_posts(page)
        dialog = open_from_prompt(page, servers.url("clean", "chat"))
        expect(dialog).to_have_accessible_name("佐藤（スタッフ）")
        expect(dialog).to_have_attribute("lang", "ja")
        log = dialog.get_by_role("log")
        expect(log).to_have_attribute("aria-live", "polite")
        expect(log).to_contain_text("サイズ選びで迷ったら")  # the prompt's words open the conversation
        expect(dialog.get_by_role("textbox")).to_be_focused()
        expect(dialog.get_by_role("button", name="送信")).to_be_visible()

        send(dialog, "Mサイズの在庫はありますか？")
        expect(log.locator(".visitor .text")).to_have_text(["Mサイズの在庫はありますか？"])
        expect(log.locator(".visitor.pending")).to_have_count(0)
        expect(dialog.get_by_role("textbox")).to_have_value("")
        operator = servers.operator()
        [conversation] = operator.wait_conversation()
        assert conversation["rule"] == "chat"  # the prompt's rule started it
        assert operator.visitor_texts(conversation["id"]) == ["Mサイズの在庫はありますか？"]
        operator.typing(conversation["id"], "佐藤")
        expect(dialog.get_by_role("status")).to_have_text("佐藤 入力中…")
        operator.say(conversation["id"], "はい、Mサイズは在庫がございます。", "佐藤")
        expect(log.locator(".operator .text")).to_have_text(["はい、Mサイズは在庫がございます。"])
        expect(log.locator(".operator .name")).to_have_text(["佐藤"])
        expect(dialog.get_by_role("status")).to_have_text("")

        assert [p["type"] for p in posts].count("say") == 1
        assert "typing" in [p["type"] for p in posts], "typing in the input tells the other side"
        expect(log.locator(".visitor .text")).to_have_count(1)  # the stream's echo is not drawn twice
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert console.problems() == []
        context.close()


def test_the_launcher_opens_the_panel_and_shows_unread_replies_while_it_is_closed(browser, tmp_path):
    with one_server(tmp_path, launcher=True) as servers:
        context = new_visitor(browser, locale="en-US")
        page = context.new_page()
        page.goto(servers.url("clean", "home", site="shop-en"))
        launcher = page.locator("irasshai-chat").get_by_role("button", name="Open chat")
        expect(launcher).to_be_visible()
        launcher.click()
        dialog = page.locator("irasshai-chat").get_by_role("dialog", name="shop-en")
        expect(dialog.get_by_role("textbox", name="Type a message")).to_be_focused()
        expect(launcher).to_be_hidden()
        send(dialog, "Do you ship to Osaka?")
        operator = servers.operator("shop-en")
        [conversation] = operator.wait_conversation()
        expect(dialog.get_by_role("log").locator(".system .text")).to_have_text(["A person will answer shortly."])
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(launcher).to_be_focused()  # focus goes back where it came from

        operator.say(conversation["id"], "Yes, in two days.", "Sato")
        badge = page.locator("irasshai-chat .badge")
        expect(badge).to_have_text("1")
        expect(page.locator("irasshai-chat").get_by_role("button", name="Open chat (1 unread)")).to_be_visible()
        page.keyboard.press("Enter")
        expect(dialog.get_by_role("log")).to_contain_text("Yes, in two days.")
        expect(badge).to_be_hidden()
        context.close()


def test_messages_sent_while_the_server_is_unreachable_go_later_in_order_once(browser, tmp_path):
    with one_server(tmp_path) as servers:
        context = new_visitor(browser)
        page = context.new_page()
        page.route("**/v1/sites/*/chat", lambda route: route.abort())
        dialog = open_from_prompt(page, servers.url("clean", "chat"))
        for text in ("一つ目", "二つ目"):
            send(dialog, text)
        pending = dialog.get_by_role("log").locator(".visitor.pending")
        expect(pending).to_have_count(2)
        expect(pending.first).to_contain_text("送信待ち")
        # Kept across a reload: the next page shows them waiting, and the visitor adds one.
        page.reload()
        settled(page, "shop")
        dialog = page.locator("irasshai-chat").get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("log").locator(".visitor.pending")).to_have_count(2)
        send(dialog, "三つ目")
        operator = servers.operator()
        assert operator.conversations() == []

        page.unroute("**/v1/sites/*/chat")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(dialog.get_by_role("log").locator(".visitor.pending")).to_have_count(0)
        [conversation] = operator.wait_conversation()
        assert operator.visitor_texts(conversation["id"]) == ["一つ目", "二つ目", "三つ目"]
        expect(dialog.get_by_role("log").locator(".visitor .text")).to_have_text(["一つ目", "二つ目", "三つ目"])
        context.close()


def test_a_reload_shows_the_history_and_the_next_page_opens_the_stream_without_a_click(browser, tmp_path):
    with one_server(tmp_path) as servers:
        context = new_visitor(browser)
        page = context.new_page()
        dialog = open_from_prompt(page, servers.url("clean", "chat"))
        send(dialog, "返品できますか？")
        operator = servers.operator()
        [conversation] = operator.wait_conversation()
        operator.say(conversation["id"], "30日以内なら返品できます。")
        expect(dialog.get_by_role("log")).to_contain_text("30日以内なら返品できます。")

        page.reload()
        dialog = page.locator("irasshai-chat").get_by_role("dialog")
        expect(dialog).to_be_visible()  # it was open: it stays open
        texts = dialog.get_by_role("log").locator(".visitor .text, .operator .text")
        expect(texts).to_have_text(["返品できますか？", "30日以内なら返品できます。"])
        page.keyboard.press("Tab")
        page.locator("irasshai-chat").get_by_role("button", name="閉じる").click()

        page.goto(servers.url("clean", "home"))
        replies = page.locator("irasshai-chat .operator")
        expect(replies).to_have_count(1)  # the history, drawn in the closed panel: seen before, so not unread
        expect(page.locator("irasshai-chat .badge")).to_be_hidden()
        operator.say(conversation["id"], "ほかにご質問はありますか？")  # arrives: the stream is open, unclicked
        expect(replies).to_have_count(2)
        expect(page.locator("irasshai-chat .badge")).to_have_text("1")
        context.close()


def test_one_stream_per_tab_and_none_while_the_tab_is_hidden(browser, tmp_path):
    streams = StreamCount()
    with one_server(tmp_path, count=streams) as servers:
        context = new_visitor(browser)
        context.add_init_script(HIDDEN)
        page = context.new_page()
        page.clock.install()
        dialog = open_from_prompt(page, servers.url("clean", "chat"))
        send(dialog, "こんにちは")
        wait_for(lambda: streams.open == 1, page, "one stream")
        for number in range(3):  # every events reply starts the chat part again: still one stream
            page.evaluate("(n) => irasshai('track', 'look_' + n)", number)
        settled(page, "shop")
        assert streams.open == 1 and streams.opened == 1

        page.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
        page.clock.fast_forward("00:30")
        assert streams.open == 1  # a quick look at another tab keeps it
        page.clock.fast_forward("00:31")
        wait_for(lambda: streams.open == 0, page, "the stream closed after a minute hidden")

        second = context.new_page()
        second.add_init_script("window.__hidden = true")
        second.goto(servers.url("clean", "home"))
        settled(second, "shop")
        second.wait_for_function("() => document.querySelector('irasshai-chat')")
        assert streams.open == 0, "a hidden tab opens no stream"
        second.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
        wait_for(lambda: streams.open == 1, second, "a stream once visible")
        context.close()


def test_under_a_strict_csp_the_panel_works_and_violates_nothing(browser, tmp_path):
    with one_server(tmp_path) as servers:
        context = new_visitor(browser)
        page = context.new_page()
        console = watch_console(page)
        dialog = open_from_prompt(page, servers.url("csp", "chat"))
        send(dialog, "CSPでも届きますか？")
        operator = servers.operator()
        [conversation] = operator.wait_conversation()
        operator.say(conversation["id"], "届きます。")
        expect(dialog.get_by_role("log")).to_contain_text("届きます。")
        expect(dialog.locator(".head")).to_have_css("background-color", "rgb(31, 42, 68)")  # chat.css applied
        assert page.evaluate("window.__seen.violations") == []
        assert console.problems() == []
        context.close()


def test_on_a_phone_the_panel_is_a_sheet_from_the_bottom(browser, tmp_path):
    with one_server(tmp_path) as servers:
        context = new_visitor(browser, **IPHONE_13)
        page = context.new_page()
        dialog = open_from_prompt(page, servers.url("clean", "chat"))
        box = dialog.bounding_box()
        assert box["x"] == 0 and box["width"] == 390
        assert box["y"] + box["height"] == pytest.approx(844, abs=1)
        assert box["height"] > 844 / 2
        send_button = dialog.get_by_role("button", name="送信").bounding_box()
        assert send_button["height"] >= 44
        context.close()


def test_an_engagement_is_placed_clear_of_the_launcher_and_the_open_panel(browser, tmp_path, artifacts):
    """The chat's launcher sits in the bottom-right corner, where a card goes by default: the card
    sits just above it (12 px), and, while the panel is open, goes elsewhere rather than cover it."""
    with (
        one_server(tmp_path, launcher=True) as servers,
        new_visitor(browser, viewport={"width": 1280, "height": 800}) as context,
    ):
        page = context.new_page()
        page.goto(servers.url("plain", "nothing"))
        launcher = page.locator("irasshai-chat").get_by_role("button", name="チャットを開く")
        expect(launcher).to_be_visible()
        page.evaluate("irasshai('track', 'show_toast')")
        card = wait_shown(page).bounding_box()
        page.screenshot(path=artifacts / "ui-clear-of-launcher.png")
        spot = launcher.bounding_box()
        assert not overlap(card, spot)
        assert (card["x"] + card["width"], card["y"] + card["height"]) == (spot["x"] + spot["width"], spot["y"] - 12)

        page.goto(servers.url("plain", "nothing"))
        launcher.click()
        panel = page.locator("irasshai-chat").get_by_role("dialog")
        expect(panel).to_be_visible()
        page.evaluate("irasshai('track', 'show_toast')")
        card = wait_shown(page).bounding_box()
        assert not overlap(card, panel.bounding_box())


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )
