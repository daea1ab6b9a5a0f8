"""POST /v1/coupons/redeem: the shop's backend marks a visitor's coupon code used, once.

Server to server, so no CORS: the shop's backend calls it at checkout with the site's secret
from IRASSHAI_SITE_SECRETS as ``Authorization: Bearer <secret>``. The secret is checked
before anything about the site or code is looked up, and a site with no secret configured
gets the same 401 as a wrong secret, so a caller without the secret learns nothing, not
even which sites have one. docs/coupons.md lists every answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.store.base import StoreUnavailable
from server.web.auth import require_site_secret
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services
from server.webhooks import events as webhook_events

log = logging.getLogger("irasshai.web")

MAX_BODY = 4 * 1024


class RedeemRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    site: Annotated[str, Meta(min_length=1, max_length=64)]
    code: Annotated[str, Meta(min_length=1, max_length=64)]


_decoder = msgspec.json.Decoder(RedeemRequest)


async def redeem(request: Request) -> Response:
    shared = services(request)
    timeout = shared.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):
            body = await _read_body(request)
    except ClientDisconnect:
        raise Refusal("client disconnected", 400) from None
    except TimeoutError:
        raise Refusal(f"the body did not arrive within {timeout:g} s", 408, {"connection": "close"}) from None
    if body is None:
        raise Refusal(f'body is over {MAX_BODY} bytes; send {{"site": …, "code": …}}', 413)
    try:
        wanted = _decoder.decode(body)
    except msgspec.ValidationError as error:
        raise Refusal(f'invalid request: {error}; send {{"site": …, "code": …}}', 400) from None
    except msgspec.DecodeError as error:
        raise Refusal(f"body is not valid JSON: {error}", 400) from None
    require_site_secret(request, wanted.site)
    site = shared.live.config.sites.get(wanted.site)
    if site is None:
        raise Refusal(f"unknown site '{wanted.site}'", 404)
    result, pool = await shared.ingest.coupons.redeem(site, wanted.code, shared.clock())
    if result == "unknown":
        raise Refusal(f"unknown code '{wanted.code}': no pool of site '{site.key}' gave it out", 404)
    if result == "redeemed":
        raise Refusal(f"code '{wanted.code}' was already redeemed", 409)
    status = "shared" if result == "shared" else "redeemed"
    log.info("site %s: coupon %s of pool %s %s", site.key, wanted.code, pool, status)
    if shared.webhooks.wants(site.key, webhook_events.COUPON_REDEEMED):  # the owner costs a read: only then
        owner = None
        try:
            owner = await shared.store.code_owner(site.key, pool, wanted.code) if result == "ok" else None
        except StoreUnavailable as error:  # redeemed already: answer so, and send the event without its owner
            shared.repeating.warning("site %s: owner of coupon %s not read: %s", site.key, wanted.code, error)
        data = webhook_events.coupon_redeemed(site.key, pool, wanted.code, owner)
        await shared.webhooks.emit(site.key, webhook_events.COUPON_REDEEMED, data)
    return json_reply({"status": status, "code": wanted.code, "pool": pool})


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is over MAX_BODY (checked as it arrives, not only by its header)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
