"""LINE's side of the server (docs/line.md): the webhook LINE calls, and the link page's nonce.

POST /v1/sites/{site}/line/webhook: checked in this order, so that a request not from LINE
costs little and changes nothing: a site with a LINE channel (404), a body within MAX_BODY
(413), the ``x-line-signature`` over the raw body with the site's channel secret (401, also
for a site without a secret: the answer does not tell them apart), then the JSON (400). The
events are stored before the answer (a 200 means they are kept; a 503 asks LINE to redeliver),
and nothing waits for LINE's own API.

POST /v1/sites/{site}/line/link: the widget's ``lineLink`` on the shop's link page, checked like
the chat endpoint (site, Origin, size, visitor token), then the customer's proof.
"""

from __future__ import annotations

import logging

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.line import signature
from server.line.link import LinkRefused
from server.line.wire import BadWebhook, decode
from server.web.errors import CORS, Refusal
from server.web.origins import allowed_site
from server.web.replies import json_reply
from server.web.services import services

log = logging.getLogger("irasshai.web")

MAX_BODY = 256 * 1024  # LINE's webhooks are a few KB; a hundred events fit with room
MAX_LINK_BODY = 8 * 1024


async def post_webhook(request: Request) -> Response:
    key = request.path_params["site"]
    shared = services(request)
    site = shared.live.config.sites.get(key)
    if site is None or site.line is None:
        raise Refusal(f"site '{key[:64]}' has no LINE channel ('line:' in its site.yaml)", 404)
    body = await _body(request, MAX_BODY)
    secret = shared.line.secrets.get(site.key)
    if secret is None:
        log.warning("site %s: LINE webhook refused: no channel secret in IRASSHAI_LINE_SECRETS", site.key)
    if not signature.valid(secret or "", body, request.headers.get("x-line-signature", "")) or secret is None:
        raise Refusal("bad or missing x-line-signature; LINE signs its webhooks with the channel secret", 401)
    try:
        webhook = decode(body)
    except BadWebhook as error:
        raise Refusal(str(error), 400) from None
    await shared.line.receive(site, webhook)
    return json_reply({})


class LinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    visitor: str
    link_token: str
    customer: str
    hash: str = ""
    jwt: str = ""


async def post_link(request: Request) -> Response:
    site = allowed_site(request)
    shared = services(request)
    if site.line is None:
        raise Refusal(f"site '{site.key}' has no LINE channel ('line:' in its site.yaml)", 404)
    try:
        asked = msgspec.json.decode(await _body(request, MAX_LINK_BODY), type=LinkRequest)
    except msgspec.DecodeError as error:
        raise Refusal(f"bad link request: {error}", 400) from None
    visitor = shared.ingest.ids.verify(site.key, asked.visitor)
    if visitor is None:
        raise Refusal("unknown visitor token; send the token from an events reply", 401)
    try:
        url = await shared.line.links.nonce(site, visitor, asked.link_token, asked.customer, asked.hash, asked.jwt)
    except LinkRefused as error:
        raise Refusal(str(error), error.status) from None
    return json_reply({"url": url}, headers=request.scope[CORS])


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refusal(f"body is {declared} bytes; the limit is {limit}", 413)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refusal(f"body is over {limit} bytes", 413)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refusal("client disconnected", 400) from None
    return b"".join(chunks)
