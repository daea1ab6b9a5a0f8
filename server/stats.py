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

from datetime import datetime, timedelta

from server.sites import Site
from server.store.keys import KEEP_DAYS

MAX_DAYS = KEEP_DAYS  # as long as the store keeps a day's counters


def day_of(timestamp: float, site: Site) -> str:
    return datetime.fromtimestamp(timestamp, site.timezone).strftime("%Y-%m-%d")


def last_days(site: Site, now: float, days: int) -> list[str]:
    """The last `days` days in the site's timezone, oldest first, ending today."""
    today = datetime.fromtimestamp(now, site.timezone).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]
