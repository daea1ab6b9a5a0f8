"""The demo shop: a small clothing shop that embeds the Irasshai snippet like a real customer would.

The shop is served from its own origin; `widget_origin` is the Irasshai server's, so the widget
is exercised cross-origin, as in production.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from demo_shop import account, orders, pages
from demo_shop.redeem import CouponRedeemer
from demo_shop.rendering import build_templates

STATIC_DIRECTORY = Path(__file__).parent / "static"


def create_shop_app(
    widget_origin: str,
    site: str = "demo",
    identity_secret: str = "",
    site_secret: str = "",
    irasshai_url: str = "",
    redeem_timeout: float = 5.0,
) -> Starlette:
    """The shop; `identity_secret` is the site's in IRASSHAI_IDENTITY_SECRETS, with which the login
    proves the customer to Irasshai (empty: the customer is identified, unverified).

    `site_secret` is the site's in IRASSHAI_SITE_SECRETS, with which the checkout redeems coupon
    codes at `irasshai_url` (default: `widget_origin`; a shop may reach Irasshai by another address
    than its visitors' browsers do). Without it every code is answered "cannot be checked now", and
    the buyer may order without the coupon."""
    routes = [
        Route("/", pages.home),
        Route("/category/{slug}", pages.category),
        Route("/products/{slug}", pages.product),
        Route("/img/products/{slug}.svg", pages.product_image),
        Route("/pricing", pages.pricing),
        Route("/cart", orders.cart_page),
        Route("/cart/add", orders.cart_add, methods=["POST"]),
        Route("/cart/update", orders.cart_update, methods=["POST"]),
        Route("/checkout", orders.checkout_page),
        Route("/checkout", orders.checkout_submit, methods=["POST"]),
        Route("/checkout/thanks", orders.thanks_page),
        Route("/login", account.login_page),
        Route("/login", account.login_submit, methods=["POST"]),
        Route("/logout", account.logout_submit, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
    ]
    # The cart and the demo login are throwaway data: a fresh secret per process is enough,
    # and it means there is no key to configure or to leak.
    session = Middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32), session_cookie="shop_session")
    app = Starlette(
        routes=routes,
        middleware=[session],
        exception_handlers={HTTPException: pages.error_page},
    )
    app.state.widget_origin = widget_origin.rstrip("/")
    app.state.site = site
    app.state.identity_secret = identity_secret
    app.state.coupons = CouponRedeemer(irasshai_url or widget_origin, site, site_secret, redeem_timeout)
    app.state.templates = build_templates()
    return app
