"""POST /v1/sites/{site}/events: the only endpoint the widget writes to.

Order matters: site, then origin, then size, then decoding, so that a request from a shop
that is not allowed costs nothing and learns nothing. Refusals and failures are raised and
answered in server.web.errors, with this request's CORS headers.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.devices import device_type, language
from server.events import MAX_BATCH_BYTES, BadBatch, decode_batch
from server.privacy.policy import STOP_MESSAGES, stop_reason
from server.tracking import RequestFacts
from server.web.address import client_address
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.replies import json_reply
from server.web.services import services

log = logging.getLogger("irasshai.web")


async def post_events(request: Request) -> Response:
    site = allowed_site(request)
    shared = services(request)
    timeout = shared.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):  # a body that never arrives must not hold the connection
            body = await _read_body(request, MAX_BATCH_BYTES)
    except TimeoutError:
        raise Refusal(f"the body did not arrive within {timeout:g} s", 408, {"connection": "close"}) from None
    except ClientDisconnect:
        raise Refusal("client disconnected", 400) from None
    batch, events = decode_batch(body)
    stop = stop_reason(site.privacy, request.headers, batch.consent)
    if stop is not None:  # nothing stored; the widget clears what it keeps and sends nothing more (docs/snippet.md)
        return json_reply({"error": STOP_MESSAGES[stop], "stop": stop}, 403, headers=request.scope[CORS])
    facts = RequestFacts(
        device=device_type(request.headers.get("user-agent", "")),
        language=language(batch.context.language, request.headers.get("accept-language", "")),
        address=client_address(request, shared.trusted_proxies),
    )
    reply = await shared.ingest.handle(site, shared.live.config.rules[site.key], batch, events, facts)
    return json_reply(reply, headers=request.scope[CORS])


async def preflight(request: Request) -> Response:
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
