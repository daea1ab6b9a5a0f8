"""One visitor's or one customer's data: export and deletion (docs/privacy.md).

For the shop's systems, authenticated with the site's secret like the stats (no CORS):

- ``GET    /v1/sites/{site}/privacy/visitors/{visitor}``: everything kept about the visitor, as JSON;
- ``DELETE /v1/sites/{site}/privacy/visitors/{visitor}``: all of it deleted;
- the same under ``/privacy/customers/{customer}``: every visitor a verified identify proved to be
  that customer.

For the widget, ``POST /v1/sites/{site}/forget`` with ``{"visitor": "<signed token>"}`` (text/plain,
no preflight): ``irasshai('consent', false)`` deletes the visitor's own data; the signed token
is the proof, as for their events.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.events import MAX_CUSTOMER_CHARS
from server.privacy.data import VisitorData
from server.sites import Site
from server.web.auth import require_site_secret
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.replies import json_reply
from server.web.services import services

MAX_VISITOR_CHARS = 200  # longer than any id the server issues, or a LINE user's
MAX_FORGET_BYTES = 1024


class ForgetRequest(msgspec.Struct, forbid_unknown_fields=True):
    visitor: str


def _site(request: Request) -> Site:
    """The site, its secret checked first (so an unknown site gets the same 401 as a wrong secret)."""
    key = request.path_params["site"]
    require_site_secret(request, key)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key}'", 404)
    return site


def _param(request: Request, name: str, limit: int) -> str:
    value = request.path_params[name]
    if not value or len(value) > limit:
        raise Refusal(f"{name} id must be 1 to {limit} characters", 400)
    return value


async def visitor_data(request: Request) -> Response:
    site = _site(request)
    visitor = _param(request, "visitor", MAX_VISITOR_CHARS)
    data = VisitorData(services(request).store)
    if request.method == "DELETE":
        return json_reply({"site": site.key, "forgotten": await data.forget_visitor(site, visitor)})
    return json_reply({"site": site.key, **await data.export_visitor(site, visitor)})


async def customer_data(request: Request) -> Response:
    site = _site(request)
    customer = _param(request, "customer", MAX_CUSTOMER_CHARS)
    data = VisitorData(services(request).store)
    if request.method == "DELETE":
        return json_reply(
            {"site": site.key, "customer": customer, "forgotten": await data.forget_customer(site, customer)}
        )
    return json_reply({"site": site.key, **await data.export_customer(site, customer)})


async def forget(request: Request) -> Response:
    site = allowed_site(request)
    shared = services(request)
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > MAX_FORGET_BYTES
    body = b"" if too_big else await request.body()
    if too_big or len(body) > MAX_FORGET_BYTES:
        raise Refusal(f"body is over {MAX_FORGET_BYTES} bytes", 413)
    try:
        token = msgspec.json.decode(body, type=ForgetRequest).visitor
    except msgspec.DecodeError as error:
        raise Refusal(f'send {{"visitor": "<the visitor\'s token>"}}: {error}', 400) from None
    visitor = shared.ingest.ids.verify(site.key, token)
    if visitor is None:
        raise Refusal("the visitor token is not valid for this site; nothing was deleted", 403)
    await VisitorData(shared.store).forget_visitor(site, visitor)
    return json_reply({"forgotten": True}, headers=request.scope[CORS])
