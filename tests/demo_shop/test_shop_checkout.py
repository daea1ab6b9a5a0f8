"""The demo shop's checkout with coupon codes (demo_shop/orders.py, redeem.py, discounts.py),
against a real Irasshai server on the demo rules, over real HTTP.

Contract:
- a code Irasshai gave a visitor (the cart-exit rule's free-shipping code, got through the events
  API as the widget gets it) is redeemed when the order is placed; the thanks page shows the code,
  its discount and the total after it, and the `purchase` event carries that total;
- the pricing page's shared SPRING10 takes 10% off the goods, for every order;
- an unknown code, or a unique code already used for an order, is refused on the checkout page
  with a message that says which; the order is not placed (the cart is kept, nothing is tracked);
- when Irasshai cannot check the code (unreachable, or the shop's secret is wrong), the checkout
  says so and offers to order without the coupon, which places the order at the full price;
- every coupon pool of rules/demo/site.yaml is worth something at the shop's checkout.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
from starlette.testclient import TestClient

from demo_shop.app import create_shop_app
from demo_shop.cart import Cart, CartLine
from demo_shop.catalog import product_by_slug
from demo_shop.discounts import DISCOUNTS
from server.config import load_config
from tests.conftest import ROOT, free_port, live_server
from tests.demo_rules import SITE, copy_demo_rules
from tests.demo_shop.pages import Page, add, tracks
from tests.helpers import event_id, make_app

SITE_SECRET = "demo-site-secret-for-checkout-tests"
SHOP_URL = "http://127.0.0.1:8001"  # the demo shop's address as the events' Origin; nothing listens there


@pytest.fixture
def irasshai(tmp_path):
    """The Irasshai server on the demo rules (in memory), with the demo site's secret; its URL."""
    server = make_app(copy_demo_rules(tmp_path, SHOP_URL), site_secrets=f"{SITE}={SITE_SECRET}")
    with live_server(server) as url:
        yield url


def shop(irasshai_url: str, site_secret: str = SITE_SECRET) -> TestClient:
    """A new buyer's browser at the demo shop, which redeems codes at `irasshai_url`."""
    return TestClient(create_shop_app(irasshai_url, site=SITE, site_secret=site_secret))


def send(irasshai_url: str, events: list[dict], visitor: str | None = None) -> dict:
    """A batch of events from the shop's pages to Irasshai, as the widget posts it."""
    body = json.dumps({"visitor": visitor, "context": {"language": "ja-JP"}, "events": events}).encode()
    request = urllib.request.Request(
        f"{irasshai_url}/v1/sites/{SITE}/events",
        data=body,
        headers={"origin": SHOP_URL, "content-type": "text/plain;charset=UTF-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def free_shipping_code(irasshai_url: str) -> str:
    """A new visitor with a ¥3,900 item in the cart moves to leave the cart page: the cart-exit rule
    gives them a free-shipping code (SHIP-…)."""
    now = int(time.time() * 1000)
    first = send(
        irasshai_url,
        [
            {"type": "set", "id": event_id(), "ts": now, "attributes": {"cart_value": 3900, "cart_items": 1}},
            {"type": "page_view", "id": event_id(), "ts": now, "url": SHOP_URL + "/cart"},
        ],
    )
    exit_intent = {"type": "signal", "id": event_id(), "ts": now, "signal": "exit_intent", "value": 1}
    reply = send(irasshai_url, [{**exit_intent, "url": SHOP_URL + "/cart"}], visitor=first["visitor"])
    assert reply["show"]["rule"] == "cart-exit-free-shipping", reply
    return reply["show"]["code"]


def check_out(client: TestClient, **form: str):
    return client.post("/checkout", data=form)


def assert_not_placed(client: TestClient, response, message: str) -> None:
    assert response.url.path == "/checkout"
    page = Page(response.text)
    assert "coupon-problem" in page.test_ids
    assert message in response.text
    assert "ご注文はまだ確定していません" in response.text
    assert tracks(page) == []  # no purchase
    assert "cart-line" in Page(client.get("/cart").text).test_ids


def test_a_code_the_widget_gave_takes_its_discount_off_the_order(irasshai):
    code = free_shipping_code(irasshai)
    assert re.fullmatch(r"SHIP-[A-Z2-9]{6}", code)
    buyer = shop(irasshai)
    add(buyer, "organic-cotton-tee")  # ¥3,900 and ¥660 shipping

    thanks = check_out(buyer, coupon=f" {code} ")  # as pasted, with a stray space either side
    assert thanks.url.path == "/checkout/thanks"
    page = Page(thanks.text)
    assert f"クーポン {code}（送料無料）" in thanks.text
    assert "−¥660" in thanks.text
    assert re.search(r"お支払い合計（税込）</dt><dd [^>]*>¥3,900<", thanks.text)
    assert page.calls[0] == ["track", "purchase", {"value": 3900}]


def test_the_shared_pricing_code_takes_ten_percent_off_the_goods_of_every_order(irasshai):
    for _ in range(2):  # a shared code is never used up
        buyer = shop(irasshai)
        add(buyer, "wide-chino")  # ¥9,900 and ¥660 shipping
        thanks = check_out(buyer, coupon="SPRING10")
        assert "クーポン SPRING10（10%オフ）" in thanks.text
        assert "−¥990" in thanks.text
        assert Page(thanks.text).calls[0] == ["track", "purchase", {"value": 9570}]


@pytest.mark.parametrize("wrong", ["NOPE-1234", "spring10", "X" * 65])
def test_an_unknown_code_is_refused_and_the_order_not_placed(irasshai, wrong):
    buyer = shop(irasshai)
    add(buyer, "wide-chino")
    response = check_out(buyer, coupon=wrong)
    assert response.status_code == 422
    assert_not_placed(buyer, response, f"クーポンコード「{wrong}」は見つかりませんでした")
    assert f'value="{wrong}"' in response.text  # kept in the field, to correct


def test_a_code_already_used_for_an_order_is_refused_the_second_time(irasshai):
    code = free_shipping_code(irasshai)
    first = shop(irasshai)
    add(first, "organic-cotton-tee")
    assert check_out(first, coupon=code).url.path == "/checkout/thanks"

    again = shop(irasshai)
    add(again, "organic-cotton-tee")
    response = check_out(again, coupon=code)
    assert response.status_code == 422
    assert_not_placed(again, response, f"クーポンコード「{code}」はすでに使用済みです")


@pytest.mark.parametrize("trouble", ["unreachable", "wrong-secret"])
def test_when_irasshai_cannot_check_the_code_the_buyer_may_order_without_it(irasshai, trouble, caplog):
    if trouble == "unreachable":
        buyer = shop(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    else:
        buyer = shop(irasshai, site_secret="not-the-demo-site-secret")
    add(buyer, "wide-chino")  # ¥9,900 and ¥660 shipping

    response = check_out(buyer, coupon="SPRING10")
    assert response.status_code == 200
    assert_not_placed(buyer, response, "ただいまクーポンを確認できません")
    assert "checkout-without-coupon" in Page(response.text).test_ids
    assert "coupon 'SPRING10' not checked" in caplog.text  # the shop's log says why

    thanks = check_out(buyer, coupon="SPRING10", without_coupon="1")
    assert thanks.url.path == "/checkout/thanks"
    assert "クーポン" not in thanks.text
    assert Page(thanks.text).calls[0] == ["track", "purchase", {"value": 10560}]


def test_a_shop_without_the_site_secret_cannot_check_codes_and_says_so(irasshai):
    buyer = shop(irasshai, site_secret="")
    add(buyer, "wide-chino")
    assert_not_placed(buyer, check_out(buyer, coupon="SPRING10"), "ただいまクーポンを確認できません")


def test_every_coupon_pool_of_the_demo_site_is_worth_something_at_checkout():
    config, problems = load_config(ROOT / "rules")
    assert config is not None, problems.lines()
    assert set(config.sites[SITE].coupons) == set(DISCOUNTS)


def cart_of(slug: str, quantity: int = 1) -> Cart:
    product = product_by_slug(slug)
    assert product is not None
    return Cart([CartLine(product, product.sizes[0], quantity)])


@pytest.mark.parametrize(
    "pool, slug, off",
    [
        ("welcome", "organic-cotton-tee", 500),  # ¥500 off ¥3,900
        ("spring10", "cashmere-crew-knit", 4800),  # 10% of ¥48,000 (shipping is free)
        ("freeship", "organic-cotton-tee", 660),
        ("freeship", "cashmere-crew-knit", 0),  # the shipping was free already
    ],
)
def test_what_each_pool_takes_off_a_cart(pool, slug, off):
    assert DISCOUNTS[pool].amount(cart_of(slug)) == off
