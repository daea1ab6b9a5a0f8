"""A console app for the marketer's pages: a site with a pricing rule, a disabled rule and a chat
rule, an admin and an operator, and canned reports in the shape server/insights returns
(docs/insights-spec §5 and §6), served by a test route at the insights API's own URLs.

The canned routes go through the console's real report plumbing (server/console/web/reports.py:
the admin check, the date range, JSON or CSV); only the numbers are fixed, so the pages and
their script are tested without server/insights. They are put first in the routing table, so
they answer even where server/console/web/insights_api.py is wired in.
"""

from __future__ import annotations

import copy
import math

from starlette.requests import Request
from starlette.routing import Route

from server.app import create_app
from server.config import load_config
from server.console.web.reports import admin_site, day_range, report_reply
from server.settings import Settings
from server.store.memory import MemoryStore
from tests.conftest import SECRET
from tests.console.helpers import Clock, add_operator
from tests.helpers import write_site

PRICING = """\
rules:
  - id: pricing-return
    description: Second pricing view within 7 days -> a chat prompt, <b>once</b> per visitor.
    priority: 10
    when:
      page: /pricing*
      page_views: {page: /pricing*, at_least: 2, within: 7d}
    show: {chat: まだお悩みですか？}
    limit: {per_visitor: 1, within: 30d}
  - id: paused-banner
    description: Switched off for now.
    enabled: false
    when: {page: /sale}
    show: {chat: セール中です}
"""
HELP = """\
rules:
  - id: cart-help
    when: {page: /cart, time_on_page: 30s}
    show: {chat: お手伝いしましょうか？}
"""
ADMIN = ("ken@example.com", "marketing pass")
OPERATOR = ("hanako@example.com", "support pass")


def insights_app(tmp_path, clock: Clock | None = None, language: str = "ja"):
    """The app, its store and clock, with an admin (ken) and an operator (hanako) on site `shop`."""
    clock = clock or Clock()
    write_site(tmp_path, "shop", **{"pricing.yaml": PRICING, "help.yaml": HELP})
    write_site(tmp_path, "other")
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    store = MemoryStore(clock=clock)
    app = create_app(
        Settings(secret_key=SECRET, rules_dir=str(tmp_path)), config=config, store=store, clock=clock, reload=False
    )
    add_operator(store, "shop", ADMIN[0], ADMIN[1], name="Ken", role="admin", language=language)
    add_operator(store, "shop", OPERATOR[0], OPERATOR[1], name="花子", language=language)
    return app, store, clock


def serve_canned(app, rule_report: dict | None = None, overview: dict | None = None) -> None:
    """Answer the insights API's rule and overview URLs with these reports (first in the routing table)."""

    def endpoint(report: dict, name: str):
        async def answer(request: Request):
            site = await admin_site(request)
            days = day_range(request.query_params, site, app.state.services.clock())
            return report_reply(request, copy.deepcopy(report), f"{site.key}-{name}", days)

        return answer

    routes = []
    if rule_report is not None:
        routes.append(
            Route("/console/api/sites/{site}/insights/rules/{rule}", endpoint(rule_report, "rule"), methods=["GET"])
        )
    if overview is not None:
        routes.append(
            Route("/console/api/sites/{site}/insights/overview", endpoint(overview, "overview"), methods=["GET"])
        )
    app.router.routes[:0] = routes


COUNTERS = [
    "decided",
    "held_out",
    "shown",
    "clicked",
    "dismissed",
    "copied",
    "converted",
    "converted_held_out",
    "value",
    "value_held_out",
]


def rule_report(days: int = 14, enough: bool = True, mismatch: bool = False) -> dict:
    """A rule_report as server/insights/report.py answers it, for rule pricing-return: a treatment
    group converting at about 6 %, a control group at about 4 %, and the uplift that follows."""
    funnel = []
    for index in range(days):
        decided = 100 + 10 * index
        held_out = decided // 10
        shown = decided - held_out - 5
        converted, converted_held_out = 6 + index // 2, 1 if index % 3 else 0
        funnel.append(
            [
                f"2027-01-{index + 1:02d}",
                decided,
                held_out,
                shown,
                shown // 4,
                shown // 3,
                shown // 5,
                converted,
                converted_held_out,
                5200.0 * converted,
                4900.0 * converted_held_out,
            ]
        )
    totals = {name: sum(row[i + 1] for row in funnel) for i, name in enumerate(COUNTERS)}
    treatment = {"decisions": totals["decided"] - totals["held_out"], "converted": totals["converted"]}
    control = {"decisions": totals["held_out"], "converted": totals["converted_held_out"]}
    for group, value in ((treatment, totals["value"]), (control, totals["value_held_out"])):
        group["rate"] = group["converted"] / group["decisions"]
        group["value_mean"] = value / group["decisions"]
    p_t, p_c = treatment["rate"], control["rate"]
    error = math.sqrt(p_t * (1 - p_t) / treatment["decisions"] + p_c * (1 - p_c) / control["decisions"])
    log_error = math.sqrt(
        1 / treatment["converted"] - 1 / treatment["decisions"] + 1 / control["converted"] - 1 / control["decisions"]
    )
    ratio = p_t / p_c
    value = treatment["value_mean"] - control["value_mean"]
    return {
        "rule": {
            "id": "pricing-return",
            "description": "Second pricing view within 7 days",
            "priority": 10,
            "limit": "1 per visitor within 30d",
            "holdout": 0.1,
            "goal": "purchase",
            "where": "rules/shop/pricing.yaml:2:5",
        },
        "totals": totals,
        "uplift": {
            "goal": "purchase",
            "holdout": 0.1,
            "treatment": treatment,
            "control": control,
            "enough_data": enough,
            "absolute": {"estimate": p_t - p_c, "low": p_t - p_c - 1.96 * error, "high": p_t - p_c + 1.96 * error}
            if enough
            else None,
            "relative": {
                "estimate": ratio - 1,
                "low": ratio * math.exp(-1.96 * log_error) - 1,
                "high": ratio * math.exp(1.96 * log_error) - 1,
            }
            if enough
            else None,
            "value": {"estimate": value, "low": value - 40.0, "high": value + 40.0} if enough else None,
            "sample_ratio": {
                "expected": 0.1,
                "observed": 0.141 if mismatch else control["decisions"] / totals["decided"],
                "p": 0.00002 if mismatch else 0.81,
                "mismatch": mismatch,
            },
        },
        "tables": {
            "funnel": {"columns": ["day", *COUNTERS], "rows": funnel},
            "by_device": {
                "columns": ["device", *COUNTERS],
                "rows": [
                    ["desktop", 900, 90, 790, 200, 150, 100, 60, 6, 9000.0, 700.0],
                    ["mobile", 1200, 120, 1050, 300, 200, 120, 70, 4, 8000.0, 500.0],
                ],
            },
            "by_hour": {
                "columns": ["hour", *COUNTERS],
                "rows": [
                    [hour, 10 * (hour % 12) + 5, hour % 3, 8, 2, 1, 1, hour % 4, 0, 100.0, 0.0] for hour in range(24)
                ],
            },
            "by_page": {
                "columns": ["page", *COUNTERS],
                "rows": [
                    ["/pricing", 1500, 150, 1300, 400, 300, 200, 100, 8, 12000.0, 900.0],
                    ['=HYPERLINK("http://evil.example")', 3, 0, 3, 0, 0, 0, 0, 0, 0.0, 0.0],
                    ["<img src=x onerror=alert(1)>", 2, 0, 2, 0, 0, 0, 0, 0, 0.0, 0.0],
                ],
            },
        },
    }


def overview_report() -> dict:
    """A site_overview as server/insights/traffic.py answers it."""
    daily = [
        [f"2027-01-{day:02d}", 800 + 40 * day, 300 + 12 * day, 380 + 15 * day, 60 + day, 9 + day % 4]
        for day in range(1, 15)
    ]
    shown, conversions = sum(row[4] for row in daily), sum(row[5] for row in daily)
    weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return {
        "site": "shop",
        "from": "2027-01-01",
        "to": "2027-01-14",
        "totals": {
            "page_views": sum(row[1] for row in daily),
            "visitors": 4100,
            "sessions": sum(row[3] for row in daily),
            "engagements_shown": shown,
            "conversions": conversions,
            "conversions_per_engagement_shown": conversions / shown,
        },
        "tables": {
            "daily": {
                "columns": ["day", "page_views", "visitors", "sessions", "engagements_shown", "conversions"],
                "rows": daily,
            },
            "pages": {
                "columns": ["path", "views", "median_seconds_on_page", "entrances"],
                "rows": [
                    ["/", 5200, 14.0, 2400],
                    ["/pricing", 2100, 48.5, 300],
                    ["/products/linen-shirt", 1300, 65.0, 800],
                    ["/cart", 700, 31.0, 0],
                    ["/checkout/thanks", 90, None, 0],  # where visits end: no time on page
                ],
            },
            "hours": {
                "columns": ["hour", "sessions", "page_views"],
                "rows": [[hour, 20 + (hour * 7) % 50, 60 + (hour * 7) % 50] for hour in range(24)],
            },
            "weekdays": {
                "columns": ["weekday", "sessions", "page_views"],
                "rows": [[day, 300 + 20 * i, 900 + 50 * i] for i, day in enumerate(weekdays)],
            },
            "devices": {
                "columns": ["device", "sessions", "page_views"],
                "rows": [["mobile", 3100, 9000], ["desktop", 1900, 6100], ["tablet", 300, 700]],
            },
            "referrers": {
                "columns": ["referrer", "sessions"],
                "rows": [["www.google.com", 1500], ["instagram.com", 700], ["(direct)", 2600]],
            },
            "utm_sources": {"columns": ["utm_source", "sessions"], "rows": [["line", 400], ["newsletter", 150]]},
        },
    }
