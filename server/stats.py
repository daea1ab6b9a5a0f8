"""What each rule achieved, per day in the site's timezone: the days a report covers, and their counters.

The counters themselves, and what one batch adds to them, are described in
:mod:`server.insights.counters`. In short: ``decided`` counts every decision of a rule for a
visitor, shown or held out (its control group, counted ``held_out`` too); ``shown``,
``clicked``, ``dismissed``, ``copied``: the widget reported it in a ``feedback`` event. An
impression is ``shown``, not ``decided``: a visitor may leave before the popup appears, and a
held-out visitor never sees it. Only new events count, so a retried batch is counted once.

Feedback is a claim the client makes, so it counts only for a rule the server showed to
this visitor, and each kind at most once per decision (:func:`server.tracking.first_feedback`):
made-up rule ids count nothing, and a real rule's counters cannot be inflated by repeating
feedback. A rule decided before a reload removed or renamed it still counts its feedback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo

from server.sites import Site
from server.store.keys import KEEP_DAYS

MAX_DAYS = KEEP_DAYS  # as long as the store keeps a day's counters
DEFAULT_DAYS = 7
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class RangeError(ValueError):
    """The range asked for is not one: one line naming the parameter (the web layer answers 400)."""


def day_of(timestamp: float, site: Site) -> str:
    # Every timezone's offset is a whole number of quarter hours: a quarter hour's day is computed once.
    return _quarter_day(site.timezone, int(timestamp // 900))


@functools.lru_cache(maxsize=4096)
def _quarter_day(timezone: tzinfo, quarter: int) -> str:
    return datetime.fromtimestamp(quarter * 900, timezone).strftime("%Y-%m-%d")


def last_days(site: Site, now: float, days: int) -> list[str]:
    """The last `days` days in the site's timezone, oldest first, ending today."""
    today = datetime.fromtimestamp(now, site.timezone).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def day_range(query: Mapping[str, str], site: Site, now: float) -> list[str]:
    """The days a report covers, oldest first: ``days=N`` (the last N days in the site's timezone,
    today included; DEFAULT_DAYS without any) or ``from=YYYY-MM-DD&to=YYYY-MM-DD`` (both
    included); at most MAX_DAYS. The stats API and the console both read their range here."""
    if "from" in query or "to" in query:
        if "days" in query:
            raise RangeError("give either days or from and to, not both")
        start, end = _date(query, "from"), _date(query, "to")
        if end < start:
            raise RangeError(f"from ({start}) is after to ({end})")
        count = (end - start).days + 1
        if count > MAX_DAYS:
            raise RangeError(f"from {start} to {end} is {count} days; at most {MAX_DAYS} days at once")
        return [(start + timedelta(days=offset)).isoformat() for offset in range(count)]
    text = query.get("days", str(DEFAULT_DAYS))
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_DAYS):
        raise RangeError(f"days has value '{text[:20]}'; expected a whole number from 1 to {MAX_DAYS}")
    return last_days(site, now, int(text))


def _date(query: Mapping[str, str], name: str) -> date:
    text = query.get(name)
    if text is None:
        raise RangeError(f"{name} is missing; give from and to together (YYYY-MM-DD), or days")
    try:
        if DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise RangeError(f"{name} has value '{text[:20]}'; expected a date as YYYY-MM-DD, such as 2026-03-02")
