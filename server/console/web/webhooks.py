"""The console's Webhooks page, for admins: a site's endpoints, recent deliveries and failures,
with a button to send a delivery again and one to enable an endpoint a receiver disabled (410).

GET /console/sites/{site}/webhooks shows the page (sign-in required; 403 for an operator who is
not an admin, or not on the site). Its two POSTs are forms carrying the session's CSRF token (403
without), and answer with a redirect back to the page (docs/webhooks.md, "The console").
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.console.accounts import Operator
from server.console.auth import form_fields, is_admin, require_csrf, require_site, signed_in
from server.console.sessions import Session
from server.console.texts import texts
from server.console.web.pages import render, shell_context
from server.sites import Site
from server.store.webhooks import Delivery
from server.web.errors import Refusal
from server.web.services import services

SHOWN = 100  # deliveries listed, newest first
MAX_ID = 128


async def _admin(request: Request) -> tuple[Session, Operator, Site] | None:
    found = await signed_in(request)
    if found is None:
        return None
    session, operator = found
    key = request.path_params["site"]
    require_site(operator, key)
    if not is_admin(operator):
        raise Refusal(f"operator {operator.email} is not an admin; webhooks are for admins", 403)
    site = services(request).live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    return session, operator, site


def _when(site: Site, at: float) -> str:
    return datetime.fromtimestamp(at, site.timezone).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _row(site: Site, delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "message": delivery.message,
        "endpoint": delivery.endpoint,
        "type": delivery.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created": _when(site, delivery.created),
        "next": _when(site, delivery.next_at) if delivery.status == "pending" else "",
        "last": _when(site, delivery.last_at),
        "error": delivery.last_error,
        "http": delivery.last_status or "",
    }


async def page(request: Request) -> Response:
    found = await _admin(request)
    if found is None:
        return RedirectResponse("/console/login", 303)
    session, operator, site = found
    shared = services(request)
    await shared.webhooks.refresh_disabled(site.key)
    keys = shared.settings.webhook_keys()
    endpoints = []
    for endpoint in site.webhooks.values():
        disabled = shared.webhooks.disabled_record(site.key, endpoint)
        endpoints.append(
            {
                "name": endpoint.name,
                "url": endpoint.url,
                "events": sorted(endpoint.events),
                "private": endpoint.allow_private,
                "secret": bool(keys.get(f"{site.key}/{endpoint.name}")),
                "disabled": _when(site, disabled.at) if disabled is not None else "",
                "reason": disabled.reason if disabled is not None else "",
            }
        )
    rows = [_row(site, d) for d in await shared.store.webhooks.recent(site.key, SHOWN)]
    failures = [row for row in rows if row["status"] == "failed" or (row["status"] == "pending" and row["error"])]
    words = texts(operator.language)
    return render(
        "webhooks.html",
        **shell_context(request, session, operator, site.key, "webhooks"),
        endpoints=endpoints,
        deliveries=rows,
        failures=failures,
        notice=words.get("w_" + request.query_params.get("done", ""), ""),
    )


async def resend(request: Request) -> Response:
    session, _, site = await _posting(request)
    delivery = str((await form_fields(request)).get("delivery", ""))[:MAX_ID]
    shared = services(request)
    found = await shared.store.webhooks.get(site.key, delivery) if delivery else None
    if found is None:
        raise Refusal(f"no webhook delivery '{delivery}' on site '{site.key}' (kept: the newest 10,000)", 404)
    endpoint = site.webhooks.get(found.endpoint)
    if endpoint is None:
        raise Refusal(f"webhook endpoint '{found.endpoint}' is no longer in site.yaml; nothing to send it to", 409)
    await shared.webhooks.refresh_disabled(site.key)
    if shared.webhooks.is_disabled(site.key, endpoint):
        raise Refusal(f"webhook endpoint '{endpoint.name}' is disabled; enable it first", 409)
    await shared.store.webhooks.resend(site.key, delivery, shared.clock())
    shared.webhooks.wake.set()
    return RedirectResponse(f"/console/sites/{site.key}/webhooks?done=resent", 303)


async def enable(request: Request) -> Response:
    session, _, site = await _posting(request)
    name = str((await form_fields(request)).get("endpoint", ""))[:MAX_ID]
    endpoint = site.webhooks.get(name)
    if endpoint is None:
        raise Refusal(f"no webhook endpoint '{name}' on site '{site.key}'", 404)
    await services(request).webhooks.enable(site.key, endpoint)
    return RedirectResponse(f"/console/sites/{site.key}/webhooks?done=enabled", 303)


async def _posting(request: Request) -> tuple[Session, Operator, Site]:
    found = await _admin(request)
    if found is None:
        raise Refusal("not signed in to the console; sign in at /console/login", 401)
    await require_csrf(request, found[0])
    return found


ROUTES = [
    Route("/console/sites/{site}/webhooks", page, methods=["GET"]),
    Route("/console/sites/{site}/webhooks/resend", resend, methods=["POST"]),
    Route("/console/sites/{site}/webhooks/enable", enable, methods=["POST"]),
]
