"""Product pictures (`demo_shop.garments`) are well-formed SVG documents of the 4:5 card size,
in the product's colour, for every garment kind; the route serves them as images."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from starlette.testclient import TestClient

from demo_shop.app import create_shop_app
from demo_shop.catalog import PRODUCTS
from demo_shop.garments import GARMENTS, garment_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_every_garment_draws_a_valid_svg_in_its_colour() -> None:
    for garment in sorted(GARMENTS):
        root = ElementTree.fromstring(garment_svg(garment, "#336699", "見本 &amp; 名前"))
        assert root.tag == f"{SVG}svg", garment
        assert root.get("viewBox") == "0 0 400 500"
        assert root.find(f"{SVG}title").text == "見本 & 名前"
        assert any(path.get("fill") == "#336699" for path in root.iter(f"{SVG}path")), garment


def test_product_images_are_served_as_cacheable_svg() -> None:
    client = TestClient(create_shop_app("http://127.0.0.1:8999"))
    for product in PRODUCTS:
        response = client.get(f"/img/products/{product.slug}.svg")
        assert response.status_code == 200, product.slug
        assert response.headers["content-type"] == "image/svg+xml"
        assert "max-age" in response.headers["cache-control"]
        ElementTree.fromstring(response.text)
