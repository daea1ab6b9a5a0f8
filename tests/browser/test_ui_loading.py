"""The engagement UI (ui.js, widget.css) is a second download, made only when it is needed.

Contract: a page where nothing is shown fetches widget.js and nothing else of the widget; the
first engagement fetches ui.js once (from the Irasshai server's origin, as a module) and later
ones on that page reuse it; when ui.js cannot be had (missing, blocked), the engagement is
skipped with one console.warn, no uncaught error, and the page and its tracking go on working.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.engagements import (
    counted,
    fixture_servers,
    flush,
    new_visitor,
    settled,
    wait_counted,
    wait_shown,
    watch_console,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory, redis_server):
    flush(redis_server)
    with fixture_servers(tmp_path_factory.mktemp("ui-loading"), redis_server) as running:
        yield running
    flush(redis_server)


def widget_files(page, server: str) -> list[str]:
    """The Irasshai server's files this page requests (its event posts aside), in order."""
    files: list[str] = []
    page.on(
        "request",
        lambda request: (
            files.append(request.url.removeprefix(server))
            if request.url.startswith(server) and "/v1/" not in request.url
            else None
        ),
    )
    return files


def test_a_page_where_nothing_is_shown_fetches_only_widget_js(browser, fixtures):
    with new_visitor(browser) as context:
        page = context.new_page()
        files = widget_files(page, fixtures.server)
        page.goto(fixtures.url("clean", "nothing"))
        settled(page, "shop")
        page.evaluate("irasshai('track', 'nothing_to_show')")
        settled(page, "shop")
        assert files == ["/widget.js"]
        expect(page.locator("irasshai-widget")).to_have_count(0)


def test_the_first_engagement_fetches_the_ui_once_and_later_ones_reuse_it(browser, fixtures):
    with new_visitor(browser) as context:
        page = context.new_page()
        console = watch_console(page)
        files = widget_files(page, fixtures.server)
        page.goto(fixtures.url("clean", "nothing"))
        settled(page, "shop")
        for kind in ("toast", "coupon", "banner"):
            page.evaluate("(kind) => irasshai('track', 'show_' + kind)", kind)
            wait_shown(page).get_by_role("button", name="閉じる").click()
            expect(page.locator("irasshai-widget")).to_have_count(0)
        assert files.count("/ui.js") == 1, files
        assert files[:2] == ["/widget.js", "/ui.js"]
        assert console.problems() == []


@pytest.mark.parametrize("failure", ["missing", "blocked"])
def test_without_the_ui_the_engagement_is_skipped_and_the_page_works(browser, fixtures, failure):
    decided = counted(fixtures.server, "shop", "coupon", "decided")
    with new_visitor(browser) as context:
        if failure == "missing":
            context.route("**/ui.js", lambda route: route.fulfill(status=404, body="not found"))
        else:
            context.route("**/ui.js", lambda route: route.abort("blockedbyclient"))
        page = context.new_page()
        console = watch_console(page)
        with page.expect_console_message(lambda message: "Irasshai" in message.text, timeout=10_000):
            page.goto(fixtures.url("clean", "coupon"))
        wait_counted(fixtures.server, "shop", "coupon", "decided", at_least=decided + 1)
        ours = [m for m in console.messages if "Irasshai" in m]
        assert len(ours) == 1 and ours[0].startswith("warning: Irasshai: could not show an engagement"), ours
        assert not [m for m in console.messages if m.startswith("pageerror")]
        # The browser's own note of the failed request is all there is besides the warning.
        others = [m for m in console.problems() if "Irasshai" not in m]
        assert all(m.startswith("error: Failed to load resource") for m in others), others
        expect(page.locator("irasshai-widget")).to_have_count(0)
        # The page is the shop's as before, and tracking goes on.
        page.locator("#search").fill("cotton")
        expect(page.locator("#search")).to_have_value("cotton")
        page.evaluate("irasshai('track', 'still_here')")
        settled(page, "shop")
