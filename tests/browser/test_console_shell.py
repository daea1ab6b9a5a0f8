"""The console in real Chromium: sign in, the shell under its own CSP, sign out.

Contract: an operator signs in with the form, lands on the shell of their site with their name
in the header, the page runs under the console's strict CSP with no console errors (no CSP
violation, no failed script or style), and signing out leads back to the sign-in page, after
which the shell is out of reach. Screenshots of the sign-in page and the shell at 1280×800 and
on a tablet (tests/artifacts/console-*.png) are the ones docs/console.md describes.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.engagements import watch_console
from tests.conftest import live_server
from tests.console.helpers import add_operator, console_app

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}


@pytest.mark.parametrize(("language", "viewport"), [("ja", {"width": 1280, "height": 800}), ("en", TABLET)])
def test_sign_in_see_the_shell_and_sign_out(browser, tmp_path, artifacts, language, viewport):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "hanako@example.com", "correct horse", name="佐藤 花子", language=language)
    add_operator(store, "shop-b", "hanako@example.com", "")
    with live_server(app) as url:
        context = browser.new_context(viewport=viewport, locale="ja-JP" if language == "ja" else "en-US")
        page = context.new_page()
        console = watch_console(page)
        page.goto(url + "/console")
        assert page.url == url + "/console/login"
        size = "laptop" if viewport["width"] == 1280 else "tablet"
        page.screenshot(path=artifacts / f"console-login-{language}-{size}.png")
        page.get_by_label("メールアドレス" if language == "ja" else "Email").fill("hanako@example.com")
        page.get_by_label("パスワード" if language == "ja" else "Password").fill("correct horse")
        page.get_by_role("button", name="サインイン" if language == "ja" else "Sign in").click()
        expect(page.locator("#operator-name")).to_have_text("佐藤 花子")
        assert page.url == url + "/console/sites/shop-a"
        expect(page.get_by_role("link", name="受信箱" if language == "ja" else "Inbox")).to_have_attribute(
            "aria-current", "page"
        )
        # The stylesheet applied (the CSP let it in): the nav is laid out by console.css.
        assert page.locator(".topbar").evaluate("e => getComputedStyle(e).display") == "flex"
        page.screenshot(path=artifacts / f"console-shell-{language}-{size}.png")
        # The site switcher is console.js's: choosing a site goes there.
        page.locator("#site-select").select_option("shop-b")
        page.wait_for_url(url + "/console/sites/shop-b")
        page.get_by_role("button", name="サインアウト" if language == "ja" else "Sign out").click()
        page.wait_for_url(url + "/console/login?bye=1")
        page.goto(url + "/console/sites/shop-a")
        assert page.url == url + "/console/login"
        assert console.messages == []
        context.close()
