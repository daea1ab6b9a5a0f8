"""Compiled conditions: each is a small object whose ``test(facts)`` says whether it holds now.

What a condition may look at is :class:`~server.rules.facts.Facts`. Conditions never do I/O.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.rules.facts import Facts
from server.rules.matchers import MISSING, PathMatcher, ValueTest
from server.signals import on_site
from server.sites import Hours


class Condition:
    __slots__ = ()
    cost = 5  # rough relative cost of test(): conjunctions test cheap conditions first

    def test(self, facts: Facts) -> bool:
        raise NotImplementedError


class AllOf(Condition):
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Condition, ...]):
        # Order does not change a conjunction's meaning; cheap tests first let most rules fail fast.
        self.parts = tuple(sorted(parts, key=lambda part: part.cost))

    def test(self, facts: Facts) -> bool:
        for part in self.parts:
            if not part.test(facts):
                return False
        return True


class AnyOf(Condition):
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Condition, ...]):
        self.parts = parts

    def test(self, facts: Facts) -> bool:
        for part in self.parts:
            if part.test(facts):
                return True
        return False


class Not(Condition):
    __slots__ = ("part",)

    def __init__(self, part: Condition):
        self.part = part

    def test(self, facts: Facts) -> bool:
        return not self.part.test(facts)


class Page(Condition):
    __slots__ = ("matcher",)
    cost = 2

    def __init__(self, matcher: PathMatcher):
        self.matcher = matcher

    def test(self, facts: Facts) -> bool:
        return self.matcher.matches(facts.path)


class EventName(Condition):
    __slots__ = ("names",)
    cost = 1

    def __init__(self, names: frozenset[str]):
        self.names = names

    def test(self, facts: Facts) -> bool:
        return facts.event in self.names


@dataclass(frozen=True, slots=True)
class Count:
    """`at_least` / `at_most` bounds on a count (None: unbounded)."""

    at_least: int | None
    at_most: int | None

    def holds(self, count: int) -> bool:
        return (self.at_least is None or count >= self.at_least) and (self.at_most is None or count <= self.at_most)


# Windows (`within: 7d`) hold what happened in the last 7 days: later than exactly 7 days ago.


class PageViews(Condition):
    __slots__ = ("matcher", "count", "within")
    cost = 10

    def __init__(self, matcher: PathMatcher | None, count: Count, within: int | None):
        self.matcher, self.count, self.within = matcher, count, within

    def test(self, facts: Facts) -> bool:
        key = ("page_views", self.matcher.patterns if self.matcher else None, self.within)
        total = facts.counts.get(key)
        if total is None:
            since = None if self.within is None else facts.now - self.within
            total = 0
            for path, views in facts.state.page_views.items():
                if self.matcher is None or self.matcher.matches(path):
                    total += (
                        views.total if since is None else len(views.recent) - bisect.bisect_right(views.recent, since)
                    )
            facts.counts[key] = total
        return self.count.holds(total)


class Sessions(Condition):
    __slots__ = ("matcher", "count", "within")
    cost = 10

    def __init__(self, matcher: PathMatcher | None, count: Count, within: int | None):
        self.matcher, self.count, self.within = matcher, count, within

    def test(self, facts: Facts) -> bool:
        state = facts.state
        if self.matcher is None and self.within is None:
            return self.count.holds(state.sessions)
        key = ("sessions", self.matcher.patterns if self.matcher else None, self.within)
        total = facts.counts.get(key)
        if total is None:
            since = None if self.within is None else facts.now - self.within
            total = 0
            for session in state.session_log:
                if since is not None and session.last <= since:
                    continue
                if self.matcher is None or any(self.matcher.matches(path) for path in session.paths):
                    total += 1
            facts.counts[key] = total
        return self.count.holds(total)


class Events(Condition):
    __slots__ = ("name", "count", "within", "where", "key")
    cost = 10

    def __init__(self, name: str, count: Count, within: int | None, where: dict[str, ValueTest], where_key: str = ""):
        self.name, self.count, self.within, self.where = name, count, within, where
        self.key = ("events", name, within, where_key)  # where_key: the `where:` as written

    def test(self, facts: Facts) -> bool:
        state = facts.state
        if self.within is None and not self.where:
            return self.count.holds(state.event_counts.get(self.name, 0))
        total = facts.counts.get(self.key)
        if total is None:
            since = -1 if self.within is None else facts.now - self.within
            total = 0
            for event in state.recent_events:
                if (
                    event.name == self.name
                    and event.ts > since
                    and all(test(event.properties.get(key, MISSING)) for key, test in self.where.items())
                ):
                    total += 1
            facts.counts[self.key] = total
        return self.count.holds(total)


class Attributes(Condition):
    """`visitor:`: tests on the attributes and, with `verified`, on whether the identity was proven."""

    __slots__ = ("tests", "verified")
    cost = 2

    def __init__(self, tests: dict[str, ValueTest], verified: bool | None = None):
        self.tests = tests
        self.verified = verified

    def test(self, facts: Facts) -> bool:
        if self.verified is not None and facts.state.verified is not self.verified:
            return False
        attributes = facts.state.attributes
        for key, test in self.tests.items():
            if not test(attributes.get(key, MISSING)):
                return False
        return True


class Properties(Condition):
    """Tests on the current custom event's properties: `event: add_to_cart` + `properties: {category: tops}`."""

    __slots__ = ("tests",)
    cost = 2

    def __init__(self, tests: dict[str, ValueTest]):
        self.tests = tests

    def test(self, facts: Facts) -> bool:
        if facts.event is None:
            return False
        properties = facts.properties
        return all(test(properties.get(key, MISSING)) for key, test in self.tests.items())


class Returning(Condition):
    __slots__ = ("expected",)
    cost = 1

    def __init__(self, expected: bool):
        self.expected = expected

    def test(self, facts: Facts) -> bool:
        return (facts.state.sessions > 1) is self.expected


class Device(Condition):
    __slots__ = ("devices",)
    cost = 1

    def __init__(self, devices: frozenset[str]):
        self.devices = devices

    def test(self, facts: Facts) -> bool:
        return facts.state.device in self.devices


class Language(Condition):
    __slots__ = ("prefixes",)
    cost = 1

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes = prefixes

    def test(self, facts: Facts) -> bool:
        language = facts.state.language
        return any(language == p or language.startswith(p + "-") for p in self.prefixes)


class Referrer(Condition):
    __slots__ = ("regex",)
    cost = 2

    def __init__(self, regex):
        self.regex = regex

    def test(self, facts: Facts) -> bool:
        session = facts.state.session
        return session is not None and self.regex.match(session.referrer) is not None


class Utm(Condition):
    __slots__ = ("regexes",)
    cost = 2

    def __init__(self, regexes: dict[str, Any]):
        self.regexes = regexes

    def test(self, facts: Facts) -> bool:
        session = facts.state.session
        utm = session.utm if session is not None else {}
        for key, regex in self.regexes.items():
            value = utm.get(key)
            if value is None or regex.match(value) is None:
                return False
        return True


class OpenHours(Condition):
    """Now is within the hours, in the site's timezone (``hours: business`` uses site.yaml's)."""

    __slots__ = ("hours",)
    cost = 3

    def __init__(self, hours: Hours | None):
        self.hours = hours  # None: the site's business hours

    def test(self, facts: Facts) -> bool:
        hours = self.hours or facts.site.business_hours
        if hours is None:
            return False
        local = facts.local
        return hours.contains(local.weekday(), local.hour * 60 + local.minute)


class Dates(Condition):
    __slots__ = ("start", "end")
    cost = 3

    def __init__(self, start: datetime | None, end: datetime | None):
        self.start, self.end = start, end  # naive local times; end is exclusive

    def test(self, facts: Facts) -> bool:
        local = facts.local.replace(tzinfo=None)
        return (self.start is None or local >= self.start) and (self.end is None or local < self.end)


class ClientSignal(Condition):
    """A signal the widget reports from the page (time on page, scroll, exit intent, idle)."""

    __slots__ = ("name", "threshold")
    cost = 1

    def __init__(self, name: str, threshold: float):
        self.name, self.threshold = name, threshold

    def test(self, facts: Facts) -> bool:
        return facts.signals.get(self.name, 0) >= self.threshold


class TimeOnSite(ClientSignal):
    """Time since the session started: the server knows it; the widget's report only wakes us."""

    __slots__ = ()

    def __init__(self, threshold: float):
        super().__init__("time_on_site", threshold)

    def test(self, facts: Facts) -> bool:
        session = facts.state.session
        return session is not None and on_site(session, facts.now) >= self.threshold


class Sample(Condition):
    """A stable fraction of visitors: the same visitor is always in or always out.

    The split depends on the visitor only, so `sample: 50%` and `not: {sample: 50%}` are the
    two halves of one A/B split.
    """

    __slots__ = ("per_10000",)
    cost = 2

    def __init__(self, percent: float):
        self.per_10000 = int(round(percent * 100))

    def test(self, facts: Facts) -> bool:
        return facts.bucket < self.per_10000


def awaited_signals(condition: Condition) -> set[str]:
    """Client signals whose arrival can make `condition` hold (not those only under `not:`)."""
    found: dict[str, set[float]] = {}
    thresholds_of(condition, found)
    return set(found)


def thresholds_of(condition: Condition, into: dict[str, set[float]], positive: bool = True) -> None:
    """Each client signal's thresholds where reaching it can make `condition` hold (not under `not:`)."""
    if isinstance(condition, ClientSignal) and positive:
        into.setdefault(condition.name, set()).add(condition.threshold)
    for part in getattr(condition, "parts", ()):
        thresholds_of(part, into, positive)
    if isinstance(condition, Not):
        thresholds_of(condition.part, into, not positive)
