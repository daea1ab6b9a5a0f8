"""Who is asking, in the console: the signed-in operator, CSRF, sign-in limits and site access.

- :func:`signed_in` / :func:`operator_of`: the session the cookie names and its operator, read
  again from the store on every request (an operator removed or taken off a site loses access
  at once). Pages redirect to /console/login without one; the JSON API answers 401.
- :func:`require_csrf`: every state-changing request carries the session's CSRF token, in the
  header ``X-CSRF-Token`` or the form field ``csrf``, compared in constant time; 403 without.
  The sign-in form, before any session, carries a token of its own that a signed cookie vouches
  for (double submit), so another site cannot sign a browser into an account of its choosing.
- :func:`count_sign_in`: at most SIGN_INS_PER_ACCOUNT attempts per email and
  SIGN_INS_PER_ADDRESS per client address in SIGN_IN_WINDOW seconds, counted with the store's
  ``hit`` so every process shares them; beyond it 429 with Retry-After. Counted before the
  password is checked, whatever the outcome, so a burst in parallel gets no more tries.
- :func:`require_site`: 403 when the operator is not on the site.
- :func:`is_admin` / :func:`require_admin`: the marketer's pages (rules, results, overview,
  preview) are for operators with the ``admin`` role; 403 for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

from server.console.accounts import Accounts, Operator
from server.console.sessions import COOKIE, Session, Sessions
from server.constant_time import same_secret
from server.ratelimits import RateLimited
from server.web.address import client_address
from server.web.errors import Refusal
from server.web.services import services

SIGN_IN_WINDOW = 300
SIGN_INS_PER_ACCOUNT = 5
SIGN_INS_PER_ADDRESS = 30  # an office behind one address has several operators
LIMITS_SITE = "operators"  # the hit counters' namespace (keys.hits): accounts belong to no one site
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
_SIGNED_IN = "irasshai.console.signed_in"  # request.scope cache: (session, operator) or None
_FORM = "irasshai.console.form"  # request.scope cache: the form's fields
MAX_FORM = 16 * 1024


async def form_fields(request: Request, limit: int = MAX_FORM) -> dict[str, str]:
    """The fields of an urlencoded form (the console's forms send nothing else); {} for any other
    body. Parsed here, with the standard library, rather than adding python-multipart for it.
    A form larger than `limit` bytes is refused with 413 (the preview's steps need more room)."""
    if _FORM in request.scope:
        return request.scope[_FORM]
    fields: dict[str, str] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Refusal(f"form larger than {limit} bytes", 413)
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise Refusal("form is not valid urlencoded UTF-8", 400) from None
        fields = {name: value for name, value in reversed(pairs)}  # the first of a repeated field wins
    request.scope[_FORM] = fields
    return fields


@dataclass(frozen=True)
class Console:
    """What the console's endpoints share, built once by create_app."""

    accounts: Accounts
    sessions: Sessions


def console(request: Request) -> Console:
    return request.app.state.console


async def signed_in(request: Request) -> tuple[Session, Operator] | None:
    """The request's live session and its operator; None when not signed in (or no longer an operator)."""
    if _SIGNED_IN in request.scope:
        return request.scope[_SIGNED_IN]
    found = None
    state = console(request)
    session = await state.sessions.find(request.cookies.get(COOKIE))
    if session is not None:
        operator = await state.accounts.get(session.email)
        if operator is not None and operator.sites:
            found = (session, operator)
    request.scope[_SIGNED_IN] = found
    return found


async def operator_of(request: Request) -> Operator:
    """The signed-in operator; Refusal 401 when there is none (the JSON API's answer)."""
    found = await signed_in(request)
    if found is None:
        raise Refusal("not signed in to the console; sign in at /console/login", 401)
    return found[1]


async def require_csrf(request: Request, session: Session) -> None:
    """Refusal 403 unless the request carries `session`'s CSRF token (header or form field)."""
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        token = (await form_fields(request)).get(CSRF_FIELD)
    if not token or not same_secret(token, session.csrf):
        raise Refusal("missing or wrong CSRF token; reload the console page and try again", 403)


def require_login_csrf(request: Request, token: str) -> None:
    """Refusal 403 unless the sign-in form's token matches the one its cookie vouches for."""
    expected = console(request).sessions.login_token_of(request.cookies.get("irasshai_console_login"))
    if not expected or not token or not same_secret(token, expected):
        raise Refusal("the sign-in form has expired or did not come from this server; reload it and try again", 403)


async def count_sign_in(request: Request, email: str) -> None:
    """Count one sign-in attempt for `email` and the client address; RateLimited beyond the limits."""
    store = console(request).accounts.store
    address = client_address(request, services(request).trusted_proxies)
    waits = []
    for counter, limit in (
        (f"sign-in:{email[:254]}", SIGN_INS_PER_ACCOUNT),
        (f"sign-in@{address}", SIGN_INS_PER_ADDRESS),
    ):
        [(hits, ttl)] = await store.hit(LIMITS_SITE, counter, (SIGN_IN_WINDOW,))
        if hits > limit:
            waits.append(ttl)
    if waits:
        raise RateLimited(f"too many sign-in attempts; retry in {max(waits)} s", max(max(waits), 1), "sign_in")


def require_site(operator: Operator, site_key: str) -> None:
    """Refusal 403 when `operator` is not on the site `site_key`."""
    if not operator.on(site_key):
        raise Refusal(f"operator {operator.email} is not on site '{site_key[:64]}'", 403)


def is_admin(operator: Operator) -> bool:
    return operator.role == "admin"


def require_admin(operator: Operator) -> None:
    """Refusal 403 unless `operator` has the admin role (the rules, results and preview)."""
    if not is_admin(operator):
        raise Refusal(f"operator {operator.email} is not an admin; rules and results are for admins", 403)
