"""Signing in to the console (docs/console.md, Accounts and sign-in).

The right email and password start a server-side session (an HttpOnly, SameSite=Lax cookie on
/console) and lead to the shell; a wrong password and an unknown email get the very same answer;
the 6th fast attempt on one account gets 429 with Retry-After; the sign-in form needs its own
token; signing out needs the session's CSRF token and ends the session on the server, so the
old cookie no longer works; a session unused for IRASSHAI_CONSOLE_IDLE seconds is over.
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from server.console.sessions import COOKIE
from tests.console.helpers import add_operator, console_app, csrf_of, login_token, sign_in


@pytest.fixture
def setup(tmp_path):
    app, store, clock = console_app(tmp_path)
    add_operator(store, "shop-a", "hanako@example.com", "correct horse", name="Hanako")
    return app, store, clock


def client_of(app) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def test_the_right_password_signs_in_with_a_safe_cookie_and_shows_the_shell(setup):
    app, _, _ = setup
    client = client_of(app)
    answer = sign_in(client, "Hanako@Example.com ", "correct horse")
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here; over https it is Secure (next test)
    shell = client.get("/console")
    assert shell.url.path == "/console/sites/shop-a"
    assert "Hanako" in shell.text and 'href="/console/sites/shop-a/visitors"' in shell.text


def test_the_cookie_is_secure_over_https(setup):
    app, _, _ = setup
    client = TestClient(app, base_url="https://testserver")
    answer = sign_in(client, "hanako@example.com", "correct horse")
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith(COOKIE + "="))
    assert "Secure" in cookie


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(setup):
    app, _, _ = setup
    client = client_of(app)
    token = login_token(client)
    wrong = sign_in(client, "hanako@example.com", "wrong", token)
    unknown = sign_in(client, "nobody@example.com", "wrong", token)
    assert wrong.status_code == unknown.status_code == 401
    assert COOKIE not in client.cookies
    # The pages differ only in the email typed, which is shown again in the form.
    assert wrong.text.replace("hanako@example.com", "E") == unknown.text.replace("nobody@example.com", "E")
    assert "Wrong email or password." in wrong.text


def test_the_sixth_fast_attempt_on_one_account_gets_429_with_retry_after(setup):
    app, _, _ = setup
    client = client_of(app)
    token = login_token(client)
    for _ in range(5):
        assert sign_in(client, "hanako@example.com", "guess", token).status_code == 401
    sixth = sign_in(client, "hanako@example.com", "correct horse", token)
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["retry-after"]) <= 300
    assert "Too many sign-in attempts" in sixth.text


def test_the_limit_counts_per_address_too(setup):
    app, _, _ = setup
    client = client_of(app)
    token = login_token(client)
    answers = [sign_in(client, f"guess{n}@example.com", "guess", token).status_code for n in range(31)]
    assert answers[:30] == [401] * 30 and answers[30] == 429


def test_the_sign_in_form_needs_its_own_token(setup):
    app, _, _ = setup
    client = client_of(app)
    login_token(client)
    answer = client.post(
        "/console/login", data={"email": "hanako@example.com", "password": "correct horse"}, follow_redirects=False
    )
    assert answer.status_code == 403
    forged = client_of(app).post(
        "/console/login",
        data={"email": "hanako@example.com", "password": "correct horse", "csrf": "made-up"},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def test_sign_out_without_the_csrf_token_is_refused(setup):
    app, _, _ = setup
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    answer = client.post("/console/logout", follow_redirects=False)
    assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    wrong = client.post("/console/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 303  # still signed in: to the shell
    assert client.get("/console/sites/shop-a").status_code == 200


def test_sign_out_ends_the_session_on_the_server(setup):
    app, _, _ = setup
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    shell = client.get("/console/sites/shop-a")
    old_cookie = client.cookies[COOKIE]
    out = client.post("/console/logout", data={"csrf": csrf_of(shell.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/console/login")
    replay = client_of(app)
    replay.cookies.set(COOKIE, old_cookie, path="/console")
    again = replay.get("/console/sites/shop-a", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/login"


def test_the_csrf_header_works_as_well_as_the_form_field(setup):
    app, _, _ = setup
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    token = csrf_of(client.get("/console/sites/shop-a").text)
    answer = client.post("/console/logout", headers={"x-csrf-token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"


def test_a_session_unused_for_the_idle_time_is_over_and_use_keeps_it_alive(tmp_path):
    app, store, clock = console_app(tmp_path, console_idle=3600)
    add_operator(store, "shop-a", "hanako@example.com", "correct horse")
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    for _ in range(3):  # used every 50 minutes: three hours and more, still signed in
        clock.now += 3000
        assert client.get("/console/sites/shop-a", follow_redirects=False).status_code == 200
    clock.now += 3601
    gone = client.get("/console/sites/shop-a", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/console/login"


def test_without_a_session_pages_redirect_to_the_sign_in_page(setup):
    app, _, _ = setup
    client = client_of(app)
    for path in ("/console", "/console/sites/shop-a", "/console/sites/shop-a/visitors"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    client.cookies.set(COOKIE, "made-up.signature", path="/console")
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"


def test_a_removed_operator_loses_access_at_once(setup):
    import asyncio

    from server.console.accounts import Accounts

    app, store, _ = setup
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    assert client.get("/console/sites/shop-a").status_code == 200
    asyncio.run(Accounts(store).remove("shop-a", "hanako@example.com"))
    assert client.get("/console/sites/shop-a", follow_redirects=False).headers["location"] == "/console/login"


def test_the_operator_chooses_the_console_language(setup):
    app, _, _ = setup
    client = client_of(app)
    sign_in(client, "hanako@example.com", "correct horse")
    shell = client.get("/console/sites/shop-a")
    assert "受信箱" in shell.text and '<html lang="ja">' in shell.text
    answer = client.post(
        "/console/account/language",
        data={"csrf": csrf_of(shell.text), "language": "en", "next": "/console/sites/shop-a/visitors"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console/sites/shop-a/visitors"
    english = client.get("/console/sites/shop-a/visitors")
    assert "Live visitors" in english.text and '<html lang="en">' in english.text
    elsewhere = client.post(
        "/console/account/language",
        data={"csrf": csrf_of(english.text), "language": "ja", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/console"  # never an open redirect
    bad = client.post("/console/account/language", data={"csrf": csrf_of(english.text), "language": "fr"})
    assert bad.status_code == 400 and re.search("language 'fr'", bad.json()["error"])
