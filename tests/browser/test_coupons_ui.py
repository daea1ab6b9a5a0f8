"""Coupon cards in the browser: unique codes from a `codes_file` pool, kept per visitor, copied.

Contract: two visitors get two different codes from the pool; a visitor who reloads sees the
code they were given; the copy button puts the code on the clipboard, says so, and the server
counts `copied` for the rule.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.engagements import (
    CODES,
    counted,
    fixture_servers,
    flush,
    new_visitor,
    wait_counted,
    wait_shown,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory, redis_server):
    """One server and fixture shop for the module (each test is a new visitor); Redis emptied around it."""
    flush(redis_server)
    with fixture_servers(tmp_path_factory.mktemp("coupons-ui"), redis_server) as running:
        yield running
    flush(redis_server)


def code_on_screen(page) -> str:
    code = wait_shown(page).get_by_role("status", name="クーポンコード")
    expect(code).to_have_text(re.compile(r"^WELCOME-\d{4}$"))
    return code.inner_text()


def test_each_visitor_gets_their_own_code_and_keeps_it(browser, fixtures):
    with new_visitor(browser) as first, new_visitor(browser) as second:
        first_page, second_page = first.new_page(), second.new_page()
        first_page.goto(fixtures.url("clean", "coupon"))
        first_code = code_on_screen(first_page)
        second_page.goto(fixtures.url("clean", "coupon"))
        second_code = code_on_screen(second_page)
        assert first_code != second_code
        assert {first_code, second_code} <= set(CODES)

        first_page.reload()
        expect(wait_shown(first_page).get_by_role("status", name="クーポンコード")).to_have_text(first_code)


def test_copy_button_copies_the_code_and_reports_copied(browser, fixtures, artifacts):
    copied = counted(fixtures.server, "shop", "coupon", "copied")
    with new_visitor(browser, permissions=["clipboard-read", "clipboard-write"]) as context:
        page = context.new_page()
        page.goto(fixtures.url("clean", "coupon"))
        code = code_on_screen(page)
        card = page.get_by_role("dialog", name="はじめてのお客様へ")
        card.get_by_role("button", name="コピー").click()
        expect(card.get_by_role("button", name="コピーしました")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == code
        card.screenshot(path=artifacts / "coupon-copied.png")
        wait_counted(fixtures.server, "shop", "coupon", "copied", at_least=copied + 1)
