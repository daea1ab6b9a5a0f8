"""Cart and (fake) checkout. Every POST that changes something redirects (303), so a reload never
repeats an order; a checkout refused for its coupon code renders the checkout again, unchanged.

A coupon code is redeemed with Irasshai (`redeem.py`) when the order is placed, not before: the
redeem API marks a unique code used, so checking it earlier would use it up for an order the buyer
may never place."""

from __future__ import annotations

import logging
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from demo_shop import tracking
from demo_shop.cart import MAX_QUANTITY, add_to_cart, empty_cart, read_cart, set_quantity
from demo_shop.catalog import pairs_for, product_by_slug
from demo_shop.discounts import DISCOUNTS
from demo_shop.redeem import CouponRedeemer
from demo_shop.rendering import read_form, render

log = logging.getLogger("demo_shop.coupons")

# How many "こちらもおすすめ" products the cart page suggests.
SUGGESTIONS = 4


def _quantity(text: str | None, lowest: int) -> int:
    try:
        quantity = int(text or "")
    except ValueError:
        raise HTTPException(400) from None
    if not lowest <= quantity <= MAX_QUANTITY:
        raise HTTPException(400)
    return quantity


async def cart_page(request: Request) -> Response:
    cart = read_cart(request.session)
    in_cart = {line.product.slug for line in cart.lines}
    suggestions = {}
    for line in cart.lines:
        for pair in pairs_for(line.product):
            if pair.slug not in in_cart:
                suggestions.setdefault(pair.slug, pair)
    added = product_by_slug(request.query_params.get("added", ""))
    return render(
        request,
        "cart.html",
        {"added": added, "suggestions": list(suggestions.values())[:SUGGESTIONS]},
    )


async def cart_add(request: Request) -> Response:
    form = await read_form(request)
    product = product_by_slug(form.get("slug", ""))
    if product is None:
        raise HTTPException(404)
    size = form.get("size", "")
    if size not in product.sizes:
        raise HTTPException(400)
    add_to_cart(request.session, product, size, _quantity(form.get("quantity", "1"), 1))
    tracking.queue(request.session, tracking.add_to_cart(product))
    return RedirectResponse(f"/cart?added={product.slug}", status_code=303)


async def cart_update(request: Request) -> Response:
    form = await read_form(request)
    try:
        index = int(form.get("line", ""))
    except ValueError:
        raise HTTPException(400) from None
    set_quantity(request.session, index, _quantity(form.get("quantity"), 0))
    return RedirectResponse("/cart", status_code=303)


async def checkout_page(request: Request) -> Response:
    return render(request, "checkout.html", {"coupon": "", "coupon_problem": None})


async def checkout_submit(request: Request) -> Response:
    cart = read_cart(request.session)
    if not cart.lines:
        return RedirectResponse("/cart", status_code=303)
    form = await read_form(request)
    code = "" if form.get("without_coupon") else form.get("coupon", "").strip()
    coupon = None
    if code:
        redeemer: CouponRedeemer = request.app.state.coupons
        verdict = await redeemer.redeem(code)
        discount = DISCOUNTS.get(verdict.pool)
        if verdict.outcome != "valid" or discount is None:
            # Not placed: the buyer fixes the code, or orders without it.
            problem = verdict.outcome
            if verdict.outcome == "valid":
                problem = "not_here"
                log.warning("coupon %r redeemed, but the shop has no discount for its pool %r", code, verdict.pool)
            # 422 when the code is wrong; when it could not be checked the page is the checkout as usual.
            status = 200 if problem == "unavailable" else 422
            return render(request, "checkout.html", {"coupon": code, "coupon_problem": problem}, status_code=status)
        coupon = {"code": code, "label": discount.label, "amount": discount.amount(cart)}
    total = cart.total - (coupon["amount"] if coupon else 0)
    order = {
        "number": f"IR-{secrets.randbelow(900000) + 100000}",
        "item_count": cart.item_count,
        "subtotal": cart.value,
        "shipping": cart.shipping,
        "coupon": coupon,
        "total": total,
    }
    request.session["last_order"] = order
    empty_cart(request.session)
    tracking.queue(request.session, tracking.purchase(total))
    return RedirectResponse("/checkout/thanks", status_code=303)


async def thanks_page(request: Request) -> Response:
    order = request.session.get("last_order")
    if order is None:
        return RedirectResponse("/", status_code=303)
    return render(request, "thanks.html", {"order": order})
