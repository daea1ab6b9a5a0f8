"""What the shop tells Irasshai: a list of `irasshai(...)` calls for each page.

Templates put the list on `<body data-irasshai-calls='…'>` and `static/shop.js` replays it, so
the shop needs no inline script and works under a Content-Security-Policy without
'unsafe-inline'. Calls that follow a form POST (add to cart, login, logout, purchase) are queued
in the session and taken by the next page rendered, so a reload does not send them twice.
"""

from __future__ import annotations

import hashlib
import hmac
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


def logged_in(customer_id: str, attributes: dict[str, Any], identity_secret: str) -> Call:
    """`identify` with the proof only the shop's server can make: the hex HMAC-SHA256 of the
    customer id under the site's identity secret (docs/snippet.md, Verified identity). Without a
    secret the identity is sent unproven, and Irasshai keeps it unverified."""
    who = {"id": customer_id, **attributes, "logged_in": True}
    if identity_secret:
        who["hash"] = hmac.new(identity_secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
    return ["identify", who]


def logged_out() -> Call:
    return ["set", {"logged_in": False}]


def purchase(value: int) -> Call:
    return ["track", "purchase", {"value": value}]


def queue(session: dict[str, Any], call: Call) -> None:
    # Reassigned rather than appended in place: the session only saves what is set on it.
    session[_QUEUE_KEY] = [*session.get(_QUEUE_KEY, []), call]


def take_queued(session: dict[str, Any]) -> list[Call]:
    return session.pop(_QUEUE_KEY, [])
