"""The marketer's pages in the console: the site's rules, one rule's results, the site overview,
and the preview. For operators with the admin role; the others get a 403 page in the shell.

The rules page and the preview are rendered here, whole. A rule's results and the overview are
frames that static/results.js fills from the console's insights API
(server/console/web/insights_api.py) for the date range in the page's query. Routes are under
/console/sites/{site} (docs/console.md, "Rules and results").
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.console.auth import form_fields, is_admin, require_csrf, require_site, signed_in
from server.console.texts import insight_texts, texts
from server.console.web.pages import render, shell_context
from server.console.web.reports import day_range
from server.insights.goals import holdout_of
from server.insights.report import rules_report
from server.rule_preview import MAX_BYTES, MAX_STEPS, preview
from server.rules.model import RULE_ID, Limit, Rule
from server.sites import Site
from server.web.errors import Refusal
from server.web.services import services

PRESETS = (7, 30, 90)  # the date range's shortcuts, in days
RECENT_DAYS = 7  # the rules page's results: the last week, today included
PREVIEW_FORM = 3 * MAX_BYTES + 1024  # urlencoded, a Japanese character takes 9 bytes for its 3
EXAMPLE = """\
# A visitor's steps, as in rules/<site>/*.test.yaml
- page_view: /pricing
- at: +1h
  page_view: /category/tops
- at: +1h
  page_view: /pricing
- signal: {exit_intent: true}
"""
UNITS = {
    "ja": {"w": "週間", "d": "日", "h": "時間", "m": "分", "s": "秒"},
    "en": {"w": "w", "d": "d", "h": "h", "m": "min", "s": "s"},
}
SIZES = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


async def _admin_page(request: Request, section: str) -> dict | Response:
    """The shell's context for an admin on the site; the sign-in redirect, or the 403 page, else."""
    found = await signed_in(request)
    if found is None:
        return RedirectResponse("/console/login", 303)
    session, operator = found
    key = request.path_params["site"]
    require_site(operator, key)
    if key not in services(request).live.config.sites:
        raise Refusal(f"unknown site '{key[:64]}'", 404)
    context = shell_context(request, session, operator, key, section)
    if not is_admin(operator):
        return render("forbidden.html", 403, **context)
    return context


async def rules_page(request: Request) -> Response:
    context = await _admin_page(request, "rules")
    if isinstance(context, Response):
        return context
    shared = services(request)
    live = shared.live
    site = live.config.sites[context["site"]]
    catalog = live.config.catalog.get(site.key, ())
    # What each rule achieved lately, so that the rule behind a purchase is seen in the list.
    days = day_range({"days": str(RECENT_DAYS)}, site, shared.clock())
    achieved = rules_report(site, live.config.rules[site.key], await shared.store.read_counts(site.key, days))["rules"]
    words = texts(context["lang"])
    rows = [
        {**rule_row(rule, site, context["lang"]), "results": results_cells(achieved.get(rule.id), words)}
        for rule in catalog
    ]
    return render(
        "rules.html",
        **context,
        rows=rows,
        version=live.config.version,
        errors=live.last_error,
        counted=words["rules_count"].format(enabled=sum(row["enabled"] for row in rows), total=len(rows)),
        recent=words["results_range"].format(n=RECENT_DAYS, start=days[0], end=days[-1]),
        words=insight_texts(context["lang"]),
    )


def results_cells(totals: dict | None, words: dict[str, str]) -> dict[str, str]:
    """A rule's totals as the rules page shows them: numbers with separators, and its control
    group's conversions in words when it has one (nothing said about a group that does not exist)."""
    totals = totals or {}
    cells = {name: _number(totals.get(name, 0)) for name in ("decided", "shown", "converted", "value")}
    held_out = totals.get("held_out", 0)
    cells["control"] = (
        words["control_converted"].format(decided=_number(held_out), converted=_number(totals["converted_held_out"]))
        if held_out
        else ""
    )
    return cells


def _number(amount: int | float) -> str:
    return f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"


async def rule_page(request: Request) -> Response:
    context = await _admin_page(request, "rule")
    if isinstance(context, Response):
        return context
    rule_id = request.path_params["rule"]
    if not RULE_ID.match(rule_id):
        raise Refusal(f"no rule '{rule_id[:64]}' on site '{context['site']}'", 404)
    live = services(request).live
    site = live.config.sites[context["site"]]
    rule = next((rule for rule in live.config.catalog.get(site.key, ()) if rule.id == rule_id), None)
    api = f"/console/api/sites/{site.key}/insights/rules/{rule_id}"
    return _results(
        request, context, site, "rule.html", api, rule_id=rule_id, rule=rule and rule_row(rule, site, context["lang"])
    )


async def overview_page(request: Request) -> Response:
    context = await _admin_page(request, "overview")
    if isinstance(context, Response):
        return context
    site = services(request).live.config.sites[context["site"]]
    return _results(request, context, site, "overview.html", f"/console/api/sites/{site.key}/insights/overview")


def _results(request: Request, context: dict, site: Site, template: str, api: str, **extra) -> Response:
    """A results page: its date range (or the mistake in it, and the default range) and its API."""
    error = ""
    try:
        days = day_range(request.query_params, site, services(request).clock())
    except Refusal as refusal:
        error = str(refusal)
        days = day_range({}, site, services(request).clock())
    return render(
        template,
        **context,
        **extra,
        api=api,
        start=days[0],
        end=days[-1],
        presets=PRESETS,
        range_error=error,
        words=insight_texts(context["lang"]),
    )


async def preview_page(request: Request) -> Response:
    context = await _admin_page(request, "preview")
    if isinstance(context, Response):
        return context
    live = services(request).live
    text, result = EXAMPLE, None
    if request.method == "POST":
        session, _ = await signed_in(request)
        fields = await form_fields(request, PREVIEW_FORM)
        await require_csrf(request, session)
        text = fields.get("steps", "")
        result = await preview(text, context["site"], live.config)
    return render(
        "preview.html",
        **context,
        text=text,
        result=result,
        version=live.config.version,
        max_steps=MAX_STEPS,
        max_bytes=MAX_BYTES,
    )


def rule_row(rule: Rule, site: Site, language: str) -> dict:
    """A rule as the console lists it, with its effective holdout and goal (its own or the site's)."""
    words = texts(language)
    file, line = rule.where.rsplit(":", 2)[:2]
    share = holdout_of(rule, site)
    goal = rule.goal or next(iter(site.goals), None)
    return {
        "id": rule.id,
        "description": rule.description,
        "file": f"{Path(file).name}:{line}",
        "where": rule.where,
        "priority": rule.priority,
        "limit": limit_text(rule.limit, language),
        "holdout": f"{share * 100:g}%",
        "holdout_default": rule.holdout is None,
        "goal": goal or words["no_goal"],
        "goal_default": rule.goal is None and goal is not None,
        "enabled": rule.enabled,
        "shows": rule.action.type,
    }


def limit_text(limit: Limit, language: str) -> str:
    words = texts(language)
    parts = []
    if limit.per_visitor is not None:
        if limit.within is not None:
            parts.append(
                words["limit_within"].format(n=limit.per_visitor, within=duration_text(limit.within, language))
            )
        else:
            parts.append(words["limit_visitor"].format(n=limit.per_visitor))
    if limit.per_session is not None:
        parts.append(words["limit_session"].format(n=limit.per_session))
    return " · ".join(parts)


def duration_text(seconds: int, language: str) -> str:
    units = UNITS["ja" if language == "ja" else "en"]
    for unit, size in SIZES.items():
        if seconds % size == 0:
            return f"{seconds // size}{units[unit]}"
    return f"{seconds}{units['s']}"


ROUTES = [
    Route("/console/sites/{site}/rules", rules_page, methods=["GET"]),
    Route("/console/sites/{site}/rules/{rule}", rule_page, methods=["GET"]),
    Route("/console/sites/{site}/overview", overview_page, methods=["GET"]),
    Route("/console/sites/{site}/preview", preview_page, methods=["GET", "POST"]),
]
