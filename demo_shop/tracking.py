"""What the shop tells Irasshai: a list of `irasshai(...)` calls for each page.

Templates put the list on `<body data-irasshai-calls='…'>` and `static/shop.js` replays it, so
the shop needs no inline script and works under a Content-Security-Policy without
'unsafe-inline'. Calls that follow a form POST (add to cart, login, logout, purchase) are queued
in the session and taken by the next page rendered, so a reload does not send them twice.
"""

from __future__ import annotations

from typing import Any

from demo_shop.cart import Cart
from demo_shop.catalog import Product

Call = list[Any]

_QUEUE_KEY = "irasshai_calls"


def product_properties(product: Product) -> dict[str, Any]:
    return {"slug": product.slug, "category": product.category, "price": product.price}


def cart_attributes(cart: Cart) -> Call:
    return ["set", {"cart_value": cart.value, "cart_items": cart.item_count}]


def view_product(product: Product) -> Call:
    return ["track", "view_product", product_properties(product)]


def add_to_cart(product: Product) -> Call:
    return ["track", "add_to_cart", product_properties(product)]


def logged_in(customer: dict[str, Any]) -> Call:
    return ["set", {**customer, "logged_in": True}]


def logged_out() -> Call:
    return ["set", {"logged_in": False}]


def purchase(value: int) -> Call:
    return ["track", "purchase", {"value": value}]


def queue(session: dict[str, Any], call: Call) -> None:
    # Reassigned rather than appended in place: the session only saves what is set on it.
    session[_QUEUE_KEY] = [*session.get(_QUEUE_KEY, []), call]


def take_queued(session: dict[str, Any]) -> list[Call]:
    return session.pop(_QUEUE_KEY, [])
