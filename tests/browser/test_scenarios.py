"""The seven scenarios of PRODUCT.md, end to end: the demo shop, the demo rules, a real browser.

Each test is one new visitor (a fresh browser context: the site's 60-second engagement gap
allows one engagement a minute) doing what the scenario says, and asserts what they see and
that the widget's `shown` feedback reached the server (its rule stats). Timers the rules wait
for (15 s, 30 s, …) are moved on with Playwright's page clock and, in step, the server's clock
(the server bounds the time the widget reports by the time it saw pass).

The demo rules are copied with the shop's origin rewritten to the port the test serves it on and
without holdouts (tests/demo_rules.py: no test visitor lands in a control group); the after-hours
scenario also rewrites the business hours, so both of its branches are tested whatever the time
in Tokyo.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from demo_shop.app import create_shop_app
from tests.browser.engagements import (
    IPHONE_13,
    SERVER_CLOCK,
    STATS_SECRET,
    counted,
    exit_intent,
    fast_forward,
    new_visitor,
    settled,
    wait_counted,
    wait_shown,
)
from tests.conftest import free_port, live_server
from tests.demo_rules import SITE, copy_demo_rules
from tests.helpers import make_app

pytestmark = pytest.mark.browser

IDENTITY_SECRET = "demo-identity-secret-for-browser-tests"
ALWAYS_OPEN = 'business_hours:\n  days: [mon, tue, wed, thu, fri, sat, sun]\n  from: "00:00"\n  to: "24:00"\n'


DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# The header's navigation: logo, menu, login and cart.
HEADER_LINKS = ".site-header a, .site-header button"

# The shop's elements matching a selector that are on screen but covered by something else
# (the widget's host, when the engagement covers them), by their text.
COVERED = """(selector) => [...document.querySelectorAll(selector)].filter((element) => {
  const rect = element.getBoundingClientRect();
  if (rect.bottom <= 0 || rect.top >= innerHeight) return false;
  const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
  return !(hit === element || element.contains(hit));
}).map((element) => element.textContent.trim())"""


def assert_free(page, selector: str) -> None:
    """The engagement's box neither overlaps nor covers the elements matching `selector`."""
    card = page.locator("irasshai-widget .box").bounding_box()
    for index in range(page.locator(selector).count()):
        target = page.locator(selector).nth(index).bounding_box()
        overlaps = (
            card["x"] < target["x"] + target["width"]
            and target["x"] < card["x"] + card["width"]
            and card["y"] < target["y"] + target["height"]
            and target["y"] < card["y"] + card["height"]
        )
        assert not overlaps, f"the engagement at {card} covers {selector} #{index} at {target}"
    assert page.evaluate(COVERED, selector) == []


@dataclass(frozen=True)
class Demo:
    shop: str  # the demo shop's base URL
    server: str  # the Irasshai server's base URL


def closed_now() -> str:
    """Business hours every day that exclude now in Tokyo by at least six hours either way."""
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    start, end = now + timedelta(hours=6), now + timedelta(hours=7)
    return (
        f'business_hours:\n  days: [mon, tue, wed, thu, fri, sat, sun]\n  from: "{start:%H:00}"\n  to: "{end:%H:00}"\n'
    )


@contextmanager
def demo(tmp_path: Path, redis_url: str, business_hours: str | None = None, clock=SERVER_CLOCK, **site: str):
    """The demo shop and server on the demo rules; `site` sets top-level keys of the copy's site.yaml."""
    shop_port, server_port = free_port(), free_port()
    shop_url, server_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{server_port}"
    rules = copy_demo_rules(tmp_path, shop_url, business_hours)
    site_yaml = rules / SITE / "site.yaml"
    for key, value in site.items():
        text, replaced = re.subn(rf"^{key}: .*$", f"{key}: {value}", site_yaml.read_text(encoding="utf-8"), flags=re.M)
        site_yaml.write_text(text if replaced else f"{text}{key}: {value}\n", encoding="utf-8")
    server = make_app(
        rules,
        "redis",
        redis_url,
        clock=clock,
        site_secrets=f"{SITE}={STATS_SECRET}",
        identity_secrets=f"{SITE}={IDENTITY_SECRET}",
    )
    # The login proves its customer; the checkout redeems coupon codes with the site's secret.
    shop = create_shop_app(server_url, identity_secret=IDENTITY_SECRET, site_secret=STATS_SECRET)
    with live_server(server, port=server_port), live_server(shop, port=shop_port):
        yield Demo(shop_url, server_url)


@pytest.fixture
def shop(tmp_path, redis_url):
    with demo(tmp_path, redis_url) as running:
        yield running


def test_pricing_hesitation_second_view_of_pricing_brings_a_coupon(browser, shop, artifacts):
    """1. Second view of the pricing page → the SPRING10 coupon with a copy button, leaving the plans' buttons
    and the header's links free at 1280×800."""
    with new_visitor(browser, **DESKTOP) as context:
        page = context.new_page()
        page.goto(shop.shop + "/")
        page.get_by_test_id("nav-pricing").click()
        settled(page, SITE)
        expect(page.locator("irasshai-widget")).to_have_count(0)
        page.get_by_test_id("nav-home").click()
        page.get_by_test_id("home-pricing").click()

        wait_shown(page)
        dialog = page.get_by_role("dialog", name="まだお悩みですか？")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("10%オフ")
        expect(dialog.get_by_role("status", name="クーポンコード")).to_have_text("SPRING10")
        expect(dialog.get_by_role("button", name="コピー")).to_be_visible()
        expect(dialog.get_by_role("button", name="プランを選ぶ")).to_be_visible()
        expect(dialog.get_by_role("button", name="閉じる")).to_be_visible()
        page.screenshot(path=artifacts / "scenario-1-pricing-coupon.png")
        assert_free(page, ".plan .button")
        assert_free(page, HEADER_LINKS)
        wait_counted(shop.server, SITE, "pricing-return-coupon", "shown")


@pytest.mark.parametrize(
    "open_now, rule, agent, text, button",
    [
        (True, "staff-chat-open", "佐藤（スタッフ）", "スタッフの佐藤です", "相談する"),
        (False, "bot-chat-after-hours", "いらっしゃいBot", "ただいま営業時間外です", "質問する"),
    ],
    ids=["in-business-hours", "after-hours"],
)
def test_after_hours_help_bot_outside_business_hours_staff_within(
    browser, tmp_path, redis_url, artifacts, open_now, rule, agent, text, button
):
    """2. 15 s on a category page → a person's chat prompt in business hours, the bot's outside them."""
    hours = ALWAYS_OPEN if open_now else closed_now()
    with demo(tmp_path, redis_url, hours) as running, new_visitor(browser) as context:
        page = context.new_page()
        page.clock.install()
        page.goto(running.shop + "/category/tops")
        settled(page, SITE)
        fast_forward(page, "00:14")
        expect(page.locator("irasshai-widget")).to_have_count(0)
        fast_forward(page, "00:02")

        wait_shown(page)
        dialog = page.get_by_role("dialog", name=agent)
        expect(dialog).to_contain_text(text)
        expect(dialog.get_by_role("button", name=button)).to_be_visible()
        page.screenshot(path=artifacts / f"scenario-2-{rule}.png")
        wait_counted(running.server, SITE, rule, "shown")


def test_cross_sell_two_tops_viewed_bottoms_recommended(browser, shop, artifacts):
    """3. Two tops viewed → a message recommending bottoms, with a link to them; カートに入れる and the header's
    links stay free."""
    with new_visitor(browser, **DESKTOP) as context:
        page = context.new_page()
        page.goto(shop.shop + "/products/organic-cotton-tee")
        settled(page, SITE)
        expect(page.locator("irasshai-widget")).to_have_count(0)
        page.goto(shop.shop + "/products/oxford-button-down")

        wait_shown(page)
        toast = page.get_by_role("status", name="このトップスに合わせるなら")
        expect(toast).to_contain_text("定番のボトムス")
        link = toast.get_by_role("link", name="ボトムスを見る")
        expect(link).to_have_attribute("href", shop.shop + "/category/bottoms")
        page.screenshot(path=artifacts / "scenario-3-cross-sell.png")
        assert_free(page, "[data-testid=add-to-cart]")
        assert_free(page, HEADER_LINKS)
        wait_counted(shop.server, SITE, "tops-to-bottoms", "shown")
        link.click()
        expect(page).to_have_url(shop.shop + "/category/bottoms")
        wait_counted(shop.server, SITE, "tops-to-bottoms", "clicked")


def add_bottoms_to_cart(page, shop_url: str) -> None:
    # Bottoms, not a top: a top in the cart would bring the cross-sell message first.
    page.goto(shop_url + "/products/wide-chino")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-added")).to_be_visible()


def test_cart_hesitation_exit_intent_with_items_in_the_cart_brings_free_shipping(browser, shop, artifacts):
    """4a. Items in the cart and the pointer leaving the window → a free-shipping coupon."""
    with new_visitor(browser) as context:
        page = context.new_page()
        add_bottoms_to_cart(page, shop.shop)
        settled(page, SITE)
        expect(page.locator("irasshai-widget")).to_have_count(0)
        exit_intent(page)

        wait_shown(page)
        dialog = page.get_by_role("dialog", name="お帰りの前に")
        expect(dialog).to_contain_text("カートの1点、今なら送料無料でお届けします。")
        expect(page.locator("irasshai-widget .code output")).to_have_text(re.compile(r"^SHIP-[A-Z2-9]{6}$"))
        expect(page.locator("irasshai-widget .badge")).to_have_text("送料無料")
        page.screenshot(path=artifacts / "scenario-4-cart-exit.png")
        wait_counted(shop.server, SITE, "cart-exit-free-shipping", "shown")
        dialog.get_by_role("link", name="カートを見る").click()
        expect(page).to_have_url(shop.shop + "/cart")
        wait_counted(shop.server, SITE, "cart-exit-free-shipping", "clicked")


@pytest.mark.parametrize(
    "open_now, rule, agent, text",
    [
        (True, "checkout-idle-help", "佐藤（スタッフ）", "スタッフがすぐにお答えします"),
        (False, "checkout-idle-bot", "いらっしゃいBot", "AIアシスタントが今すぐお答えします"),
    ],
    ids=["in-business-hours", "after-hours"],
)
def test_cart_hesitation_idle_on_checkout_brings_help(
    browser, tmp_path, redis_url, artifacts, open_now, rule, agent, text
):
    """4b. Items in the cart and 20 s without a move on the checkout page → a person's help in business
    hours, the bot's outside them (which says the hours of site.yaml)."""
    hours = ALWAYS_OPEN if open_now else closed_now()
    with demo(tmp_path, redis_url, hours) as running, new_visitor(browser) as context:
        page = context.new_page()
        page.clock.install()
        add_bottoms_to_cart(page, running.shop)
        page.get_by_test_id("go-to-checkout").click()
        expect(page.get_by_test_id("checkout-form")).to_be_visible()
        settled(page, SITE)
        fast_forward(page, "00:21")

        wait_shown(page)
        dialog = page.get_by_role("dialog", name=agent)
        expect(dialog).to_contain_text("ご購入手続きでお困りですか？")
        expect(dialog).to_contain_text(text)
        if not open_now:
            expect(dialog).to_contain_text("スタッフの対応は毎日 ")
        expect(dialog.get_by_role("button", name="質問する")).to_be_visible()
        page.screenshot(path=artifacts / f"scenario-4-{rule}.png")
        wait_counted(running.server, SITE, rule, "shown")


def test_returning_customer_is_greeted_by_name(browser, shop, artifacts):
    """5. A logged-in customer with orders → a greeting by name on the home page, not the welcome coupon."""
    with new_visitor(browser) as context:
        page = context.new_page()
        page.clock.install()
        page.goto(shop.shop + "/login")
        page.get_by_label("お名前").fill("鈴木 一郎")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("customer-name")).to_have_text("鈴木 一郎 様")
        settled(page, SITE)
        fast_forward(page, "00:09")  # past the greeting's 2 s and the welcome coupon's 8 s

        wait_shown(page)
        dialog = page.get_by_role("dialog", name="佐藤（スタッフ）")
        expect(dialog).to_contain_text("鈴木 一郎様、おかえりなさいませ。")
        expect(dialog.get_by_role("link", name="新作を見る")).to_have_attribute("href", shop.shop + "/category/tops")
        expect(page.locator("irasshai-widget .code")).to_have_count(0)
        page.screenshot(path=artifacts / "scenario-5-returning-customer.png")
        wait_counted(shop.server, SITE, "returning-customer-greeting", "shown")
        assert counted(shop.server, SITE, "first-visit-coupon", "decided") == 0  # the greeting took its place


def test_line_follow_a_phone_visitor_is_invited_on_their_second_page(browser, shop, artifacts):
    """6. A phone visitor on their second page → a banner with a link to add the shop on LINE."""
    with new_visitor(browser, **IPHONE_13) as context:
        page = context.new_page()
        page.goto(shop.shop + "/")
        settled(page, SITE)
        expect(page.locator("irasshai-widget")).to_have_count(0)
        page.get_by_test_id("category-tops").click()

        wait_shown(page)
        banner = page.get_by_role("region", name="LINEで友だち追加")
        expect(banner).to_contain_text("新作入荷やセールのお知らせ")
        expect(banner.get_by_role("link", name="友だち追加")).to_have_attribute(
            "href", "https://line.me/R/ti/p/@nunotohibi"
        )
        page.screenshot(path=artifacts / "scenario-6-line-phone.png", scale="css")
        assert_free(page, ".site-header")
        wait_counted(shop.server, SITE, "line-follow-mobile", "shown")


@pytest.mark.parametrize(
    "open_now, rule, agent, text, button",
    [
        (True, "cashmere-consult", "佐藤（スタッフ）", "スタッフが直接ご案内します", "スタッフと話す"),
        (False, "cashmere-consult-bot", "いらっしゃいBot", "AIアシスタントが今すぐ", "質問する"),
    ],
    ids=["in-business-hours", "after-hours"],
)
def test_high_value_consult_after_30_seconds_on_the_cashmere_knit(
    browser, tmp_path, redis_url, artifacts, open_now, rule, agent, text, button
):
    """7. 30 s on the ¥48,000 cashmere knit → an offer to talk to a person in business hours (the bot
    outside them), which leaves カートに入れる free at 1280×800."""
    hours = ALWAYS_OPEN if open_now else closed_now()
    with demo(tmp_path, redis_url, hours) as running, new_visitor(browser, **DESKTOP) as context:
        page = context.new_page()
        page.clock.install()
        page.goto(running.shop + "/products/cashmere-crew-knit")
        settled(page, SITE)
        fast_forward(page, "00:29")
        expect(page.locator("irasshai-widget")).to_have_count(0)
        fast_forward(page, "00:02")

        wait_shown(page)
        dialog = page.get_by_role("dialog", name=agent)
        expect(dialog).to_contain_text("一生ものだからこそ")
        expect(dialog).to_contain_text(text)
        expect(dialog.get_by_role("button", name=button)).to_be_visible()
        page.screenshot(path=artifacts / f"scenario-7-{rule}.png")
        assert_free(page, "[data-testid=add-to-cart]")
        assert_free(page, HEADER_LINKS)
        wait_counted(running.server, SITE, rule, "shown")
