"""Which requests from shop pages are let in: a known site, and an Origin on its allow-list.

Used by every endpoint the widget calls (events, chat, the live stream), before anything else,
so that a request from a page that is not allowed costs nothing and learns nothing.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import Scope

from server.sites import Site
from server.web.errors import CORS, Refusal
from server.web.replies import cors_headers
from server.web.services import Services, services

log = logging.getLogger("irasshai.web")


def allowed_site(request: Request) -> Site:
    """The site the request is for, once its Origin is on the site's allow-list; else a Refusal.

    The CORS headers for that origin go into the request's scope, so that every answer to it
    (errors included, see server.web.errors) can be read by the widget."""
    return allowed(services(request), request.path_params["site"], request.headers.get("origin"), request.scope)


def allowed(shared: Services, key: str, origin: str | None, scope: Scope) -> Site:
    """:func:`allowed_site` for a plain ASGI endpoint: the site `key`, its request's `origin` and `scope`."""
    site = shared.live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    if not site.allows(origin):
        reason = (
            "missing Origin header" if origin is None else f"origin '{origin[:200]}' is not allowed for site '{key}'"
        )
        log.info("refused events: %s", reason)
        raise Refusal(f"{reason}; allowed origins are listed in site.yaml", 403)
    scope[CORS] = cors_headers(origin)
    return site
