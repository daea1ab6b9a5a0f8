"""The console's JSON about visitors: who is on the site, one visitor's panel, canned replies,
and a proactive message to a visitor.

Every route is for a signed-in operator of the site (401 without a session, 403 for another
site); a visitor the site does not have is 404, so another site's visitor is never shown. The
POST carries the session's CSRF token (403 without). Routes are under /console/api/sites/{site}
(docs/console.md).
"""

from __future__ import annotations

import json
import re

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.console.auth import operator_of, require_csrf, require_site, signed_in
from server.console.profile import profile
from server.sites import Site
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # server/identity.py issues urlsafe base64 ids
MAX_BODY = 16 * 1024
MAX_MESSAGE = 2000  # as a chat message (server/chat/service.py)


async def _site(request: Request) -> Site:
    operator = await operator_of(request)
    key = request.path_params["site"]
    require_site(operator, key)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    return site


def _visitor(request: Request, site: Site) -> str:
    visitor = request.path_params["visitor"]
    if not VISITOR_ID.match(visitor):
        raise Refusal(f"no visitor '{visitor[:64]}' on site '{site.key}'", 404)
    return visitor


def _json(data: object) -> Response:
    return json_reply(msgspec.to_builtins(data))


async def live_visitors(request: Request) -> Response:
    site = await _site(request)
    found = await services(request).live_visitors.live(site.key)
    return _json({"visitors": found})


async def visitor_panel(request: Request) -> Response:
    site = await _site(request)
    visitor = _visitor(request, site)
    found = await profile(services(request).store, site, visitor, services(request).clock())
    if found is None:
        raise Refusal(f"no visitor '{visitor}' on site '{site.key}'", 404)
    return _json(found)


async def canned_replies(request: Request) -> Response:
    site = await _site(request)
    replies = services(request).live.config.replies.get(site.key, ())
    return _json({"language": site.language, "replies": replies})


async def send_message(request: Request) -> Response:
    """A proactive message: shown to the visitor as an invitation from this operator to chat."""
    site = await _site(request)
    session, operator = await signed_in(request)  # signed in: _site checked
    await require_csrf(request, session)
    visitor = _visitor(request, site)
    text = await _text(request)
    store = services(request).store
    blob, _ = await store.load_visitor(site.key, visitor)
    if blob is None:
        raise Refusal(f"no visitor '{visitor}' on site '{site.key}'", 404)
    # Assigned by email, as round-robin assignment records operators, so a reply comes back to them.
    sent = await services(request).chat.proactive(site, visitor, operator.name, text, assignee=operator.email)
    return json_reply({"sent": True, "result": msgspec.to_builtins(sent) if sent is not None else None})


async def _text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refusal(f"body larger than {MAX_BODY} bytes", 413)
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError):
        raise Refusal('body must be JSON such as {"text": "…"}', 400) from None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise Refusal("'text' must be the message to send, not empty", 400)
    if len(text) > MAX_MESSAGE:
        raise Refusal(f"'text' is {len(text)} characters long; the limit is {MAX_MESSAGE}", 400)
    return text.strip()


ROUTES = [
    Route("/console/api/sites/{site}/visitors", live_visitors, methods=["GET"]),
    Route("/console/api/sites/{site}/visitors/{visitor}", visitor_panel, methods=["GET"]),
    Route("/console/api/sites/{site}/visitors/{visitor}/message", send_message, methods=["POST"]),
    Route("/console/api/sites/{site}/replies", canned_replies, methods=["GET"]),
]
