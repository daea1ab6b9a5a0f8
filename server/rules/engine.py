"""A site's compiled rules, indexed by what can trigger them, and the decision for one batch.

On each event only the rules that event can affect are evaluated: custom events look up
rules by name and then by what their `properties:` test (server/rules/event_index.py), page
views and client signals look up rules by path (the answer is cached per path) and signal. Rules are kept in decision order (highest priority first, then file
order), so the first rule whose conditions and limits hold is the one to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.rules.conditions import awaited_signals
from server.rules.event_index import EventIndex
from server.rules.facts import Facts
from server.rules.model import Rule
from server.signals import on_site
from server.sites import Site
from server.visitor import MAX_ENGAGEMENT_PAGE_BYTES, MAX_ENGAGEMENTS, Engagement, VisitorState, clip

_PAGE_CACHE_LIMIT = 4096
WAKE_ONLY = frozenset({"time_on_site"})  # signals the server can also evaluate on a page view


@dataclass(frozen=True)
class Trigger:
    """One event of the batch that can make a rule fire."""

    cause: str  # "page_view", "track" or "signal"
    path: str
    name: str = ""  # the custom event's or the signal's name
    properties: dict | None = None
    signals: dict | None = None  # signals reached on the page (for "signal")


@dataclass(frozen=True)
class _WatchPlan:
    """For one path: each watcher with its static conditions and (signal, threshold) pairs."""

    rules: list  # (rule, static conditions, pairs)
    conditional: list  # the entries whose static conditions must be checked per visitor
    unconditional: dict[str, set[float]]  # merged pairs of the entries without static conditions


def _rank(rule: Rule) -> tuple[int, int]:
    return rule.rank


class RuleSet:
    def __init__(self, site: Site, rules: list[Rule], index_properties: bool = True):
        self.site = site
        self.index_properties = index_properties  # False: every rule naming the event is tested (for tests)
        self.rules = sorted(rules, key=_rank)
        self.by_id = {rule.id: rule for rule in self.rules}
        self.by_event: dict[str, list[Rule]] = {}
        self.on_any_event: list[Rule] = []
        self.on_page: list[Rule] = []  # evaluated on page views
        self.by_signal: dict[str, list[Rule]] = {}
        self.watchers: list[Rule] = []  # rules that need the widget to watch a signal
        for rule in self.rules:
            if rule.events:
                for name in rule.events:
                    self.by_event.setdefault(name, []).append(rule)
                continue
            if rule.nested_events:
                self.on_any_event.append(rule)
            if rule.signals <= WAKE_ONLY:
                self.on_page.append(rule)
            for signal in rule.signals:
                self.by_signal.setdefault(signal, []).append(rule)
            if rule.signals:
                self.watchers.append(rule)
        # For watching: the conditions that hold or not without any client signal (the top-level
        # page is checked by the per-path lists already).
        self._static = {
            rule.id: tuple(p for p in rule.beyond_page.parts if not awaited_signals(p)) for rule in self.watchers
        }
        self._plans: dict[str, _WatchPlan] = {}
        self._paths: dict[tuple[str, str], list[Rule]] = {}
        self._events: dict[tuple[str, str], EventIndex] = {}

    def __len__(self) -> int:
        return len(self.rules)

    def _for_path(self, group: str, rules: list[Rule], path: str) -> list[Rule]:
        """`rules` whose top-level `page:` matches `path` (or that have none), cached per path."""
        key = (group, path)
        found = self._paths.get(key)
        if found is None:
            if len(self._paths) >= _PAGE_CACHE_LIMIT:
                self._paths.clear()
            found = self._paths[key] = [r for r in rules if r.page is None or r.page.matches(path)]
        return found

    def candidates_for(self, trigger: Trigger) -> list[Rule]:
        """The rules `trigger` can affect, in decision order; their top-level `page:` already matches."""
        if trigger.cause == "page_view":
            return self._for_path("page", self.on_page, trigger.path)
        if trigger.cause == "track":
            return self._event_index(trigger).candidates(trigger.properties or {})
        return self._for_path("signal:" + trigger.name, self.by_signal.get(trigger.name, []), trigger.path)

    def _event_index(self, trigger: Trigger) -> EventIndex:
        """The rules a custom event of this name can affect on this path, indexed by property (cached)."""
        index = self._events.get((trigger.name, trigger.path))
        if index is None:
            if len(self._events) >= _PAGE_CACHE_LIMIT:
                self._events.clear()
            rules = sorted(self.by_event.get(trigger.name, []) + self.on_any_event, key=_rank)
            rules = [r for r in rules if r.page is None or r.page.matches(trigger.path)]
            index = EventIndex(trigger.name, rules, self.index_properties)
            self._events[(trigger.name, trigger.path)] = index
        return index

    def decide(
        self,
        state: VisitorState,
        triggers: list[Trigger],
        now: float,
        visitor_id: str,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[Rule, Facts] | None:
        """The best rule to show (with the facts it held on), or None.

        A rule qualifies when its conditions hold for one of the triggers and its limits
        allow it. If the caller cannot show it (its template fails, its coupon pool is
        empty) it asks again with that rule in `exclude`, and gets the next best.
        """
        if not triggers or self._in_gap(state, now):
            return None
        limits = Limits(state, now)
        found: list[tuple[tuple[int, int], Rule, Facts]] = []
        counts: dict[tuple, int] = {}  # what the rules count, counted once for all the batch's triggers
        for trigger in triggers:
            facts = Facts(
                state,
                now,
                trigger.path,
                self.site,
                visitor_id,
                event=trigger.name if trigger.cause == "track" else None,
                properties=trigger.properties,
                signals=trigger.signals,
                counts=counts,
            )
            if trigger.cause == "track":
                # What the index already knows holds (the event's name, the property it looked up)
                # is left out of each rule's conditions.
                index = self._event_index(trigger)
                rules, conditions = index.candidates(facts.properties), index.conditions
            else:
                rules, conditions = self.candidates_for(trigger), None
            for rule in rules:
                if rule.id in exclude:
                    continue
                if found and _rank(rule) >= found[0][0]:
                    break  # nothing later in this list can beat the best so far
                when = conditions[rule.id] if conditions is not None else rule.beyond_page
                if limits.allow(rule) and when.test(facts):
                    found.append((_rank(rule), rule, facts))
                    found.sort(key=lambda item: item[0])
                    break
        return (found[0][1], found[0][2]) if found else None

    def watch(self, state: VisitorState, path: str, now: float, visitor_id: str) -> dict[str, list[float]]:
        """Client signals the widget should watch on `path`: those of rules that could still fire.

        A rule could still fire when its limits allow it and every top-level condition that
        does not depend on a client signal holds now.
        """
        if not self.watchers:
            return {}
        plan = self._watch_plan(path)
        if not plan.rules:
            return {}
        limits = Limits(state, now)
        facts = Facts(state, now, path, self.site, visitor_id)
        session = state.session
        elapsed = on_site(session, now) if session is not None else 0
        if not state.engagements:
            # Nothing shown yet, so no limit stops a rule: rules without conditions to check
            # want what was merged for this path once.
            wanted = {signal: set(values) for signal, values in plan.unconditional.items()}
            rules = plan.conditional
        else:
            wanted, rules = {}, plan.rules
        for rule, static, pairs in rules:
            if not limits.allow(rule):
                continue
            if static and not all(part.test(facts) for part in static):
                continue
            for signal, threshold in pairs:
                wanted.setdefault(signal, set()).add(threshold)
        for rule, _, _ in plan.rules:  # time on site counts from the session's start: per visitor
            for threshold in rule.thresholds.get("time_on_site", ()):
                if threshold - elapsed > 0 and limits.allow(rule) and all(p.test(facts) for p in self._static[rule.id]):
                    wanted.setdefault("time_on_site", set()).add(float(threshold - elapsed))
        return {signal: sorted(values) for signal, values in wanted.items()}

    def _watch_plan(self, path: str) -> _WatchPlan:
        plan = self._plans.get(path)
        if plan is None:
            if len(self._plans) >= _PAGE_CACHE_LIMIT:
                self._plans.clear()
            entries = []
            for rule in self._for_path("watch", self.watchers, path):
                pairs = tuple(
                    (signal, float(t)) for signal, ts in rule.thresholds.items() if signal != "time_on_site" for t in ts
                )
                entries.append((rule, self._static[rule.id], pairs))
            unconditional: dict[str, set[float]] = {}
            for _, static, pairs in entries:
                if not static:
                    for signal, threshold in pairs:
                        unconditional.setdefault(signal, set()).add(threshold)
            plan = self._plans[path] = _WatchPlan(entries, [e for e in entries if e[1]], unconditional)
        return plan

    def _in_gap(self, state: VisitorState, now: float) -> bool:
        return bool(state.engagements) and now - state.engagements[-1].ts < self.site.engagement_gap


class Limits:
    """How often each rule was decided for this visitor (shown or held out), for `limit:` checks."""

    __slots__ = ("state", "now", "session", "_by_rule")

    def __init__(self, state: VisitorState, now: float):
        self.state = state
        self.now = now
        self.session = state.sessions
        self._by_rule: dict[str, list[Engagement]] | None = None

    def allow(self, rule: Rule) -> bool:
        if not self.state.engagements:
            return True
        if self._by_rule is None:
            self._by_rule = {}
            for engagement in self.state.engagements:
                self._by_rule.setdefault(engagement.rule, []).append(engagement)
        shown = self._by_rule.get(rule.id)
        if not shown:
            return True
        this_session = [e for e in shown if e.session == self.session]
        if any(e.dismissed for e in this_session):
            return False  # a dismissed engagement does not come back in that session
        limit = rule.limit
        if limit.per_session is not None and len(this_session) >= limit.per_session:
            return False
        if limit.per_visitor is not None:
            since = -1 if limit.within is None else self.now - limit.within
            if sum(1 for e in shown if e.ts > since) >= limit.per_visitor:
                return False
        return True


def claim(state: VisitorState, rule: Rule, now: float, page: str = "", held_out: bool = False) -> Engagement:
    """Record that `rule` is decided now on `page`, shown or `held_out` (claimed all the same, so
    both groups meet the same limits); written with the visitor's state, atomically."""
    engagement = Engagement(
        int(now), rule.id, state.sessions, held_out=held_out, page=clip(page, MAX_ENGAGEMENT_PAGE_BYTES)
    )
    state.engagements.append(engagement)
    del state.engagements[:-MAX_ENGAGEMENTS]
    return engagement
