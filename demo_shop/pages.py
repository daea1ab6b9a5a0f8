"""Browsing pages: home, categories, products, pricing, and the drawn product pictures."""

from __future__ import annotations

from html import escape

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from demo_shop import tracking
from demo_shop.catalog import CATEGORIES, PLANS, featured_products, pairs_for, product_by_slug, products_in
from demo_shop.garments import garment_svg
from demo_shop.rendering import render

ERROR_TITLES = {
    400: "入力内容を確認してください",
    404: "ページが見つかりません",
    405: "この操作はできません",
}


async def home(request: Request) -> Response:
    return render(request, "home.html", {"featured": featured_products()})


async def category(request: Request) -> Response:
    found = CATEGORIES.get(request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    return render(request, "category.html", {"category": found, "products": products_in(found.slug)})


async def product(request: Request) -> Response:
    found = product_by_slug(request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    return render(
        request,
        "product.html",
        {"product": found, "category": CATEGORIES[found.category], "pairs": pairs_for(found)},
        page_calls=[tracking.view_product(found)],
    )


async def pricing(request: Request) -> Response:
    return render(request, "pricing.html", {"plans": PLANS})


async def product_image(request: Request) -> Response:
    found = product_by_slug(request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    svg = garment_svg(found.garment, found.colour, escape(found.name))
    # The drawing changes only with the code, so browsers may keep it for a day.
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


async def error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = render(
        request,
        "error.html",
        {"status_code": exc.status_code, "title": ERROR_TITLES.get(exc.status_code, "エラーが発生しました")},
        status_code=exc.status_code,
        take_queued_calls=False,
    )
    # Keeps, for instance, the Allow header of a 405.
    response.headers.update(exc.headers or {})
    return response
