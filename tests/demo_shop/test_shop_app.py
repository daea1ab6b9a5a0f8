"""The demo shop (`demo_shop.app.create_shop_app`), seen through HTTP as a browser would.

Contract:
- every page renders (200) with the shared header, and embeds, in <head>, `/static/shop.js`
  and `<script async src="{widget_origin}/widget.js" data-site="{site}">`;
- no page has an inline script, a `style=""` attribute or an `on…=` handler, so the shop runs
  under a Content-Security-Policy without 'unsafe-inline';
- the catalogue has at least 6 tops and 6 bottoms, including one expensive top;
- each page lists, on `<body data-irasshai-calls>`, the `irasshai(...)` calls shop.js replays:
  the cart's `set` on every page, `view_product` on product pages, and — once, on the page after
  the form that caused them — `add_to_cart`, the login and logout `set`s, and `purchase`;
- the cart lives in a signed session cookie; checkout empties it;
- unknown products and categories get a 404 page in the shop's style.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from demo_shop.app import create_shop_app
from demo_shop.catalog import PRODUCTS, products_in
from server.verified_identity import identity_hash
from tests.demo_shop.pages import Page, add, tracks

WIDGET_ORIGIN = "http://127.0.0.1:8999"

PAGES = [
    "/",
    "/category/tops",
    "/category/bottoms",
    "/pricing",
    "/cart",
    "/checkout",
    "/login",
    *(f"/products/{product.slug}" for product in PRODUCTS),
]


IDENTITY_SECRET = "demo-identity-secret-for-tests"


def shop_client(site: str = "demo", identity_secret: str = "") -> TestClient:
    return TestClient(create_shop_app(WIDGET_ORIGIN + "/", site=site, identity_secret=identity_secret))


def test_every_page_renders_with_the_shared_header() -> None:
    client = shop_client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        page = Page(response.text)
        for test_id in ("nav-tops", "nav-bottoms", "nav-pricing", "nav-cart", "nav-login", "cart-count"):
            assert test_id in page.test_ids, (path, test_id)
        assert "Irasshai" in response.text, path  # the footer's demo note


def test_every_page_embeds_the_widget_from_its_origin_and_the_shop_script() -> None:
    client = shop_client(site="shop-42")
    for path in [*PAGES, "/products/no-such-thing"]:
        page = Page(client.get(path).text)
        sources = [script.get("src") for script in page.head_scripts]
        assert "/static/shop.js" in sources, path
        widget = [script for script in page.head_scripts if script.get("src") == f"{WIDGET_ORIGIN}/widget.js"]
        assert len(widget) == 1, path
        assert widget[0].get("data-site") == "shop-42"
        assert "async" in widget[0]


def test_no_page_needs_unsafe_inline() -> None:
    client = shop_client()
    for path in [*PAGES, "/products/no-such-thing"]:
        page = Page(client.get(path).text)
        assert page.inline_scripts == 0, path
        assert all(script.get("src") for script in page.scripts), path
        assert page.inline_styles == [], path
        assert page.handlers == [], path


def test_shop_js_starts_with_the_snippet_queue_stub() -> None:
    script = shop_client().get("/static/shop.js").text
    assert script.startswith(
        "window.irasshai = window.irasshai || function () "
        "{ (window.irasshai.q = window.irasshai.q || []).push(arguments); };"
    )
    assert "data-irasshai-calls" in script


def test_the_catalogue_has_two_full_categories_and_an_expensive_top() -> None:
    client = shop_client()
    for category in ("tops", "bottoms"):
        page = Page(client.get(f"/category/{category}").text)
        assert page.test_ids.count("product-card") == len(products_in(category)) >= 6
    assert len(PRODUCTS) >= 12
    assert max(product.price for product in products_in("tops")) >= 40000


def test_prices_are_shown_in_yen_with_thousands_separators() -> None:
    assert "¥48,000" in shop_client().get("/products/cashmere-crew-knit").text


def test_a_product_page_tracks_the_view_and_marks_the_price() -> None:
    response = shop_client().get("/products/cashmere-crew-knit")
    page = Page(response.text)
    assert tracks(page) == [
        ["track", "view_product", {"slug": "cashmere-crew-knit", "category": "tops", "price": 48000}]
    ]
    assert 'data-price="48000"' in response.text
    assert "add-to-cart" in page.test_ids
    assert "cross-sell" in page.test_ids  # よく一緒に購入されています


def test_unknown_product_or_category_is_a_404_in_the_shop_style() -> None:
    client = shop_client()
    for path in ("/products/no-such-thing", "/category/hats", "/img/products/no-such-thing.svg"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "ページが見つかりません" in response.text
        assert "nav-tops" in Page(response.text).test_ids


def test_every_page_reports_the_cart_to_irasshai() -> None:
    client = shop_client()
    assert ["set", {"cart_value": 0, "cart_items": 0}] in Page(client.get("/").text).calls
    add(client, "wide-chino", quantity=2)
    for path in ("/", "/pricing", "/cart"):
        assert ["set", {"cart_value": 19800, "cart_items": 2}] in Page(client.get(path).text).calls


def test_adding_to_cart_shows_the_item_and_total_and_tracks_it_once() -> None:
    client = shop_client()
    response = client.post(
        "/cart/add", data={"slug": "organic-cotton-tee", "size": "L", "quantity": "2"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/cart?added=organic-cotton-tee"

    cart = client.get(response.headers["location"])
    page = Page(cart.text)
    assert "オーガニックコットン Tシャツ" in cart.text
    assert "サイズ L" in cart.text
    assert "¥7,800" in cart.text
    assert page.test_ids.count("cart-line") == 1
    assert page.calls[:2] == [
        ["track", "add_to_cart", {"slug": "organic-cotton-tee", "category": "tops", "price": 3900}],
        ["set", {"cart_value": 7800, "cart_items": 2}],
    ]
    # A reload of the same page must not count the same add twice.
    assert tracks(Page(client.get("/cart?added=organic-cotton-tee").text)) == []


def test_cart_total_adds_shipping_below_the_free_shipping_threshold() -> None:
    client = shop_client()
    add(client, "organic-cotton-tee")
    cart = client.get("/cart").text
    assert "¥660" in cart and "¥4,560" in cart
    add(client, "selvedge-jeans", size="30")
    assert "無料" in client.get("/cart").text


def test_quantities_can_be_changed_and_lines_removed() -> None:
    client = shop_client()
    add(client, "wide-chino")
    add(client, "tapered-slacks")
    client.post("/cart/update", data={"line": "0", "quantity": "3"})
    assert ["set", {"cart_value": 40700, "cart_items": 4}] in Page(client.get("/cart").text).calls
    client.post("/cart/update", data={"line": "0", "quantity": "0"})
    page = Page(client.get("/cart").text)
    assert page.test_ids.count("cart-line") == 1
    assert ["set", {"cart_value": 11000, "cart_items": 1}] in page.calls


def test_bad_cart_input_is_a_client_error() -> None:
    client = shop_client()
    assert client.post("/cart/add", data={"slug": "wide-chino", "size": "XXL"}).status_code == 400
    bad_quantity = {"slug": "wide-chino", "size": "M", "quantity": "x"}
    assert client.post("/cart/add", data=bad_quantity).status_code == 400
    assert client.post("/cart/add", data={"slug": "no-such-thing", "size": "M"}).status_code == 404
    assert client.post("/cart/update", data={"line": "?", "quantity": "1"}).status_code == 400


def test_the_cart_is_in_a_signed_cookie_and_a_tampered_one_is_ignored() -> None:
    app = create_shop_app(WIDGET_ORIGIN)
    shopper = TestClient(app)
    add(shopper, "wide-chino")
    cookie = shopper.cookies["shop_session"]

    same_cookie = TestClient(app)
    same_cookie.cookies.set("shop_session", cookie)
    assert "cart-line" in Page(same_cookie.get("/cart").text).test_ids

    tampered = TestClient(app)
    tampered.cookies.set("shop_session", cookie[:-2] + ("xx" if not cookie.endswith("xx") else "yy"))
    assert "cart-empty" in Page(tampered.get("/cart").text).test_ids


def test_login_shows_the_name_and_identifies_a_returning_customer_with_a_hash_from_the_server() -> None:
    client = shop_client(identity_secret=IDENTITY_SECRET)
    login_page = Page(client.get("/login").text)
    assert "login-submit" in login_page.test_ids
    assert 'value="山田 花子"' in client.get("/login").text

    home = client.post("/login", data={"name": "山田 花子"})
    assert home.url.path == "/"
    assert "山田 花子 様" in home.text
    page = Page(home.text)
    assert "nav-login" not in page.test_ids
    assert page.calls[0] == [
        "identify",
        {
            "id": "C-1001",
            "name": "山田 花子",
            "orders": 3,
            "logged_in": True,
            "hash": identity_hash(IDENTITY_SECRET, "C-1001"),  # what Irasshai checks it against
        },
    ]
    assert IDENTITY_SECRET not in home.text  # the page gets the hash, never the secret
    assert all(call[1].get("logged_in") is None for call in Page(client.get("/").text).calls)


def test_login_without_an_identity_secret_identifies_the_customer_unproven() -> None:
    page = Page(shop_client().post("/login", data={"name": "山田 花子"}).text)
    assert page.calls[0] == ["identify", {"id": "C-1001", "name": "山田 花子", "orders": 3, "logged_in": True}]


def test_login_uses_the_typed_name_escaped_and_defaults_to_hanako() -> None:
    client = shop_client()
    assert "&lt;b&gt;佐藤&lt;/b&gt; 様" in client.post("/login", data={"name": "<b>佐藤</b>"}).text
    assert "山田 花子 様" in client.post("/login", data={"name": "   "}).text


def test_logout_tells_irasshai_and_shows_the_login_link_again() -> None:
    client = shop_client()
    client.post("/login", data={"name": "山田 花子"})
    home = client.post("/logout")
    page = Page(home.text)
    assert "山田 花子 様" not in home.text
    assert "nav-login" in page.test_ids
    assert ["set", {"logged_in": False}] in page.calls


def test_checkout_completes_the_order_and_empties_the_cart() -> None:
    client = shop_client()
    add(client, "cashmere-crew-knit")
    checkout = Page(client.get("/checkout").text)
    assert "checkout-submit" in checkout.test_ids

    thanks = client.post("/checkout", data={})
    assert thanks.url.path == "/checkout/thanks"
    page = Page(thanks.text)
    assert "order-number" in page.test_ids
    assert page.calls[:2] == [
        ["track", "purchase", {"value": 48000}],
        ["set", {"cart_value": 0, "cart_items": 0}],
    ]
    assert "cart-empty" in Page(client.get("/cart").text).test_ids
    assert tracks(Page(client.get("/checkout/thanks").text)) == []


def test_checkout_with_an_empty_cart_goes_back_to_the_cart() -> None:
    client = shop_client()
    response = client.post("/checkout", data={}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/cart"
    assert "checkout-submit" not in Page(client.get("/checkout").text).test_ids


def test_the_pricing_page_lists_the_subscription_plans() -> None:
    page = Page(shop_client().get("/pricing").text)
    assert {"plan-light", "plan-standard", "plan-premium"} <= set(page.test_ids)
    assert tracks(page) == []


def test_home_links_to_categories_and_pricing() -> None:
    home = shop_client().get("/").text
    for href in ('href="/category/tops"', 'href="/category/bottoms"', 'href="/pricing"'):
        assert href in home
    assert Page(home).test_ids.count("product-card") >= 4
