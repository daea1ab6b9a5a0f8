"""A site's compiled rules, indexed by what can trigger them, and the decision for one batch.

On each event only the rules that event can affect are evaluated: custom events look up
rules by name, page views and client signals look up rules by path (the answer is cached
per path) and signal. Rules are kept in decision order (highest priority first, then file
order), so the first rule whose conditions and limits hold is the one to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.rules.compile import Rule
from server.rules.conditions import Facts, signals_of
from server.sites import Site
from server.visitor import MAX_ENGAGEMENTS, Engagement, VisitorState

_PAGE_CACHE_LIMIT = 4096
WAKE_ONLY = frozenset({"time_on_site"})  # signals the server can also evaluate on a page view


@dataclass(frozen=True)
class Trigger:
    """One event of the batch that can make a rule fire."""

    kind: str  # "page_view", "track" or "signal"
    path: str
    name: str = ""  # the custom event's or the signal's name
    properties: dict | None = None
    signals: dict | None = None  # signals reached on the page (for "signal")


def _rank(rule: Rule) -> tuple[int, int]:
    return (-rule.priority, rule.order)


class RuleSet:
    def __init__(self, site: Site, rules: list[Rule]):
        self.site = site
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
        # For watching: the top-level conditions that hold or not without any client signal.
        self._static_parts = {rule.id: tuple(p for p in rule.when.parts if not signals_of(p)) for rule in self.watchers}
        self._paths: dict[tuple[str, str], list[Rule]] = {}

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
        if trigger.kind == "page_view":
            return self._for_path("page", self.on_page, trigger.path)
        if trigger.kind == "track":
            named = self.by_event.get(trigger.name, [])
            if not self.on_any_event:
                return named
            return sorted(named + self._for_path("any", self.on_any_event, trigger.path), key=_rank)
        return self._for_path("signal:" + trigger.name, self.by_signal.get(trigger.name, []), trigger.path)

    def decide(self, state: VisitorState, triggers: list[Trigger], now: float, visitor_id: str,
               exclude: frozenset[str] = frozenset()) -> tuple[Rule, Facts] | None:
        """The best rule to show (with the facts it held on), or None.

        A rule qualifies when its conditions hold for one of the triggers and its limits
        allow it. If the caller cannot show it (its template fails, its coupon pool is
        empty) it asks again with that rule in `exclude`, and gets the next best.
        """
        if not triggers or self._in_gap(state, now):
            return None
        limits = Limits(state, now)
        found: list[tuple[tuple[int, int], Rule, Facts]] = []
        for trigger in triggers:
            facts = Facts(state, now, trigger.path, self.site, visitor_id, event=trigger.name if trigger.kind == "track" else None,
                          properties=trigger.properties, signals=trigger.signals)
            for rule in self.candidates_for(trigger):
                if rule.id in exclude:
                    continue
                if found and _rank(rule) >= found[0][0]:
                    break  # nothing later in this list can beat the best so far
                if limits.allow(rule) and rule.when.test(facts):
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
        limits = Limits(state, now)
        facts = Facts(state, now, path, self.site, visitor_id)
        wanted: dict[str, set[float]] = {}
        session = state.session
        elapsed = now - session.start if session is not None else 0
        for rule in self._for_path("watch", self.watchers, path):
            if not limits.allow(rule):
                continue
            if not all(part.test(facts) for part in self._static_parts[rule.id]):
                continue
            for signal, thresholds in rule.thresholds.items():
                for threshold in thresholds:
                    if signal == "time_on_site":
                        remaining = threshold - elapsed
                        if remaining <= 0:
                            continue  # already true: the page view itself was evaluated with it
                        threshold = remaining
                    wanted.setdefault(signal, set()).add(float(threshold))
        return {signal: sorted(values) for signal, values in wanted.items()}

    def _in_gap(self, state: VisitorState, now: float) -> bool:
        return bool(state.engagements) and now - state.engagements[-1].ts < self.site.engagement_gap


class Limits:
    """How often each rule was shown to this visitor, for `limit:` checks."""

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


def claim(state: VisitorState, rule: Rule, now: float) -> None:
    """Record that `rule` is shown now; written with the visitor's state, atomically."""
    state.engagements.append(Engagement(int(now), rule.id, state.sessions))
    del state.engagements[:-MAX_ENGAGEMENTS]
