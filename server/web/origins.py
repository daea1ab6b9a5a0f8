"""Which requests from shop pages are let in: a known site, and an Origin on its allow-list.

Used by every endpoint the widget calls (events, chat, the live stream), before anything else,
so that a request from a page that is not allowed costs nothing and learns nothing.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from server.sites import Site
from server.web.errors import CORS, Refusal
from server.web.replies import cors_headers
from server.web.services import services

log = logging.getLogger("irasshai.web")


def allowed_site(request: Request) -> Site:
    """The site the request is for, once its Origin is on the site's allow-list; else a Refusal.

    The CORS headers for that origin go into the request's scope, so that every answer to it
    (errors included, see server.web.errors) can be read by the widget."""
    key = request.path_params["site"]
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    origin = request.headers.get("origin")
    if not site.allows(origin):
        reason = (
            "missing Origin header" if origin is None else f"origin '{origin[:200]}' is not allowed for site '{key}'"
        )
        log.info("refused events: %s", reason)
        raise Refusal(f"{reason}; allowed origins are listed in site.yaml", 403)
    request.scope[CORS] = cors_headers(origin)
    return site
