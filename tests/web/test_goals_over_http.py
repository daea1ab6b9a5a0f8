"""Goals and control groups over HTTP, on a real redis-server: the events endpoint as the widget posts.

Two visitors reach the cart, whose coupon rule holds out half of its visitors: the one not held
out gets the coupon card and its code; the held-out one gets no card and no code, yet is
decided. Both buy. The rule's counters in Redis then hold the decision of each, the held-out
one as such, and each purchase in its own group, with its value; the stats API counts both
decisions as `decided`.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from starlette.testclient import TestClient

from server.identity import VisitorIds
from server.insights.holdout import held_out
from tests.helpers import SECRET, SHOP, batch, make_app, page_view, post, track, write_site

NOW = datetime(2026, 11, 22, 20, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).timestamp()
DAY = "2026-11-22"
SHOP_SECRET = "shop-stats-secret-0123456789"
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
goals:
  purchase: {{event: purchase, value: value}}
coupons:
  cart10: {{generate: {{prefix: CART-, length: 8}}, discount: 10%オフ}}
"""
RULES = """\
rules:
  - id: cart-coupon
    when: {page: /cart}
    show: {coupon: {pool: cart10, title: 今なら10%オフ}}
    holdout: 50%
"""


def test_a_purchase_counts_for_the_group_the_visitor_was_in(tmp_path, redis_url):
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": RULES})
    ids = VisitorIds(SECRET)
    treated = next(f"t{n}" for n in range(100) if not held_out("shop", "cart-coupon", f"t{n}", 0.5))
    control = next(f"c{n}" for n in range(100) if held_out("shop", "cart-coupon", f"c{n}", 0.5))
    app = make_app(tmp_path, "redis", redis_url, clock=lambda: NOW, site_secrets=f"shop={SHOP_SECRET}")
    with TestClient(app) as client:
        shown = post(client, batch(page_view("/cart", ts=NOW), visitor=ids.sign("shop", treated))).json()
        assert shown["show"]["rule"] == "cart-coupon" and shown["show"]["code"].startswith("CART-")
        hidden = post(client, batch(page_view("/cart", ts=NOW), visitor=ids.sign("shop", control))).json()
        assert "show" not in hidden

        for visitor, value in ((treated, 5400), (control, 3600.5)):
            body = batch(track("purchase", {"value": value}, ts=NOW + 60), visitor=ids.sign("shop", visitor))
            assert post(client, body).status_code == 200

        store = app.state.services.store
        counts = client.portal.call(store.read_counts, "shop", [DAY])[DAY]["cart-coupon"]
        assert {name: n for name, n in counts.items() if "@" not in name} == {
            "decided": 2,
            "held_out": 1,
            "converted": 1,
            "value": 5400,
            "value_sq": 5400**2,
            "converted_held_out": 1,
            "value_held_out": 3600.5,
            "value_sq_held_out": 3600.5**2,
        }
        assert counts["decided@hour=20"] == 2 and counts["held_out@page=/cart"] == 1
        assert client.portal.call(store.visitor_code, "shop", "cart10", control) is None

        stats = client.get("/v1/sites/shop/stats?days=1", headers={"authorization": f"Bearer {SHOP_SECRET}"})
        day = stats.json()["days"][DAY]["cart-coupon"]
        assert (day["decided"], day["held_out"], day["converted"], day["converted_held_out"]) == (2, 1, 1, 1)
