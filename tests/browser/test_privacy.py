"""Privacy in real headless Chromium, against a server on a real redis-server (docs/privacy.md).

- Consent mode (``data-consent="required"``, ``consent: required``): until
  ``irasshai('consent', true)`` the widget sends no request and keeps nothing in the page's
  storage; then the page's events are stored. ``irasshai('consent', false)`` clears the
  widget's storage and the server forgets the visitor.
- ``irasshai('optout')``: the widget keeps only its opt-out and sends nothing more, after a reload too.
- Global Privacy Control (``navigator.globalPrivacyControl`` and ``Sec-GPC: 1``): nothing is
  sent and nothing kept; a browser that only sends the header is answered "stop" by the
  server, which stores nothing, and the widget clears what it kept and sends nothing more.
"""

from __future__ import annotations

import pytest

from tests.browser.shop import shop_app
from tests.browser.test_tracking import read_profile, token_of, wait_for
from tests.conftest import all_keys, free_port, live_server, redis_client
from tests.helpers import make_app, write_site

pytestmark = pytest.mark.browser

GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


@pytest.fixture
def servers(tmp_path, redis_url):
    """(shop URL of the consent page, shop URL of the plain page): a consent site and a plain one."""
    urls = {}
    with_consent = "privacy:\n  consent: required\n"
    stack = []
    for key, page, extra in (("consent", "consent.html", with_consent), ("plain", "tracking.html", "")):
        shop_port, server_port = free_port(), free_port()
        shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
        folder = tmp_path / key
        write_site(folder, site_yaml=f"origins: [{shop_url}]\ntimezone: Asia/Tokyo\n{extra}")
        server = make_app(folder, "redis", redis_url)
        shop = live_server(shop_app(server_url, page), port=shop_port)
        api = live_server(server, port=server_port)
        stack += [shop, api]
        shop.__enter__()
        api.__enter__()
        urls[key] = shop_url
    try:
        yield urls
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


def kept(page) -> dict:
    """What the widget keeps in the page's storage."""
    return page.evaluate(
        """() => Object.fromEntries([localStorage, sessionStorage].flatMap(area =>
             Object.keys(area).filter(key => key.startsWith('irasshai:')).map(key => [key, area.getItem(key)])))"""
    )


def event_requests(page) -> list:
    sent = []
    page.on("request", lambda request: "/v1/sites/" in request.url and sent.append(request.url))
    return sent


def test_consent_required_sends_and_keeps_nothing_until_consent(browser, servers, redis_url):
    page = browser.new_page()
    sent = event_requests(page)
    page.goto(servers["consent"] + "/products/1")
    page.wait_for_function("window.irasshai && window.irasshai.loaded")
    page.evaluate("irasshai('track', 'viewed_banner')")
    page.wait_for_timeout(500)  # what would have been sent by now (batches go 40 ms after an event)
    assert sent == [] and kept(page) == {}

    page.evaluate("irasshai('consent', true)")
    profile = wait_for(lambda: read_profile(redis_url, "shop", token_of(page)), what="the visitor stored")
    assert "/products/1" in profile.page_views  # the page view made before consent, sent with it
    assert profile.event_counts.get("viewed_banner") == 1
    assert kept(page)["irasshai:shop:consent"] == "1"
    page.close()


def test_consent_false_clears_the_storage_and_the_server_forgets_the_visitor(browser, servers, redis_url):
    page = browser.new_page()
    page.goto(servers["consent"] + "/")
    page.wait_for_function("window.irasshai && window.irasshai.loaded")
    page.evaluate("irasshai('consent', true)")
    token = wait_for(lambda: read_profile(redis_url, "shop", token_of(page)) and token_of(page), what="stored")
    sent = event_requests(page)

    page.evaluate("irasshai('consent', false)")
    wait_for(lambda: read_profile(redis_url, "shop", token) is None, what="the server forgot the visitor")
    assert kept(page) == {}
    page.evaluate("irasshai('track', 'after_refusal')")
    page.wait_for_timeout(500)
    assert [url for url in sent if url.endswith("/events")] == []
    page.close()


def test_gpc_sends_nothing_and_keeps_nothing(browser, servers, redis_url):
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(GPC)
    page = context.new_page()
    sent = event_requests(page)
    page.goto(servers["plain"] + "/products/1")
    page.wait_for_load_state("networkidle")
    page.evaluate("irasshai('track', 'anything')")
    page.wait_for_timeout(500)
    assert sent == [] and kept(page) == {}
    assert not [key for key in all_keys(redis_client(redis_url)) if key.endswith(b":state")]
    context.close()


def test_a_server_refusing_for_gpc_makes_the_widget_clear_its_storage_and_stop(browser, servers, redis_url):
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})  # the header, but no navigator property
    page = context.new_page()
    replies = []
    page.on("response", lambda response: response.url.endswith("/events") and replies.append(response.status))
    with page.expect_response(lambda response: response.url.endswith("/events")):
        page.goto(servers["plain"] + "/products/1")
    page.evaluate("irasshai('track', 'anything')")
    page.wait_for_timeout(1500)  # a retry would come after 1 s at the earliest
    assert replies == [403]  # and no retry, no later batch
    assert kept(page) == {}
    assert not [key for key in all_keys(redis_client(redis_url)) if key.endswith(b":state")]
    context.close()


def test_optout_keeps_only_the_optout_and_sends_nothing_more(browser, servers, redis_url):
    page = browser.new_page()
    page.goto(servers["plain"] + "/")
    wait_for(lambda: token_of(page), what="the first batch acknowledged")
    sent = event_requests(page)
    page.evaluate("irasshai('optout')")
    assert kept(page) == {"irasshai:shop:optout": "1"}
    page.evaluate("irasshai('track', 'after_optout')")
    page.reload()
    page.wait_for_timeout(500)
    assert sent == [] and kept(page) == {"irasshai:shop:optout": "1"}
    page.close()
