"""The demo's whole loop in a real browser: a coupon from a scenario, bought with at the checkout.

Contract: a new visitor views the pricing page twice and gets the SPRING10 coupon (scenario 1),
copies it with the card's コピー button, puts bottoms in the cart, goes to the checkout, pastes the
code into the coupon field and places the order. The thanks page shows the code, its 10% discount
and the total after it; the page hands the widget `purchase` with that total, and Irasshai
acknowledges it. The checkout with the pasted code and the thanks page are saved as screenshots
(tests/artifacts; docs/demo.md shows them).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.engagements import new_visitor, settled, wait_counted, wait_shown
from tests.browser.test_scenarios import DESKTOP, SITE, add_bottoms_to_cart, shop  # noqa: F401 (the fixture)
from tests.demo_shop.pages import Page

pytestmark = pytest.mark.browser


def test_a_coupon_from_the_pricing_scenario_is_bought_with_at_the_checkout(browser, shop, artifacts):  # noqa: F811
    with new_visitor(browser, permissions=["clipboard-read", "clipboard-write"], **DESKTOP) as context:
        page = context.new_page()
        page.goto(shop.shop + "/pricing")
        settled(page, SITE)
        page.get_by_test_id("nav-home").click()
        page.get_by_test_id("home-pricing").click()

        wait_shown(page)
        card = page.get_by_role("dialog", name="まだお悩みですか？")
        card.get_by_role("button", name="コピー").click()
        expect(card.get_by_role("button", name="コピーしました")).to_be_visible()
        wait_counted(shop.server, SITE, "pricing-return-coupon", "copied")

        add_bottoms_to_cart(page, shop.shop)  # ワイド チノパンツ, ¥9,900 and ¥660 shipping
        page.get_by_test_id("go-to-checkout").click()
        field = page.get_by_label("クーポンコード（お持ちの方）")
        field.click()
        page.keyboard.press("Control+V")  # what the visitor copied, from the clipboard
        expect(field).to_have_value("SPRING10")
        submit = page.get_by_test_id("checkout-submit")
        submit.scroll_into_view_if_needed()  # the order's summary stays in view beside it (sticky)
        page.screenshot(path=artifacts / "demo-loop-checkout.png")
        submit.click()

        expect(page.get_by_test_id("order-complete")).to_be_visible()
        expect(page.get_by_test_id("order-discount")).to_have_text("−¥990")
        expect(page.get_by_test_id("order-total")).to_have_text("¥9,570")
        expect(page.get_by_text("クーポン SPRING10（10%オフ）")).to_be_visible()
        page.screenshot(path=artifacts / "demo-loop-thanks.png")
        calls = Page(page.content()).calls
        assert ["track", "purchase", {"value": 9570}] in calls
        settled(page, SITE)  # Irasshai acknowledged every event of the page, the purchase too
