"""Realistic visitors of the demo shop: where they land, what they view, cart and buy.

A journey is a list of batches as the widget would send them: each a page view of a real
shop path, sometimes with a custom event (`view_product`, `add_to_cart`, `purchase`) or
visitor attributes (`cart_value`, a login). Seeded, so every run sends the same traffic.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from bench.synthetic import SHOP_ORIGIN
from demo_shop.catalog import PRODUCTS

USER_AGENTS = (  # index 0..3: desktop, iPhone, Android phone, iPad; the load generator sends them by index
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
)
DEVICES = ("desktop", "mobile", "mobile", "tablet")  # what server.devices makes of each
REFERRERS = (
    "",
    "",
    "https://www.google.co.jp/",
    "https://www.instagram.com/",
    "https://line.me/",
    "https://search.yahoo.co.jp/",
)
CAMPAIGNS = (
    "?utm_source=instagram&utm_medium=social&utm_campaign=sale-winter",
    "?utm_source=line&utm_campaign=spring",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
)
EXTRA_PAGES = ("/blog/how-to-wash-linen", "/blog/size-guide", "/sale/winter", "/help/shipping", "/help/returns")


@dataclass
class Visitor:
    number: int
    user_agent: int  # index into USER_AGENTS
    language: str
    batches: list[list[dict]] = field(default_factory=list)  # events without id and ts

    @property
    def device(self) -> str:
        return DEVICES[self.user_agent]


def _product_events(rng: random.Random, cart: dict) -> list[dict]:
    product = rng.choice(PRODUCTS)
    properties = {"slug": product.slug, "category": product.category, "price": product.price}
    events = [
        {"type": "page_view", "url": f"{SHOP_ORIGIN}/products/{product.slug}", "title": product.slug},
        {"type": "track", "name": "view_product", "properties": properties},
    ]
    if rng.random() < 0.2:
        cart["value"] += product.price
        cart["items"] += 1
        events.append({"type": "track", "name": "add_to_cart", "properties": properties})
        events.append({"type": "set", "attributes": {"cart_value": cart["value"], "cart_items": cart["items"]}})
    return events


def journey(number: int, steps: int, seed: int = 7) -> Visitor:
    """One visitor's first `steps` batches (a journey that starts again at the home page if it ends)."""
    rng = random.Random(seed * 1_000_003 + number)
    visitor = Visitor(
        number, rng.choices(range(4), weights=(40, 30, 25, 5))[0], rng.choice(("ja-JP",) * 8 + ("en-US", "zh-CN"))
    )
    cart = {"value": 0, "items": 0}
    landing = rng.choice(("/", "/", "/category/tops", "/category/bottoms", "/pricing", "/sale/winter", "product"))
    query = rng.choice(CAMPAIGNS) if rng.random() < 0.25 else ""
    referrer = rng.choice(REFERRERS)
    for step in range(steps):
        if step == 0 and landing != "product":
            events = [{"type": "page_view", "url": SHOP_ORIGIN + landing + query, "referrer": referrer}]
        else:
            roll = rng.random()
            if step == 0 or roll < 0.45:
                events = _product_events(rng, cart)
            elif roll < 0.6:
                events = [
                    {"type": "page_view", "url": SHOP_ORIGIN + rng.choice(("/category/tops", "/category/bottoms"))}
                ]
            elif roll < 0.7:
                events = [{"type": "page_view", "url": SHOP_ORIGIN + "/pricing"}]
            elif roll < 0.8 and cart["items"]:
                events = [{"type": "page_view", "url": SHOP_ORIGIN + rng.choice(("/cart", "/checkout"))}]
            elif roll < 0.85 and cart["items"]:
                events = [
                    {"type": "page_view", "url": SHOP_ORIGIN + "/checkout/thanks"},
                    {"type": "track", "name": "purchase", "properties": {"value": cart["value"]}},
                    {"type": "set", "attributes": {"cart_value": 0, "cart_items": 0}},
                ]
                cart.update(value=0, items=0)
            elif roll < 0.88:
                events = [
                    {"type": "page_view", "url": SHOP_ORIGIN + "/"},
                    {
                        "type": "set",
                        "attributes": {"name": "山田 花子", "orders": rng.randint(1, 6), "logged_in": True},
                    },
                ]
            else:
                events = [{"type": "page_view", "url": SHOP_ORIGIN + rng.choice(EXTRA_PAGES + ("/",))}]
        visitor.batches.append(events)
    return visitor


def with_ids(events: list[dict], prefix: str, ts_ms: int, stamp: str) -> list[dict]:
    """The events with ids (`prefix`, the event's position, `stamp`) and a client timestamp."""
    return [{**event, "id": f"{prefix}e{index}{stamp}", "ts": ts_ms + index} for index, event in enumerate(events)]


def body(visitor_token: str | None, language: str, events: list[dict]) -> str:
    return json.dumps(
        {"visitor": visitor_token, "context": {"language": language, "width": 1280}, "events": events},
        ensure_ascii=False,
        separators=(",", ":"),
    )
