"""What each rule achieved, per day in the site's timezone: the counters a console reads.

``decided``: the server chose to show the rule (its reply carried ``show`` and the visitor's
state was written). ``shown``, ``clicked``, ``dismissed``, ``copied``: the widget reported it
in a ``feedback`` event. An impression is ``shown``, not ``decided``: a visitor may leave
before the popup appears. Only new events count, so a retried batch is counted once.

Feedback is a claim the client makes, so it counts only for a rule the server decided for
this visitor, and each kind at most once per decision (:func:`server.tracking.first_feedback`):
made-up rule ids count nothing, and a real rule's counters cannot be inflated by repeating
feedback. A rule decided before a reload removed or renamed it still counts its feedback.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.events import Feedback
from server.sites import Site
from server.store.keys import KEEP_DAYS
from server.tracking import event_time

COUNTERS = ("decided", "shown", "clicked", "dismissed", "copied")
MAX_DAYS = KEEP_DAYS  # as long as the store keeps a day's counters


def day_of(timestamp: float, site: Site) -> str:
    return datetime.fromtimestamp(timestamp, site.timezone).strftime("%Y-%m-%d")


def counts_of(site: Site, decided: str | None, feedback: list[Feedback], now: float) -> dict[tuple[str, str, str], int]:
    """(day, rule, counter) -> how many, for one batch: the rule decided now and the feedback that counts."""
    counts: dict[tuple[str, str, str], int] = {}
    if decided is not None:
        counts[day_of(now, site), decided, "decided"] = 1
    for event in feedback:
        # The day it happened on screen (a retried batch may arrive after midnight).
        key = (day_of(event_time(event, now), site), event.rule, event.action)
        counts[key] = counts.get(key, 0) + 1
    return counts


def last_days(site: Site, now: float, days: int) -> list[str]:
    """The last `days` days in the site's timezone, oldest first, ending today."""
    today = datetime.fromtimestamp(now, site.timezone).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def report(counts: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, dict[str, int]]]:
    """Every rule of every day with all five counters (0 when not counted), rules sorted by id."""
    return {
        day: {rule: {counter: rules[rule].get(counter, 0) for counter in COUNTERS} for rule in sorted(rules)}
        for day, rules in counts.items()
    }
