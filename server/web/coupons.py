"""POST /v1/coupons/redeem: the shop's backend marks a visitor's coupon code used, once.

Server to server, so no CORS: the shop's backend calls it at checkout with the site's secret
from IRASSHAI_SITE_SECRETS as ``Authorization: Bearer <secret>``. The secret is checked
before anything about the site or code is looked up, and a site with no secret configured
gets the same 401 as a wrong secret, so a caller without the secret learns nothing, not
even which sites have one. docs/coupons.md lists every answer.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from server.store.base import StoreUnavailable
from server.web.replies import error_reply, json_reply

log = logging.getLogger("irasshai.web")

MAX_BODY = 4 * 1024


class RedeemRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    site: Annotated[str, Meta(min_length=1, max_length=64)]
    code: Annotated[str, Meta(min_length=1, max_length=64)]


_decoder = msgspec.json.Decoder(RedeemRequest)


_NO_SECRET = b"no secret is configured for this site"  # compared like a real one: same work, same answer


def check_site_secret(request: Request, site_key: str) -> Response | None:
    """None when the request carries the site's secret; else 401.

    Only the configured secrets are consulted, never the rules, and a site with no secret
    gets the same answer as a wrong secret: the reply tells a caller nothing about which
    sites exist or have a secret. The server log says when a site has none.
    """
    secret = request.app.state.site_secrets.get(site_key)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    matches = hmac.compare_digest(given.strip().encode(), _NO_SECRET if secret is None else secret.encode())
    if secret is None:
        log.info(
            "refused a server-to-server call for site '%s': it has no secret in IRASSHAI_SITE_SECRETS", site_key[:64])
    if secret is None or scheme.lower() != "bearer" or not matches:
        return error_reply("missing or wrong secret; send 'Authorization: Bearer <the site's secret>' "
                           "(secrets are set in IRASSHAI_SITE_SECRETS on the Irasshai server)", 401,
                           {"www-authenticate": "Bearer"})
    return None


async def redeem(request: Request) -> Response:
    timeout = request.app.state.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):
            body = await _read_body(request)
    except ClientDisconnect:
        return error_reply("client disconnected", 400)
    except TimeoutError:
        return error_reply(f"the body did not arrive within {timeout:g} s", 408, {"connection": "close"})
    if body is None:
        return error_reply(f"body is over {MAX_BODY} bytes; send {{\"site\": …, \"code\": …}}", 413)
    try:
        wanted = _decoder.decode(body)
    except msgspec.ValidationError as error:
        return error_reply(f"invalid request: {error}; send {{\"site\": …, \"code\": …}}", 400)
    except msgspec.DecodeError as error:
        return error_reply(f"body is not valid JSON: {error}", 400)
    refusal = check_site_secret(request, wanted.site)
    if refusal is not None:
        return refusal
    site = request.app.state.live.config.sites.get(wanted.site)
    if site is None:
        return error_reply(f"unknown site '{wanted.site}'", 404)
    try:
        result, pool = await request.app.state.ingest.coupons.redeem(site, wanted.code, request.app.state.clock())
    except StoreUnavailable as error:
        request.app.state.store_failures.warning("site %s: coupon not redeemed: %s", site.key, error)
        return error_reply("coupon not redeemed: the store is unavailable; retry later", 503, {"retry-after": "5"})
    if result == "unknown":
        return error_reply(f"unknown code '{wanted.code}': no pool of site '{site.key}' gave it out", 404)
    if result == "redeemed":
        return error_reply(f"code '{wanted.code}' was already redeemed", 409)
    status = "shared" if result == "shared" else "redeemed"
    log.info("site %s: coupon %s of pool %s %s", site.key, wanted.code, pool, status)
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
