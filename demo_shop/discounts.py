"""What each of Irasshai's coupon pools is worth at the shop's checkout.

Irasshai hands out codes and says which pool a redeemed code came from; what the code takes off
an order is the shop's business, so the shop keeps this table, keyed by the pool names of
rules/demo/site.yaml (a test checks that every pool there has an entry here).
"""

from __future__ import annotations

from dataclasses import dataclass

from demo_shop.cart import Cart


@dataclass(frozen=True)
class Discount:
    label: str  # shown to the buyer next to the code, as the widget's `discount` text says it
    percent: int = 0  # off the goods (not the shipping)
    yen: int = 0  # off the goods, never more than they cost
    free_shipping: bool = False

    def amount(self, cart: Cart) -> int:
        """Yen taken off `cart`'s total."""
        off = cart.value * self.percent // 100 + min(self.yen, cart.value)
        if self.free_shipping:
            off += cart.shipping
        return min(off, cart.total)


DISCOUNTS = {
    # The pricing page's code promises 10% off a subscription's first delivery; the demo shop
    # takes no subscription orders, so its checkout gives 10% off the goods of any order instead.
    "spring10": Discount("10%オフ", percent=10),
    "welcome": Discount("500円オフ", yen=500),
    "freeship": Discount("送料無料", free_shipping=True),
}
