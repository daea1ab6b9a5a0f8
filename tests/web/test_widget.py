"""GET /widget.js: compressed, cacheable, revalidated with an ETag, loadable cross-origin."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.testclient import TestClient

from server.web.widget import WIDGET_PATH
from tests.helpers import make_app, write_site


@pytest.fixture
def client(tmp_path):
    write_site(tmp_path)
    with TestClient(make_app(tmp_path)) as client:
        yield client


def test_the_widget_is_served_as_javascript_with_caching_headers(client):
    response = client.get("/widget.js", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.content == WIDGET_PATH.read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["etag"]
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"


@pytest.mark.parametrize("encoding, decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_the_widget_is_compressed_when_the_browser_accepts_it(client, encoding, decompress):
    with client.stream("GET", "/widget.js", headers={"accept-encoding": encoding}) as response:
        assert response.headers["content-encoding"] == encoding
        raw = b"".join(response.iter_raw())
    assert len(raw) < len(WIDGET_PATH.read_bytes()) / 2
    assert decompress(raw) == WIDGET_PATH.read_bytes()


def test_a_matching_etag_gets_304_without_a_body(client):
    etag = client.get("/widget.js").headers["etag"]
    response = client.get("/widget.js", headers={"if-none-match": etag})
    assert response.status_code == 304 and response.content == b""
