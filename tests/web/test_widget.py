"""GET /widget.js: compressed, cacheable, revalidated with an ETag, loadable cross-origin."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.testclient import TestClient

from server.web.widget import minified_script, minified_styles
from tests.helpers import make_app, write_site


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        yield client


def test_the_widget_is_served_as_javascript_with_caching_headers(client):
    response = client.get("/widget.js", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.content == minified_script()
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["etag"]
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"


@pytest.mark.parametrize("encoding, decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_the_widget_is_compressed_when_the_browser_accepts_it(client, encoding, decompress):
    with client.stream("GET", "/widget.js", headers={"accept-encoding": encoding}) as response:
        assert response.headers["content-encoding"] == encoding
        raw = b"".join(response.iter_raw())
    assert len(raw) < len(minified_script()) / 2
    assert decompress(raw) == minified_script()


def test_a_matching_etag_gets_304_without_a_body(client):
    etag = client.get("/widget.js").headers["etag"]
    response = client.get("/widget.js", headers={"if-none-match": etag})
    assert response.status_code == 304 and response.content == b""


def test_the_styles_are_served_minified_as_css(client):
    response = client.get("/widget.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert response.content == minified_styles() and b"/*" not in response.content


def test_everything_a_visitor_downloads_before_an_engagement_is_at_most_6_kb_gzip():
    """The size budget of PRODUCT.md: script and styles together, gzip level 9."""
    import gzip as gz

    total = len(gz.compress(minified_script(), 9)) + len(gz.compress(minified_styles(), 9))
    assert total <= 6 * 1024, f"widget is {total} bytes gzip; the budget is 6144"
