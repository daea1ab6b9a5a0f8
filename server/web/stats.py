"""GET /v1/sites/{site}/stats?days=7: each rule's daily counters, for a console or a script.

Authenticated like the redeem endpoint (the site's secret as a Bearer token), no CORS.
Answers ``{day: {rule: {decided, shown, clicked, dismissed, copied}}}`` for the last `days`
days in the site's timezone, oldest first, today included.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.stats import MAX_DAYS, last_days, report
from server.store.base import StoreUnavailable
from server.web.coupons import check_site_secret
from server.web.replies import error_reply, json_reply

DEFAULT_DAYS = 7


async def get_stats(request: Request) -> Response:
    key = request.path_params["site"]
    refusal = check_site_secret(request, key)
    if refusal is not None:
        return refusal
    site = request.app.state.live.config.sites.get(key)
    if site is None:
        return error_reply(f"unknown site '{key}'", 404)
    text = request.query_params.get("days", str(DEFAULT_DAYS))
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_DAYS):
        return error_reply(f"days has value '{text[:20]}'; expected a whole number from 1 to {MAX_DAYS}", 400)
    days = last_days(site, request.app.state.clock(), int(text))
    try:
        counts = await request.app.state.store.read_counts(site.key, days)
    except StoreUnavailable as error:
        request.app.state.store_failures.warning("site %s: stats not read: %s", site.key, error)
        return error_reply("stats not read: the store is unavailable; retry later", 503, {"retry-after": "5"})
    return json_reply(report(counts))
