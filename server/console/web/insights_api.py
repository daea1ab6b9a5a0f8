"""The marketer's numbers as JSON (and any of their tables as CSV), for the console's pages.

Admins of the site only (server/console/web/reports.py: 401 without a session, 403 for another
site or a non-admin). Every route takes ``from=YYYY-MM-DD&to=YYYY-MM-DD`` or ``days=N`` (the
last 7 days by default) and ``format=csv&table=NAME`` for one table as a CSV download.

    GET /console/api/sites/{site}/insights/rules          every rule's totals and uplift (rules_report)
    GET /console/api/sites/{site}/insights/rules/{rule}   one rule: funnel per day, uplift, breakdowns (rule_report)
    GET /console/api/sites/{site}/insights/overview       the site's traffic (site_overview)

The numbers come from server/insights (report.py reads the rule counters, traffic.py the
site's traffic aggregates); this module only asks for the range and answers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.console.web.reports import admin_site, day_range, report_reply
from server.insights.report import rule_report, rules_report
from server.insights.traffic import site_overview
from server.rules.model import RULE_ID
from server.web.errors import Refusal
from server.web.services import services


async def rules_results(request: Request) -> Response:
    site = await admin_site(request)
    shared = services(request)
    days = day_range(request.query_params, site, shared.clock())
    counts = await shared.store.read_counts(site.key, days)
    report = rules_report(site, shared.live.config.rules[site.key], counts)
    return report_reply(request, report, f"{site.key}-rules", days)


async def rule_results(request: Request) -> Response:
    site = await admin_site(request)
    rule_id = request.path_params["rule"]
    if not RULE_ID.match(rule_id):
        raise Refusal(f"no rule '{rule_id[:64]}' on site '{site.key}'", 404)
    shared = services(request)
    days = day_range(request.query_params, site, shared.clock())
    counts = await shared.store.read_counts(site.key, days)
    # A rule removed since keeps its counters: rule_report answers with its id only.
    report = rule_report(site, shared.live.config.rules[site.key], rule_id, counts)
    return report_reply(request, report, f"{site.key}-{rule_id}", days)


async def overview(request: Request) -> Response:
    site = await admin_site(request)
    shared = services(request)
    days = day_range(request.query_params, site, shared.clock())
    report = await site_overview(shared.store, site, days)
    return report_reply(request, report, f"{site.key}-overview", days)


ROUTES = [
    Route("/console/api/sites/{site}/insights/rules", rules_results, methods=["GET"]),
    Route("/console/api/sites/{site}/insights/rules/{rule}", rule_results, methods=["GET"]),
    Route("/console/api/sites/{site}/insights/overview", overview, methods=["GET"]),
]
