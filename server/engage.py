"""From a batch's new events to what the widget should show and watch: rules meet the visitor.

Runs between applying the events and writing the state back, so the limit a decision
claims is written atomically with everything else (compare-and-set): two tabs or two
server processes can never show a rule beyond its limit.

A visitor in the rule's control group (its ``holdout``, docs/insights.md) gets the decision
without the show: nothing in the reply, no coupon code taken, the limit claimed all the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.events import Event, Identify, PageView, SetAttributes, Signal, Track
from server.insights.goals import holdout_of
from server.insights.holdout import held_out
from server.rules.engine import RuleSet, Trigger, claim
from server.rules.facts import Facts
from server.rules.model import Rule
from server.rules.templates import RenderError
from server.sites import Site
from server.tracking import split_url
from server.visitor import Engagement, VisitorState

log = logging.getLogger("irasshai.rules")
MAX_TRIES = 5  # rules skipped (bad template, empty pool) before giving up for this batch


class Coupons(Protocol):
    async def code_for(self, site: Site, pool: CouponPool, visitor_id: str, now: float) -> Coupon | None:
        """The visitor's code from `pool` (the same one every time), or None if the pool is empty."""


@dataclass
class Outcome:
    show: dict[str, Any] | None = None  # None also when the decision was held out
    watch: dict[str, list[float]] | None = None
    rule: Rule | None = None  # the rule decided, shown or held out
    decision: Engagement | None = None  # its record in the visitor's state


def triggers_of(events: list[Event]) -> list[Trigger]:
    triggers = []
    for event in events:
        if isinstance(event, PageView):
            triggers.append(Trigger("page_view", split_url(event.url)[0]))
        elif isinstance(event, Track):
            triggers.append(
                Trigger("track", split_url(event.url)[0] if event.url else "", event.name, properties=event.properties)
            )
        elif isinstance(event, Signal):
            reached = {**event.reached, event.signal: max(event.value, event.reached.get(event.signal, 0))}
            triggers.append(Trigger("signal", split_url(event.url)[0], event.signal, signals=reached))
    return triggers


async def engage(
    state: VisitorState,
    events: list[Event],
    rules: RuleSet,
    now: float,
    visitor_id: str,
    coupons: Coupons,
    holdouts: bool = True,
) -> Outcome:
    """The rule decided for this batch (claimed in `state`), what to show and what to watch.

    `holdouts` False shows every decision, as the treatment group sees it (rule tests, preview).
    """
    outcome = Outcome()
    triggers = triggers_of(events)
    excluded: set[str] = set()
    while len(excluded) < MAX_TRIES:
        best = rules.decide(state, triggers, now, visitor_id, frozenset(excluded))
        if best is None:
            break
        rule, facts = best
        control = holdouts and held_out(rules.site.key, rule.id, visitor_id, holdout_of(rule, rules.site))
        show = await _render(rule, facts, rules, visitor_id, now, None if control else coupons)
        if show is None:
            excluded.add(rule.id)
            continue
        page = facts.path or next(reversed(state.page_views), "")  # a custom event may come without its page
        outcome.decision = claim(state, rule, now, page, held_out=control)
        outcome.rule, outcome.show = rule, None if control else show
        break
    # What to watch changes with a page view, and also when the visitor's state changed on the
    # page (an add-to-cart in a single-page shop can make an exit-intent offer possible).
    page = next((t.path for t in reversed(triggers) if t.cause == "page_view"), None)
    if page is None and any(isinstance(e, (Track, SetAttributes, Identify)) for e in events) and state.page_views:
        page = next(reversed(state.page_views))  # the page viewed last
    if page is not None:
        outcome.watch = rules.watch(state, page, now, visitor_id)
    return outcome


async def _render(
    rule: Rule, facts: Facts, rules: RuleSet, visitor_id: str, now: float, coupons: Coupons | None
) -> dict[str, Any] | None:
    """The show rendered, or None (logged) when the rule cannot be shown. Without `coupons` (a
    held-out decision) only checks that the text renders, with a stand-in code: none is taken."""
    site = rules.site
    coupon = None
    if rule.action.pool is not None:
        pool = site.coupons[rule.action.pool]
        stand_in = Coupon(pool.code or pool.prefix + "X" * pool.length, pool.discount, 0)
        try:  # a text that cannot render must not use up a unique code
            checked = rule.action.render(scope(facts, stand_in))
        except RenderError as error:
            log.warning("site %s: rule %s skipped: its text did not render: %s", site.key, rule.id, error)
            return None
        if coupons is None:
            return checked  # held out: the text renders, and no code is taken
        coupon = await coupons.code_for(site, pool, visitor_id, now)
        if coupon is None:
            log.warning(
                "site %s: rule %s skipped: coupon pool '%s' has no code for this visitor "
                "(exhausted, or their code has expired)",
                site.key,
                rule.id,
                rule.action.pool,
            )
            return None
    try:
        show = rule.action.render(scope(facts, coupon))
    except RenderError as error:
        log.warning("site %s: rule %s skipped: its text did not render: %s", site.key, rule.id, error)
        return None
    show["rule"] = rule.id
    show["lang"] = site.language
    show.setdefault("placement", site.placement)
    if coupon is not None:
        show["code"] = coupon.code
        if coupon.discount:
            show["discount"] = coupon.discount
        if coupon.expires_at:
            show["expires_at"] = _local_date(coupon.expires_at, site)
    return show


def scope(facts: Facts, coupon: Coupon | None) -> dict[str, Any]:
    """What templates can use: visitor (its attributes, which win over the built-in sessions,
    returning, device and language of the same name), page (its path and title), coupon and site (its business
    hours as words in the site's language, the language the widget speaks: 「平日 9:00〜18:00」)."""
    state, site = facts.state, facts.site
    visitor = {
        "sessions": state.sessions,
        "returning": state.sessions > 1,
        "device": state.device,
        "language": state.language,
        **state.attributes,
    }
    hours = site.business_hours.describe(site.language) if site.business_hours else ""
    views = state.page_views.get(facts.path)
    values = {
        "visitor": visitor,
        "page": {"path": facts.path, "title": views.title if views else ""},
        "site": {"key": site.key, "name": site.name, "hours": hours},
    }
    if coupon is not None:
        values["coupon"] = {
            "code": coupon.code,
            "discount": coupon.discount,
            "expires_at": _local_date(coupon.expires_at, site) if coupon.expires_at else "",
        }
    return values


def _local_date(timestamp: int, site) -> str:
    return datetime.fromtimestamp(timestamp, site.timezone).strftime("%Y-%m-%d")
