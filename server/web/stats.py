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

import re
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server.insights.report import days_report, rule_report, rules_report
from server.insights.traffic import site_overview
from server.sites import Site
from server.stats import MAX_DAYS, last_days
from server.web.auth import require_site_secret
from server.web.errors import Refusal
from server.web.replies import json_reply
from server.web.services import services

DEFAULT_DAYS = 7
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


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
    query = request.query_params
    if "from" in query or "to" in query:
        if "days" in query:
            raise Refusal("give either days or from and to, not both", 400)
        start, end = _date(query, "from"), _date(query, "to")
        if end < start:
            raise Refusal(f"from ({start}) is after to ({end})", 400)
        count = (end - start).days + 1
        if count > MAX_DAYS:
            raise Refusal(f"from {start} to {end} is {count} days; at most {MAX_DAYS} days at once", 400)
        return site, [(start + timedelta(days=offset)).isoformat() for offset in range(count)]
    text = query.get("days", str(DEFAULT_DAYS))
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_DAYS):
        raise Refusal(f"days has value '{text[:20]}'; expected a whole number from 1 to {MAX_DAYS}", 400)
    return site, last_days(site, shared.clock(), int(text))


def _date(query, name: str) -> date:
    text = query.get(name)
    if text is None:
        raise Refusal(f"{name} is missing; give from and to together, as YYYY-MM-DD", 400)
    try:
        if not DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal(f"{name} has value '{text[:20]}'; expected a date as YYYY-MM-DD", 400) from None
