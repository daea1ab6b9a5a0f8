"""GET /widget.js, /ui.js, /chat.js, /widget.css, /chat.css: compressed, cacheable, revalidated with an ETag, loadable
cross-origin (ui.js and chat.js as modules: with CORS), and within their size budgets (docs/engagements.md)."""

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


def test_the_ui_part_is_served_as_a_module_the_sites_shops_may_import(client):
    """widget.js imports ui.js from the server's origin into the shop's page: a CORS request,
    answered with that origin when a site lists it, never '*', and nothing for another origin."""
    response = client.get("/ui.js", headers={"accept-encoding": "identity", "origin": "https://shop.example"})
    assert response.status_code == 200 and response.content == minified_script(name="ui.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert "Origin" in response.headers["vary"]
    for other in ("https://evil.example", "null"):
        refused = client.get("/ui.js", headers={"origin": other})
        assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
    assert response.content.startswith(b"/*! Irasshai widget UI") and b"export default function" in response.content


def gzipped(content: bytes) -> int:
    return len(gzip.compress(content, 9))


def test_what_every_page_downloads_is_at_most_6_kb_gzip():
    """The size budget of PRODUCT.md, gzip level 9: widget.js alone, as no page needs more before an engagement."""
    size = gzipped(minified_script())
    assert size <= 6 * 1024, f"widget.js is {size} bytes gzip; the budget is 6144"


def test_what_the_first_engagement_downloads_is_at_most_6_kb_gzip():
    """The engagement UI's own budget (docs/engagements.md): ui.js and widget.css together, gzip level 9."""
    size = gzipped(minified_script(name="ui.js")) + gzipped(minified_styles())
    assert size <= 6 * 1024, f"ui.js and widget.css are {size} bytes gzip; their budget is 6144"


def test_what_the_first_chat_downloads_is_at_most_6_kb_gzip():
    """The chat part's own budget (docs/engagements.md): chat.js and chat.css together, gzip level 9."""
    size = gzipped(minified_script(name="chat.js")) + gzipped(minified_styles(name="chat.css"))
    assert size <= 6 * 1024, f"chat.js and chat.css are {size} bytes gzip; their budget is 6144"


@pytest.mark.parametrize("name, media_type", [("chat.js", "text/javascript"), ("chat.css", "text/css")])
def test_the_chat_part_is_served_like_the_ui_part(client, name, media_type):
    response = client.get("/" + name, headers={"accept-encoding": "identity", "origin": "https://shop.example"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert response.content == (minified_script(name=name) if name.endswith(".js") else minified_styles(name=name))
