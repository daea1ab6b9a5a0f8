"""POST /v1/sites/{site}/events: the only endpoint the widget writes to.

Order matters: site, then origin, then size, then decoding, so that a request from a shop
that is not allowed costs nothing and learns nothing. Refusals and failures are raised and
answered in server.web.errors, with this request's CORS headers.

The hot path of the server, so it is a plain ASGI endpoint: :class:`EventsPath` sits in front
of Starlette's router (inside the app, so app-wide middleware and the exception handlers of
server.web.errors wrap it as any route) and answers POST and OPTIONS on the events path
itself, without Starlette's routing, Request and Response objects, which cost more per batch
than the batch's decoding. The routes in server/app.py stay, for what this does not take.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server import metrics
from server.devices import device_type, language
from server.events import MAX_BATCH_BYTES, BadBatch, decode_batch
from server.privacy.policy import STOP_MESSAGES, stop_reason
from server.tracking import RequestFacts
from server.web.address import address_of
from server.web.errors import CORS, Refusal
from server.web.origins import allowed, allowed_site
from server.web.replies import encode_json

log = logging.getLogger("irasshai.web")

PREFIX, SUFFIX = "/v1/sites/", "/events"
WANTED = {b"origin", b"content-length", b"user-agent", b"accept-language", b"x-forwarded-for", b"sec-gpc", b"dnt"}
PREFLIGHT = [
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-allow-headers", b"content-type"),
    (b"access-control-max-age", b"86400"),
]


class EventsPath:
    """POST and OPTIONS on /v1/sites/{site}/events answered here; anything else goes on to `app`
    (the router), as does a request under a root path, which the router knows how to match."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith(SUFFIX):
                site = path[len(PREFIX) : -len(SUFFIX)]
                method = scope["method"]
                if site and "/" not in site and method in ("POST", "OPTIONS"):
                    # What the router would put there: the error handlers read them.
                    scope["path_params"] = {"site": site}
                    scope["endpoint"] = post_events if method == "POST" else preflight
                    if method == "POST":
                        await events(scope, receive, send, site)
                    else:
                        await events_preflight(scope, send, site)
                    return
        await self.app(scope, receive, send)


async def events(scope: Scope, receive: Receive, send: Send, key: str) -> None:
    headers = _headers(scope)
    shared = scope["app"].state.services
    site = allowed(shared, key, headers.get(b"origin"), scope)
    timeout = shared.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):  # a body that never arrives must not hold the connection
            body = await _read_body(receive, headers.get(b"content-length"), MAX_BATCH_BYTES)
    except TimeoutError:
        raise Refusal(f"the body did not arrive within {timeout:g} s", 408, {"connection": "close"}) from None
    batch, events = decode_batch(body)
    signals = {"sec-gpc": headers.get(b"sec-gpc", ""), "dnt": headers.get(b"dnt", "")}
    stop = stop_reason(site.privacy, signals, batch.consent)
    if stop is not None:  # nothing stored; the widget clears what it keeps and sends nothing more (docs/snippet.md)
        await _json(send, 403, encode_json({"error": STOP_MESSAGES[stop], "stop": stop}), scope)
        return
    client = scope.get("client")
    facts = RequestFacts(
        device=device_type(headers.get(b"user-agent", "")),
        language=language(batch.context.language, headers.get(b"accept-language", "")),
        address=address_of(client[0] if client else "", headers.get(b"x-forwarded-for"), shared.trusted_proxies),
    )
    reply = await shared.ingest.handle(site, shared.live.config.rules[site.key], batch, events, facts)
    metrics.accepted(events)
    await _json(send, 200, encode_json(reply), scope)


async def _json(send: Send, status: int, content: bytes, scope: Scope) -> None:
    """A JSON answer with the request's CORS headers, as server.web.replies.json_reply makes them."""
    cors = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in scope[CORS].items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": cors
            + [
                (b"content-length", str(len(content)).encode()),
                (b"content-type", b"application/json"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


async def events_preflight(scope: Scope, send: Send, key: str) -> None:
    headers = _headers(scope)
    allowed(scope["app"].state.services, key, headers.get(b"origin"), scope)
    cors = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in scope[CORS].items()]
    await send({"type": "http.response.start", "status": 204, "headers": cors + PREFLIGHT})
    await send({"type": "http.response.body", "body": b""})


async def preflight(request: Request) -> Response:
    """CORS preflight of the widget's POST endpoints (events, chat, LINE link)."""
    allowed_site(request)
    return Response(
        status_code=204,
        headers={
            **request.scope[CORS],
            "access-control-allow-methods": "POST",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "86400",
        },
    )


class _Endpoint:
    """An answer of this module as the ASGI app of a Starlette route, named as the error handlers
    know it (server.web.errors.NOT_DONE)."""

    def __init__(self, name: str, answer):
        self.__name__ = name
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.answer(scope, receive, send, scope["path_params"]["site"])


post_events = _Endpoint("post_events", events)  # the route, for what EventsPath lets through


def _headers(scope: Scope) -> dict[bytes, str]:
    """The request headers the endpoint reads, by lower-case name; the first of each, as Starlette's."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadBatch(f"batch is {declared} bytes; the limit is {limit}", status=413)
    chunks, size = [], 0
    while True:  # straight from the ASGI channel
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal("client disconnected", 400)
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
