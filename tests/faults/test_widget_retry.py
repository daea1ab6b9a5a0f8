"""The widget across a Redis outage, in real headless Chromium: while Redis is gone its batches are
refused with 503 (never a 500), it keeps the events and sends them again, and once Redis is back
each of them is stored exactly once (nothing lost, nothing twice). The server is never restarted.
"""

from __future__ import annotations

import pytest

from tests.browser.shop import shop_app
from tests.browser.test_tracking import queued, read_profile, token_of, wait_for
from tests.conftest import free_port, live_server
from tests.helpers import make_app, write_site

pytestmark = [pytest.mark.browser, pytest.mark.redis]
PAGES = ["/products/2", "/products/3", "/cart"]


def test_what_the_server_refused_during_the_outage_is_delivered_once_redis_is_back(browser, tmp_path, redis_back):
    shop_port, server_port = free_port(), free_port()
    shop_url = f"http://127.0.0.1:{shop_port}"
    write_site(tmp_path, site_yaml=f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\n")
    app = make_app(tmp_path, "redis", redis_back.url)
    statuses: list[int] = []
    with live_server(shop_app(f"http://127.0.0.1:{server_port}"), port=shop_port), live_server(app, port=server_port):
        page = browser.new_page()
        page.on("response", lambda response: "/events" in response.url and statuses.append(response.status))
        page.goto(shop_url + "/products/1")
        token = wait_for(lambda: token_of(page) and not queued(page) and token_of(page), what="the first page view")

        redis_back.kill()
        for path in PAGES:
            page.evaluate("(path) => history.pushState({}, '', path)", path)
            page.evaluate("(path) => irasshai('track', 'viewed', {path: path})", path)
        # queued() calls into the page, which is when Playwright hands over the responses seen.
        wait_for(lambda: queued(page) and statuses.count(503) >= 2, what="batches refused while Redis is gone")
        assert len(queued(page)) == 2 * len(PAGES)  # kept, not dropped

        redis_back.start()
        wait_for(lambda: not queued(page), timeout=30, what="the refused events delivered")
        profile = read_profile(redis_back.url, "shop", token)
        page.close()
    assert 500 not in statuses and set(statuses) <= {200, 503}
    assert {path: views.total for path, views in profile.page_views.items()} == dict.fromkeys(
        ["/products/1", *PAGES], 1
    )
    assert profile.event_counts == {"early_call": 1, "viewed": len(PAGES)}
    # In the order they happened: a 503 says "later", not "this event is at fault".
    assert profile.session.paths == ["/products/1", *PAGES]
    assert [event.properties.get("path") for event in profile.recent_events if event.name == "viewed"] == PAGES
