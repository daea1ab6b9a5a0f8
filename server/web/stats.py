"""What each rule achieved, for a script: GET /v1/sites/{site}/stats and /stats/rules/{rule}.

Authenticated like the redeem endpoint (the site's secret as a Bearer token), no CORS. The
range is the last ``days`` days in the site's timezone, today included (default 7), or
``from=YYYY-MM-DD&to=YYYY-MM-DD`` (both included); at most MAX_DAYS days, oldest first.

- ``/stats``: ``{"site", "from", "to", "days": {day: {rule: {counter: n}}}, "rules": {rule:
  {totals..., "uplift": {"estimate", "low", "high"} | null, "sample_ratio": {...} | null}}}``.
- ``/stats/rules/{rule}``: the rule's report (server/insights/report.py) with site, from, to.
- ``/stats/overview``: the site overview (server/insights/traffic.py): traffic per day, pages,
  hours, weekdays, devices, referrers, UTM sources; this process's last few seconds of counts
  are not written yet (they are flushed every IRASSHAI_TRAFFIC_FLUSH_INTERVAL seconds).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.insights.report import days_report, rule_report, rules_report
from server.insights.traffic import site_overview
from server.sites import Site
from server.stats import RangeError, day_range
from server.web.auth import require_site_secret
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services


async def get_stats(request: Request) -> Response:
    site, days = _site_and_days(request)
    shared = services(request)
    counts = await shared.store.read_counts(site.key, days)
    rules = shared.live.config.rules[site.key]
    return json_reply(
        {
            "site": site.key,
            "from": days[0],
            "to": days[-1],
            "days": days_report(counts),
            "rules": rules_report(site, rules, counts)["rules"],
        }
    )


async def get_rule_stats(request: Request) -> Response:
    site, days = _site_and_days(request)
    shared = services(request)
    rule_id = request.path_params["rule"]
    counts = await shared.store.read_counts(site.key, days)
    rules = shared.live.config.rules[site.key]
    if rule_id not in rules.by_id and not any(rule_id in day for day in counts.values()):
        raise Refusal(
            f"unknown rule '{rule_id[:64]}': not in the site's rules, nothing counted from {days[0]} to {days[-1]}", 404
        )
    report = rule_report(site, rules, rule_id, counts)
    return json_reply({"site": site.key, "from": days[0], "to": days[-1], **report})


async def get_overview_stats(request: Request) -> Response:
    site, days = _site_and_days(request)
    return json_reply(await site_overview(services(request).store, site, days))


def _site_and_days(request: Request) -> tuple[Site, list[str]]:
    """The site (its secret checked first, so an unknown site gets the same 401) and the days asked for."""
    shared = services(request)
    key = request.path_params["site"]
    require_site_secret(request, key)
    site = shared.live.config.sites.get(key)
    if site is None:
        raise Refusal(f"unknown site '{key}'", 404)
    try:
        return site, day_range(request.query_params, site, shared.clock())
    except RangeError as error:
        raise Refusal(str(error), 400) from None
