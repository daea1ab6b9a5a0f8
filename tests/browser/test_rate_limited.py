"""The widget and a rate limit (docs/reliability.md, "Abuse"), in Chromium against a real server.

A batch refused with 429 stays queued and is sent again, whole, no sooner than the server's
Retry-After (which CORS lets the widget read), and then stored: nothing is lost, and the
widget does not hammer a server that asked it to wait. The same for a visitor's chat message
(widget_js/chat.js's outbox): refused with 429, it waits for Retry-After, then is sent once
and stored once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time

import pytest

from tests.browser.engagements import STATS_SECRET, fixture_shop, new_visitor, write_fixture_sites
from tests.browser.live_chat import Operator
from tests.browser.shop import shop_app
from tests.browser.test_chat_ui import open_from_prompt, send
from tests.browser.test_chat_ui import wait_for as pumping
from tests.browser.test_tracking import queued, token_of, wait_for
from tests.conftest import free_port, live_server
from tests.helpers import make_app, write_site

pytestmark = pytest.mark.browser


class MovableClock:
    """The server's clock: the real time, plus what the test moves it on by."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_a_refused_batch_waits_for_retry_after_and_is_then_stored(browser, tmp_path):
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    site = f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\nlimits: {{events_per_visitor_per_minute: 1}}\n"
    write_site(tmp_path, site_yaml=site)
    clock = MovableClock()
    app = make_app(tmp_path, clock=clock)
    requests: list[str] = []
    with live_server(shop_app(server_url), port=shop_port), live_server(app, port=server_port):
        page = browser.new_page()
        page.clock.install()
        page.on("request", lambda request: requests.append(request.url) if request.url.endswith("/events") else None)
        page.goto(shop_url + "/products/1")
        wait_for(lambda: token_of(page) and not queued(page), what="the first batch stored")
        with page.expect_response(lambda response: response.url.endswith("/events")) as answer:
            page.click("#spa")  # a second page view within the minute: over the visitor's limit of 1
        refused = answer.value
        assert refused.status == 429 and 55 <= int(refused.headers["retry-after"]) <= 60
        page.clock.fast_forward("00:30")
        page.wait_for_timeout(300)
        assert len(requests) == 2 and [event["url"] for event in queued(page)] == [shop_url + "/spa/next"]
        clock.offset = 61  # the server's minute is over…
        page.clock.fast_forward("00:31")  # …and so is the page's wait
        wait_for(lambda: not queued(page), what="the refused batch sent again and stored")
        assert len(requests) == 3
        services = app.state.services
        visitor = services.ingest.ids.verify("shop", token_of(page))
        read = services.ingest.profile(services.live.config.sites["shop"], visitor)  # the memory store: any loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
            profile = pool.submit(asyncio.run, read).result()
        assert "/spa/next" in profile.page_views
        page.close()


def test_a_refused_chat_message_waits_for_retry_after_and_is_then_stored_once(browser, tmp_path):
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = write_fixture_sites(tmp_path / "rules", shop_url)
    clock = MovableClock()
    app = make_app(rules, clock=clock, site_secrets=f"shop={STATS_SECRET}", chat_messages_per_minute=1)
    says: list[tuple[str, int, str]] = []  # (text, status, Retry-After) of each message the widget POSTed

    def answered(response) -> None:
        if response.request.method == "POST" and response.url.endswith("/chat"):
            action = json.loads(response.request.post_data)["do"]
            if action["type"] == "say":
                says.append((action["text"], response.status, response.headers.get("retry-after", "")))

    with (
        live_server(fixture_shop(server_url), port=shop_port),
        live_server(app, port=server_port),
        new_visitor(browser) as context,
    ):
        page = context.new_page()
        page.clock.install()
        page.on("response", answered)
        dialog = open_from_prompt(page, f"{shop_url}/shop/clean/chat")
        send(dialog, "在庫はありますか？")
        pumping(lambda: len(says) == 1, page, "the first message answered")
        send(dialog, "色違いもありますか？")  # a second within the minute: over the visitor's limit of 1
        pumping(lambda: len(says) == 2, page, "the second message answered")
        text, status, retry_after = says[1]
        assert (text, status) == ("色違いもありますか？", 429) and 55 <= int(retry_after) <= 60
        page.clock.fast_forward("00:30")
        page.wait_for_timeout(300)
        assert len(says) == 2  # not sent again before Retry-After
        clock.offset = 61  # the server's minute is over…
        page.clock.fast_forward("00:31")  # …and so is the page's wait
        pumping(lambda: len(says) == 3, page, "the refused message sent again")
        page.wait_for_timeout(300)
        assert says[2][:2] == ("色違いもありますか？", 200) and len(says) == 3
        [conversation] = Operator(server_url).conversations()
        texts = Operator(server_url).visitor_texts(conversation["id"])
        assert texts == ["在庫はありますか？", "色違いもありますか？"]  # each stored once, in order
