"""Every route, sent hostile input (docs/reliability.md, "Abuse").

Reflection: a marker holding ``<script>`` and an attribute breakout goes into every route's path
parameters, query, body (JSON and form) and headers, signed out and signed in to the console
as an admin; no response is HTML with the marker in it raw, a redirect never points at it, and a
JSON reply that quotes it says ``application/json`` with ``X-Content-Type-Options: nosniff``,
so no browser reads it as a page.

CORS: for every route, a request from an origin no site allows, or from ``Origin: null``, never
gets ``Access-Control-Allow-Origin: *`` or its own origin back; the widget's routes answer a
site's origin with exactly that origin and ``Vary: Origin``.
"""

from __future__ import annotations

import json
import re

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tests.console.helpers import add_operator, csrf_of, sign_in
from tests.helpers import SHOP, make_app, write_site

MARK = "<script>__xss(1)</script>\"'><img src=x onerror=__xss(2)>"
PATH_MARK = "\"'><img src=x onerror=__xss(2)>"  # no '/': a path parameter holds none
RAW = ("<script>__xss", "<img src=x onerror")
SECRET = "operator-secret-0123456789"
STREAMS = ("/v1/sites/{site}/stream", "/console/sites/{site}/stream")  # a good request would stay open
WIDGET_ROUTES = ("/v1/sites/{site}/events", "/v1/sites/{site}/chat", "/v1/sites/{site}/line/link")


@pytest.fixture
def app(tmp_path):
    write_site(tmp_path, "shop", f"origins: [{SHOP}]\ntimezone: Asia/Tokyo\nlauncher: true\n")
    app = make_app(tmp_path, site_secrets=f"shop={SECRET}")
    add_operator(app.state.services.store, "shop", "admin@example.com", "correct horse", role="admin")
    return app


def routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route; a mount's files by one path."""
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
        elif isinstance(route, Mount):
            found.append(("GET", route.path + "/{path}"))
    return found


def paths(template: str) -> list[str]:
    """The template with every parameter the marker, and (for a site) with the real site too."""
    marked = re.sub(r"\{[^}]+\}", PATH_MARK, template)
    real = template.replace("{site}", "shop")
    if "{site}" in template and template not in STREAMS:
        return [marked, re.sub(r"\{[^}]+\}", PATH_MARK, real)]
    return [marked]


def requests(client: TestClient, method: str, path: str, csrf: str = "", origin: str = SHOP):
    headers = {
        "origin": origin,
        "referer": f"{SHOP}/{MARK}",
        "user-agent": MARK,
        "accept-language": MARK,
        "x-forwarded-for": MARK,
        "authorization": f"Bearer {MARK}",
        "last-event-id": MARK,
        "x-line-signature": MARK,
    }
    if csrf:
        headers["x-csrf-token"] = csrf
    query = {"q": MARK, "status": MARK, "after": MARK, "day": MARK, "ticket": MARK, "next": MARK, MARK: MARK}
    if method in ("GET", "OPTIONS"):
        yield client.request(method, path, params=query, headers=headers, follow_redirects=False)
        return
    fields = {
        "visitor": MARK,
        "text": MARK,
        "name": MARK,
        "email": MARK,
        "password": MARK,
        "language": MARK,
        "status": MARK,
        "rule": MARK,
        "steps": MARK,
        "delivery": MARK,
        "endpoint": MARK,
        "code": MARK,
        "csrf": csrf or MARK,
        "do": {"type": "say", "id": "client-0001", "text": MARK},
        "events": [{"type": "track", "id": MARK, "ts": 1, "name": MARK, "properties": {MARK: MARK}}],
    }
    yield client.request(
        method, path, params=query, content=json.dumps(fields), headers=headers, follow_redirects=False
    )
    form = {name: value for name, value in fields.items() if isinstance(value, str)}
    yield client.request(
        method,
        path,
        params=query,
        data=form,
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


quoted = [0]  # answers that quoted the marker (in JSON): the test reaches the code that quotes input


def reflections(client: TestClient, csrf: str = "") -> tuple[list[str], int]:
    found, sent = [], 0
    for method, template in routes(client.app):
        for path in paths(template):
            for response in requests(client, method, path, csrf):
                sent += 1
                where = f"{method} {template} -> {response.status_code}"
                kind = response.headers.get("content-type", "")
                body = response.text
                if any(raw in response.headers.get("location", "") for raw in RAW):
                    found.append(f"{where}: redirect to the marker")
                if not any(raw in body for raw in RAW):
                    continue
                quoted[0] += 1
                if not kind.startswith("application/json"):
                    found.append(f"{where}: the marker raw in a {kind or 'untyped'} body")
                elif response.headers.get("x-content-type-options") != "nosniff":
                    found.append(f"{where}: the marker in JSON without nosniff")
    return found, sent


def test_no_route_reflects_input_as_html(app):
    with TestClient(app) as client:
        signed_out, sent = reflections(client)
        assert sign_in(client, "admin@example.com", "correct horse").status_code == 303
        csrf = csrf_of(client.get("/console/sites/shop").text)
        signed_in, sent_signed_in = reflections(client, csrf)
    assert sent > 100 and sent_signed_in > 100 and quoted[0] >= 10  # many answers do quote it: as JSON
    assert signed_out == [] and signed_in == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://shop.example.evil.example"])
def test_no_route_allows_an_origin_no_site_lists(app, origin):
    with TestClient(app) as client:
        assert sign_in(client, "admin@example.com", "correct horse").status_code == 303
        csrf = csrf_of(client.get("/console/sites/shop").text)
        answered = []
        for method, template in routes(app):
            for path in paths(template) + [template.replace("{site}", "shop").replace("{", "").replace("}", "")]:
                if template in STREAMS and "shop" in path:
                    continue
                for response in requests(client, method, path, csrf, origin=origin):
                    allowed = response.headers.get("access-control-allow-origin")
                    if allowed is not None:
                        answered.append(f"{method} {template}: {allowed}")
    assert answered == []


def test_the_widget_routes_answer_a_sites_origin_with_exactly_it(app):
    with TestClient(app) as client:
        for template in WIDGET_ROUTES:
            path = template.replace("{site}", "shop")
            for method in ("POST", "OPTIONS"):
                response = client.request(method, path, content=b"{}", headers={"origin": SHOP})
                assert response.headers["access-control-allow-origin"] == SHOP, (method, path)
                assert "Origin" in response.headers["vary"], (method, path)
        for asset in ("/widget.js", "/ui.js", "/chat.js", "/widget.css", "/chat.css"):
            response = client.get(asset, headers={"origin": SHOP})
            assert response.headers["access-control-allow-origin"] == SHOP and "Origin" in response.headers["vary"]
        stream = client.get("/v1/sites/shop/stream?ticket=nope", headers={"origin": SHOP})
        assert stream.headers["access-control-allow-origin"] == SHOP and "Origin" in stream.headers["vary"]
