"""Client signals in the browser: the widget watches what the server asks, on the page the visitor is on.

Contract: a rule waiting for a signal fires once the visitor reaches it, also when the rule's
other conditions became true on the page itself (an add-to-cart without a page load), and
on a single-page app's new page, timed from that page's start.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.engagements import (
    exit_intent,
    fast_forward,
    fixture_servers,
    flush,
    new_visitor,
    settled,
    wait_shown,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory, redis_server):
    """One server and fixture shop for the module (each test is a new visitor); Redis emptied around it."""
    flush(redis_server)
    with fixture_servers(tmp_path_factory.mktemp("signals"), redis_server) as running:
        yield running
    flush(redis_server)


def test_exit_intent_after_an_add_to_cart_without_a_page_load(browser, fixtures):
    """An empty cart: nothing to watch. The shop's own script then fills the cart (as an AJAX
    add-to-cart does) and the visitor heads for the address bar: the offer must show."""
    with new_visitor(browser) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "cart"))
        settled(page, "shop")
        page.evaluate("irasshai('set', {cart_value: 3900, cart_items: 1})")
        settled(page, "shop")
        exit_intent(page)
        wait_shown(page)
        expect(page.get_by_role("status", name="お帰りの前に")).to_be_visible()


def test_time_on_page_counts_from_a_single_page_apps_navigation(browser, fixtures):
    with new_visitor(browser) as context:
        page = context.new_page()
        page.clock.install()
        page.goto(fixtures.url("clean", "nothing"))
        settled(page, "shop")
        fast_forward(page, "00:04")
        page.evaluate("history.pushState({}, '', '/shop/clean/linger')")
        settled(page, "shop")
        fast_forward(page, "00:04")  # 8 s on the site, 4 s on this page: not yet
        expect(page.locator("irasshai-widget")).to_have_count(0)
        fast_forward(page, "00:02")
        wait_shown(page)
        expect(page.get_by_role("status", name="ごゆっくりどうぞ")).to_be_visible()
