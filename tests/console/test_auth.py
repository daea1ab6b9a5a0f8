"""Who may see what in the console (docs/console.md, Security).

An operator sees only their own sites: `require_site` refuses another site with 403, and so does
the shell page of that site; the JSON API's `operator_of` answers 401 without a session. Every
/console response, a page, a static file, an error or a redirect, carries the security headers
(strict CSP, never framed, never cached, no Referer to other sites); other paths do not.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.console.accounts import Operator
from server.console.auth import require_site
from server.console.web.headers import CSP
from server.web.errors import Refusal
from tests.console.helpers import add_operator, console_app, sign_in


def test_require_site_refuses_a_site_the_operator_is_not_on():
    operator = Operator(email="a@example.com", name="A", sites=("shop-a",))
    require_site(operator, "shop-a")
    with pytest.raises(Refusal) as refused:
        require_site(operator, "shop-b")
    assert refused.value.status == 403 and "not on site 'shop-b'" in str(refused.value)


def test_an_operator_of_site_a_cannot_open_site_b(tmp_path):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "a@example.com", "pw-a")
    add_operator(store, "shop-b", "b@example.com", "pw-b")
    client = TestClient(app, base_url="http://testserver")
    sign_in(client, "a@example.com", "pw-a")
    assert client.get("/console/sites/shop-a").status_code == 200
    for path in ("/console/sites/shop-b", "/console/sites/shop-b/visitors"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 403 and "not on site 'shop-b'" in answer.json()["error"]
    # Asking the switcher for another site lands on one's own.
    assert client.get("/console?site=shop-b", follow_redirects=False).headers["location"] == "/console/sites/shop-a"


def test_an_operator_of_two_sites_gets_a_switcher_with_only_theirs(tmp_path):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "both@example.com", "pw")
    add_operator(store, "shop-b", "both@example.com", "")  # existing account: site added, password kept
    client = TestClient(app, base_url="http://testserver")
    assert sign_in(client, "both@example.com", "pw").status_code == 303
    page = client.get("/console/sites/shop-b")
    assert 'id="site-select"' in page.text
    assert '<option value="shop-a">' in page.text and '<option value="shop-b" selected>' in page.text
    assert client.get("/console?site=shop-b", follow_redirects=False).headers["location"] == "/console/sites/shop-b"


def test_every_console_response_carries_the_security_headers(tmp_path):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "a@example.com", "pw-a")
    client = TestClient(app, base_url="http://testserver")
    answers = [
        client.get("/console", follow_redirects=False),  # redirect
        client.get("/console/login"),
        client.get("/console/static/console.css"),
        client.get("/console/static/console.js"),
        client.get("/console/static/missing.js"),  # 404
        client.post("/console/login", data={"email": "x"}),  # 403
        sign_in(client, "a@example.com", "pw-a"),
        client.get("/console/sites/shop-a"),
        client.get("/console/sites/shop-b"),  # 403
    ]
    for answer in answers:
        where = f"{answer.request.method} {answer.request.url.path} ({answer.status_code})"
        assert answer.headers["content-security-policy"] == CSP, where
        assert answer.headers["x-frame-options"] == "DENY", where
        assert answer.headers["cache-control"] == "no-store", where
        assert answer.headers["referrer-policy"] == "same-origin", where
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert "content-security-policy" not in client.get("/healthz").headers


def test_the_console_pages_have_no_inline_script_or_style(tmp_path):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "a@example.com", "pw-a")
    client = TestClient(app, base_url="http://testserver")
    pages = [client.get("/console/login").text]
    sign_in(client, "a@example.com", "pw-a")
    pages.append(client.get("/console/sites/shop-a").text)
    for text in pages:
        assert "<script>" not in text and "style=" not in text and "<style" not in text and "onclick" not in text


def test_an_operator_name_is_shown_as_text_never_as_html(tmp_path):
    app, store, _ = console_app(tmp_path)
    add_operator(store, "shop-a", "a@example.com", "pw-a", name="<img src=x onerror=alert(1)>")
    client = TestClient(app, base_url="http://testserver")
    sign_in(client, "a@example.com", "pw-a")
    page = client.get("/console/sites/shop-a").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
