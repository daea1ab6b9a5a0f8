"""The widget and a rate limit (docs/reliability.md, "Abuse"), in Chromium against a real server.

A batch refused with 429 stays queued and is sent again, whole, no sooner than the server's
Retry-After (which CORS lets the widget read), and then stored: nothing is lost, and the
widget does not hammer a server that asked it to wait.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest

from tests.browser.shop import shop_app
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
        page.click("#spa")  # a second page view within the minute: over the visitor's limit of 1
        refused = page.wait_for_event("response", lambda response: response.url.endswith("/events"))
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
