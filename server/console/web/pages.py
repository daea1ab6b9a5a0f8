"""The console's pages: sign-in, sign-out, and the shell the inbox and live visitors fill.

Rendered with Jinja2 (autoescaped: every name and text is shown as text, never as HTML) from
server/console/templates; the page's script and styles are server/console/static, served by
this server. Routes are under /console (docs/console.md).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server.console.accounts import MAX_EMAIL, MAX_PASSWORD, AccountError, Operator
from server.console.auth import (
    CSRF_FIELD,
    console,
    count_sign_in,
    form_fields,
    is_admin,
    require_csrf,
    require_login_csrf,
    require_site,
    signed_in,
)
from server.console.sessions import COOKIE, COOKIE_PATH, LOGIN_COOKIE, Session
from server.console.texts import inbox_texts, language_of, texts
from server.ratelimits import RateLimited
from server.web.errors import Refusal
from server.web.services import services

HERE = Path(__file__).resolve().parent.parent
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
PANEL_MODULES = ("visitor.js", "replies.js")  # the inbox loads each one present (docs/console.md)
LOGIN_TOKEN_TTL = 3600  # the sign-in form's cookie: an hour to fill the form in


def render(name: str, status: int = 200, headers: dict[str, str] | None = None, **context: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context), status_code=status, headers=headers)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(
    request: Request, status: int = 200, error: str = "", email: str = "", token: str | None = None, **extra
) -> HTMLResponse:
    """The sign-in form; keeps the form's token when re-shown after a mistake, else issues a new one."""
    sessions = console(request).sessions
    cookie = None
    if token is None:
        token, cookie = sessions.login_token()
    language = request.query_params.get("lang") or language_of(request.headers.get("accept-language", ""))
    response = render(
        "login.html",
        status,
        extra.get("headers"),
        t=texts(language),
        lang=language if language in ("ja", "en") else "en",
        csrf=token,
        error=error,
        email=email,
        notice=extra.get("notice", ""),
    )
    if cookie is not None:
        response.set_cookie(
            LOGIN_COOKIE,
            cookie,
            max_age=LOGIN_TOKEN_TTL,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
    return response


async def login_form(request: Request) -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse("/console", 303)
    notice = texts(language_of(request.headers.get("accept-language", "")))["signed_out"]
    return _login_page(request, notice=notice if request.query_params.get("bye") else "")


async def login(request: Request) -> Response:
    form = await form_fields(request)
    email = str(form.get("email", ""))[:MAX_EMAIL].strip().lower()
    password = str(form.get("password", ""))[: MAX_PASSWORD + 1]
    token = str(form.get(CSRF_FIELD, ""))
    require_login_csrf(request, token)
    words = texts(language_of(request.headers.get("accept-language", "")))
    try:
        await count_sign_in(request, email)
    except RateLimited as limited:
        message = words["too_many"].format(seconds=limited.retry_after)
        headers = {"retry-after": str(limited.retry_after)}
        return _login_page(request, 429, message, email, token, headers=headers)
    state = console(request)
    operator = await state.accounts.sign_in(email, password)
    if operator is None:
        return _login_page(request, 401, words["wrong"], email, token)
    _, cookie = await state.sessions.start(operator.email)
    response = RedirectResponse("/console", 303)
    response.set_cookie(COOKIE, cookie, path=COOKIE_PATH, httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


async def logout(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        return RedirectResponse("/console/login", 303)
    session, _ = found
    await require_csrf(request, session)
    await console(request).sessions.end(session)
    response = RedirectResponse("/console/login?bye=1", 303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=_secure(request))
    return response


async def home(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        return RedirectResponse("/console/login", 303)
    _, operator = found
    sites = services(request).live.config.sites
    mine = [key for key in operator.sites if key in sites] or list(operator.sites)
    wanted = request.query_params.get("site", "")  # the site switcher's choice
    return RedirectResponse(f"/console/sites/{wanted if wanted in mine else mine[0]}", 303)


async def shell(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        return RedirectResponse("/console/login", 303)
    session, operator = found
    key = request.path_params["site"]
    require_site(operator, key)
    if key not in services(request).live.config.sites:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    section = "visitors" if request.url.path.endswith("/visitors") else "inbox"
    return render(
        "inbox.html" if section == "inbox" else "shell.html",
        **shell_context(request, session, operator, key, section),
        words=inbox_texts(operator.language),
        modules=[name for name in PANEL_MODULES if (HERE / "static" / name).is_file()],
    )


def shell_context(request: Request, session: Session, operator: Operator, key: str, section: str) -> dict:
    """What shell.html needs around any section's page: the operator, their sites, the CSRF token."""
    sites = services(request).live.config.sites
    return {
        "t": texts(operator.language),
        "lang": operator.language,
        "operator": operator,
        "site": key,
        "sites": [name for name in operator.sites if name in sites],
        "section": section,
        "csrf": session.csrf,
        "here": request.url.path,
        "admin": is_admin(operator),
    }


async def set_language(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        raise Refusal("not signed in to the console; sign in at /console/login", 401)
    session, operator = found
    await require_csrf(request, session)
    form = await form_fields(request)
    try:
        await console(request).accounts.set_language(operator, str(form.get("language", "")))
    except AccountError as error:
        raise Refusal(str(error), 400) from None
    back = str(form.get("next", ""))
    # Only a console page of this server: never an open redirect.
    if not back.startswith("/console/") or back.startswith("//") or "\\" in back:
        back = "/console"
    return RedirectResponse(back, 303)


ROUTES = [
    Route("/console", home, methods=["GET"]),
    Route("/console/login", login_form, methods=["GET"]),
    Route("/console/login", login, methods=["POST"]),
    Route("/console/logout", logout, methods=["POST"]),
    Route("/console/account/language", set_language, methods=["POST"]),
    Route("/console/sites/{site}", shell, methods=["GET"]),
    Route("/console/sites/{site}/visitors", shell, methods=["GET"]),
    Mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static"),
]
