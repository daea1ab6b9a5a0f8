"""The widget's tracking in real headless Chromium, against a server on a real redis-server.

Page views are sent on load and on single-page-app navigation; calls made before the script
loaded are kept; events queued while the server is unreachable survive a reload and are
delivered once it is back, each counted once. An event the server refuses is dropped alone
(the events around it are stored), an event the server fails on does not hold up the ones
queued behind it, and a title is cut by whole code points (never half an emoji). A new
visitor's first batch whose reply was lost is retried with the same secret seed and stored
once, for one visitor.
"""

from __future__ import annotations

import json
import time

import pytest
import redis

from server.identity import VisitorIds
from server.store import keys
from server.visitor import VisitorState, decode
from tests.browser.shop import shop_app
from tests.conftest import free_port, live_server
from tests.helpers import SECRET, make_app, write_site

pytestmark = pytest.mark.browser


def read_profile(redis_url: str, site: str, token: str | None) -> VisitorState | None:
    visitor_id = VisitorIds(SECRET).verify(site, token)
    if visitor_id is None:
        return None

    # Playwright's sync API owns this thread's event loop, so read with the sync client.
    client = redis.Redis.from_url(redis_url)
    try:
        blob = client.hget(keys.visitor(site, visitor_id), "s")
    finally:
        client.close()
    return None if blob is None else decode(blob)


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def setup(tmp_path, redis_url):
    """(shop URL, server port, server app factory); the site allows only the shop's origin."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    write_site(tmp_path, site_yaml=f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\n")

    def server_app():
        return make_app(tmp_path, "redis", redis_url)

    with live_server(shop_app(server_url), port=shop_port):
        yield shop_url, server_port, server_app


def token_of(page) -> str | None:
    return page.evaluate("localStorage.getItem('irasshai:shop:visitor')")


def queued(page) -> list:
    return page.evaluate("JSON.parse(localStorage.getItem('irasshai:shop:queue') || '[]')")


def test_page_views_spa_navigation_and_early_calls_are_stored(browser, setup, redis_url):
    shop_url, server_port, server_app = setup
    with live_server(server_app(), port=server_port):
        page = browser.new_page()
        page.goto(shop_url + "/products/1")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
        page.click("#spa")
        page.go_back()  # popstate back to /products/1
        wait_for(
            lambda: (
                (p := read_profile(redis_url, "shop", token_of(page)))
                and p.page_views.get("/products/1", None)
                and p.page_views["/products/1"].total == 2
                and "/spa/next" in p.page_views
            ),
            what="SPA page views stored",
        )
        profile = read_profile(redis_url, "shop", token_of(page))
        assert profile.event_counts == {"early_call": 1}
        assert profile.attributes == {"plan": "pro"}
        assert profile.language.startswith("en") or profile.language  # whatever Chromium reports
        page.close()


def test_events_queued_while_the_server_is_down_are_delivered_after_a_reload(browser, setup, redis_url):
    shop_url, server_port, server_app = setup
    page = browser.new_page()
    with live_server(server_app(), port=server_port):
        page.goto(shop_url + "/online")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
    # The server is down; widget.js still comes from the browser's cache (max-age).
    page.goto(shop_url + "/offline/one")
    page.goto(shop_url + "/offline/two")
    wait_for(lambda: len(queued(page)) >= 6, what="events queued in localStorage")
    with live_server(server_app(), port=server_port):
        page.reload()
        wait_for(lambda: not queued(page), timeout=15, what="queue drained")
        profile = read_profile(redis_url, "shop", token_of(page))
        assert set(profile.page_views) == {"/online", "/offline/one", "/offline/two"}
        assert profile.page_views["/offline/two"].total == 2  # before and after the reload
        assert profile.event_counts == {"early_call": 4}  # one per page load, none twice
    page.close()


def test_an_event_the_server_refuses_is_dropped_alone_and_the_others_are_stored(browser, setup, redis_url):
    """Issue 15, item 1: a refused event used to take its whole batch (and the page's events) with it."""
    shop_url, server_port, server_app = setup
    with live_server(server_app(), port=server_port):
        page = browser.new_page()
        warnings = []
        page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
        page.goto(shop_url + "/refused")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
        page.evaluate("""() => {
          var deep = 1; for (var i = 0; i < 300; i++) deep = {a: deep};
          irasshai('track', 'good_before');
          irasshai('set', {nested: deep});  // refused: attributes are scalars or lists of them
          irasshai('set', {big: 1e20});  // sent as 100000000000000000000: stored as a float
          irasshai('track', 'has space');  // refused: not an event name
          irasshai('track', 'good_after', {n: 1});
        }""")
        profile = wait_for(
            lambda: (p := read_profile(redis_url, "shop", token_of(page))) and "good_after" in p.event_counts and p,
            what="events after the refused ones stored",
        )
        assert profile.event_counts == {"early_call": 1, "good_before": 1, "good_after": 1}
        assert profile.attributes == {"plan": "pro", "big": 1e20}
        wait_for(lambda: not queued(page), what="queue drained")
        # One line per refused event (console messages reach the test a moment after the reply).
        wait_for(lambda: sum("event " in w for w in warnings) >= 2, what="two warnings")
        assert sum("event " in w for w in warnings) == 2, warnings
        page.close()


def test_an_event_the_server_fails_on_does_not_hold_up_the_events_behind_it(browser, setup, redis_url):
    """A 5xx (here: an injected bug for one event) is retried, but alone and last, not before the rest."""
    shop_url, server_port, server_app = setup
    app = server_app()
    handle = app.state.services.ingest.handle

    async def fails_on_poison(site, rules, batch, events, facts):
        if any(getattr(event, "name", "") == "poison" for event in events):
            raise RuntimeError("a bug that only this event triggers")
        return await handle(site, rules, batch, events, facts)

    app.state.services.ingest.handle = fails_on_poison
    with live_server(app, port=server_port):
        page = browser.new_page()
        page.goto(shop_url + "/poisoned")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
        page.evaluate("""() => {
          irasshai('track', 'one'); irasshai('track', 'poison'); irasshai('track', 'two');
          irasshai('set', {after: 'poison'});
        }""")
        profile = wait_for(
            lambda: (
                (p := read_profile(redis_url, "shop", token_of(page)))
                and "two" in p.event_counts
                and "after" in p.attributes
                and p
            ),
            timeout=20,
            what="events behind the failing one stored",
        )
        assert profile.event_counts == {"early_call": 1, "one": 1, "two": 1}
        # Kept, and retried later (once the replies for the others have been read).
        wait_for(
            lambda: [event.get("name") for event in queued(page)] == ["poison"], what="only the failing event queued"
        )
        page.close()


def test_a_long_title_is_cut_by_code_point_and_its_page_view_stored(browser, setup, redis_url):
    """Issue 15, item 2: cutting at 512 UTF-16 units split the emoji at the cut and lost the batch."""
    shop_url, server_port, server_app = setup
    with live_server(server_app(), port=server_port):
        page = browser.new_page()
        page.goto(shop_url + "/start")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged")
        sent = []
        page.on("request", lambda request: sent.append(request.post_data) if request.method == "POST" else None)
        page.evaluate("""() => {
          document.title = 'a'.repeat(511) + String.fromCodePoint(0x1F600) + 'b'.repeat(100);
          history.pushState({}, '', '/long-title');
          irasshai('set', {after_title: true});
        }""")
        profile = wait_for(
            lambda: (p := read_profile(redis_url, "shop", token_of(page))) and "/long-title" in p.page_views and p,
            what="page view stored",
        )
        assert profile.attributes == {"plan": "pro", "after_title": True}

        def titles():
            # Playwright hands request events to Python only while it runs: let it, then look.
            page.wait_for_timeout(20)
            return [e.get("title") for body in sent for e in json.loads(body)["events"] if e["type"] == "page_view"]

        recorded = wait_for(titles, what="the page view's request recorded")
        assert recorded[0] == "a" * 511 + "\U0001f600"  # 512 code points, the emoji whole
        # Nothing the server would throw away: the width is not sent (the device comes from the User-Agent).
        assert all(json.loads(body).get("context", {}).keys() <= {"language"} for body in sent)


def test_a_first_batch_whose_reply_was_lost_is_retried_as_the_same_visitor(browser, setup, redis_url):
    shop_url, server_port, server_app = setup
    bodies = []

    def lose_the_first_reply(route):
        bodies.append(json.loads(route.request.post_data))
        response = route.fetch()  # the server stores the batch…
        if len(bodies) == 1:
            route.abort()  # …but the widget never hears back
        else:
            route.fulfill(response=response)

    with live_server(server_app(), port=server_port):
        page = browser.new_page()
        page.route("**/v1/sites/shop/events", lose_the_first_reply)
        page.goto(shop_url + "/products/1")
        wait_for(lambda: token_of(page) and not queued(page), what="first batch acknowledged on its retry")
        first, retry = bodies[0], bodies[1]
        assert first["visitor"] is None and len(first["seed"]) >= 22
        assert retry["visitor"] is None and retry["seed"] == first["seed"]
        assert retry["events"][0]["id"] == first["events"][0]["id"]
        client = redis.Redis.from_url(redis_url)
        try:
            assert len(list(client.scan_iter(match="irs:{shop:*}:state"))) == 1
        finally:
            client.close()
        assert read_profile(redis_url, "shop", token_of(page)).page_views["/products/1"].total == 1
        page.evaluate("history.pushState({}, '', '/products/2')")
        wait_for(lambda: not queued(page) and len(bodies) >= 3, what="a batch with the token")
        assert "seed" not in bodies[-1] and bodies[-1]["visitor"] == token_of(page)
        assert page.evaluate("localStorage.getItem('irasshai:shop:seed')") == ""
        page.unroute_all(behavior="ignoreErrors")
        page.close()
