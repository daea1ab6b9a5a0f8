"""GET /v1/sites/{site}/stats?days=7: each rule's daily counters, for a console or a script.

Authenticated like the redeem endpoint (the site's secret as a Bearer token), no CORS.
Answers ``{day: {rule: {decided, shown, clicked, dismissed, copied}}}`` for the last `days`
days in the site's timezone, oldest first, today included.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.stats import MAX_DAYS, last_days, report
from server.web.auth import require_site_secret
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

DEFAULT_DAYS = 7


async def get_stats(request: Request) -> Response:
    shared = services(request)
    key = request.path_params["site"]
    require_site_secret(request, key)
    site = shared.live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key}'", 404)
    text = request.query_params.get("days", str(DEFAULT_DAYS))
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_DAYS):
        raise Refusal(f"days has value '{text[:20]}'; expected a whole number from 1 to {MAX_DAYS}", 400)
    days = last_days(site, shared.clock(), int(text))
    return json_reply(report(await shared.store.read_counts(site.key, days)))
