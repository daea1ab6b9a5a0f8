"""POST /v1/sites/{site}/events: the only endpoint the widget writes to.

Order matters: site, then origin, then size, then decoding, so that a request from a shop
that is not allowed costs nothing and learns nothing.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.devices import device_type, language
from server.events import MAX_BATCH_BYTES, BadBatch, decode_batch
from server.ratelimits import RateLimited
from server.store.base import StoreUnavailable
from server.tracking import Visit
from server.web.address import client_address
from server.web.replies import cors_headers, error_reply, json_reply

log = logging.getLogger("irasshai.web")


def _site_and_origin(request: Request):
    """(site, origin, None) when allowed, else (None, None, the error reply)."""
    key = request.path_params["site"]
    site = request.app.state.live.config.sites.get(key)
    if site is None:
        return None, None, error_reply(f"unknown site '{key[:64]}'", 404)
    origin = request.headers.get("origin")
    if not site.allows(origin):
        reason = "missing Origin header" if origin is None else f"origin '{origin[:200]}' is not allowed for site '{key}'"
        log.info("refused events: %s", reason)
        return None, None, error_reply(f"{reason}; allowed origins are listed in site.yaml", 403)
    return site, origin, None


async def post_events(request: Request) -> Response:
    site, origin, refusal = _site_and_origin(request)
    if refusal is not None:
        return refusal
    cors = cors_headers(origin)
    timeout = request.app.state.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):  # a body that never arrives must not hold the connection
            body = await _read_body(request, MAX_BATCH_BYTES)
        batch, events = decode_batch(body)
    except TimeoutError:
        return error_reply(f"the body did not arrive within {timeout:g} s", 408, {**cors, "connection": "close"})
    except BadBatch as error:
        return _refusal(error, cors)
    except ClientDisconnect:
        return error_reply("client disconnected", 400, cors)
    visit = Visit(device=device_type(request.headers.get("user-agent", "")),
                  language=language(batch.context.language, request.headers.get("accept-language", "")),
                  address=client_address(request, request.app.state.trusted_proxies))
    try:
        rules = request.app.state.live.config.rules[site.key]
        reply = await request.app.state.ingest.handle(site, rules, batch, events, visit)
    except BadBatch as error:  # an event the visitor's state has no room for
        return _refusal(error, cors)
    except RateLimited as error:
        log.info("site %s: events refused: %s", site.key, error)
        return error_reply(str(error), 429, {**cors, "retry-after": str(error.retry_after)})
    except StoreUnavailable as error:
        request.app.state.store_failures.warning("site %s: events not stored: %s", site.key, error)
        return error_reply("events not stored: the store is unavailable; retry later", 503,
                           {**cors, "retry-after": "5"})
    return json_reply(reply, headers=cors)


def _refusal(error: BadBatch, cors: dict[str, str]) -> Response:
    """The error line, and which event caused it (index and id) when one did: the widget then
    drops only that event and sends the others again."""
    if error.event is None:
        return error_reply(str(error), error.status, cors)
    return json_reply({"error": str(error), "event": error.event, "id": error.event_id}, error.status, cors)


def cors_of(request: Request) -> dict[str, str]:
    """CORS headers for a request to a site's event endpoint from one of its origins, else none.

    For replies made outside the endpoint (an unexpected error): without them the widget cannot
    read the reply, and would take a server error for a network failure."""
    site = request.app.state.live.config.sites.get(request.path_params.get("site", ""))
    origin = request.headers.get("origin")
    return cors_headers(origin) if site is not None and origin is not None and site.allows(origin) else {}


async def preflight(request: Request) -> Response:
    site, origin, refusal = _site_and_origin(request)
    if refusal is not None:
        return refusal
    return Response(status_code=204, headers={
        **cors_headers(origin),
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "86400",
    })


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadBatch(f"batch is {declared} bytes; the limit is {limit}", status=413)
    chunks, size = [], 0
    while True:  # straight from the ASGI channel: Request.stream() costs more than the batch's decoding
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadBatch(f"batch is over {limit} bytes", status=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if not size:
        raise BadBatch("empty body; send a JSON batch of events")
    return b"".join(chunks)
