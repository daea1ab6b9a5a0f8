"""create_app (server/app.py): routes as declared, nothing more.

A path with a trailing slash is not redirected to the path without it: the redirect would
be built from the request's Host header, which a caller controls. It is a plain JSON 404.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers import SHOP, batch, make_app, page_view, write_site


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/sites/shop/stats/"),
        ("POST", "/v1/sites/shop/events/"),
        ("POST", "/v1/coupons/redeem/"),
        ("GET", "/readyz/"),
    ],
)
def test_a_trailing_slash_is_a_404_never_a_redirect_to_the_host_header(tmp_path, method, path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path), base_url="http://irasshai.example") as client:
        response = client.request(
            method,
            path,
            content=batch(page_view("/")),
            follow_redirects=False,
            headers={"host": "evil.example", "origin": SHOP},
        )
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    assert "location" not in response.headers and "evil.example" not in response.text
