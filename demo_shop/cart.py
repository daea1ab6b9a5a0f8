"""The cart, kept in the signed session cookie.

The session stores only `[slug, size, quantity]` triples; names and prices always come from the
catalogue, so a cookie from an older catalogue cannot show a stale price. Lines whose product or
size no longer exists are dropped when read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demo_shop.catalog import Product, product_by_slug

MAX_QUANTITY = 9
# A session cookie must stay under the browsers' 4 KB limit.
MAX_LINES = 20
FREE_SHIPPING_FROM = 10000
SHIPPING_FEE = 660


@dataclass(frozen=True)
class CartLine:
    product: Product
    size: str
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]

    @property
    def value(self) -> int:
        """Price of the goods, without shipping: what `cart_value` reports to Irasshai."""
        return sum(line.subtotal for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def shipping(self) -> int:
        if not self.lines or self.value >= FREE_SHIPPING_FROM:
            return 0
        return SHIPPING_FEE

    @property
    def total(self) -> int:
        return self.value + self.shipping

    @property
    def until_free_shipping(self) -> int:
        return max(FREE_SHIPPING_FROM - self.value, 0)


def read_cart(session: dict[str, Any]) -> Cart:
    lines = []
    for entry in session.get("cart", []):
        try:
            slug, size, quantity = entry
        except (TypeError, ValueError):
            continue
        product = product_by_slug(slug)
        if product is None or size not in product.sizes or not isinstance(quantity, int):
            continue
        lines.append(CartLine(product, size, min(max(quantity, 1), MAX_QUANTITY)))
    return Cart(lines)


def _valid_entries(session: dict[str, Any]) -> list[list[Any]]:
    return [[line.product.slug, line.size, line.quantity] for line in read_cart(session).lines]


def add_to_cart(session: dict[str, Any], product: Product, size: str, quantity: int) -> None:
    entries = _valid_entries(session)
    for entry in entries:
        if entry[:2] == [product.slug, size]:
            entry[2] = min(entry[2] + quantity, MAX_QUANTITY)
            break
    else:
        entries.append([product.slug, size, min(quantity, MAX_QUANTITY)])
    session["cart"] = entries[-MAX_LINES:]


def set_quantity(session: dict[str, Any], index: int, quantity: int) -> None:
    """Set line `index` (as shown on the cart page) to `quantity`; 0 removes the line."""
    entries = _valid_entries(session)
    if not 0 <= index < len(entries):
        return
    if quantity <= 0:
        del entries[index]
    else:
        entries[index][2] = min(quantity, MAX_QUANTITY)
    session["cart"] = entries


def empty_cart(session: dict[str, Any]) -> None:
    session.pop("cart", None)
