"""What one batch adds to the rules' daily counters (read back by server.insights.report).

Per (day in the site's timezone, rule):

- ``decided``: the rule was decided for a visitor, shown or held out; ``held_out``: the part
  of them in its control group (docs/insights.md). Counted on the day of the decision.
- ``shown``, ``clicked``, ``dismissed``, ``copied``: the widget's feedback about a shown
  engagement (server.tracking.first_feedback), on the day it happened on screen.
- ``converted`` / ``converted_held_out``: decisions whose goal followed (server.insights.conversions),
  ``value`` / ``value_held_out``: the goal values they brought, ``value_sq`` / ``value_sq_held_out``:
  the sum over decisions of the square of each decision's value (for the variance). All on
  the day of the DECISION, so a day's row reads "of the visitors decided that day, how many
  converted", whenever they bought.

Every counter but the ``value_sq`` ones is also counted per dimension, under
``<counter>@device=<device>``, ``<counter>@hour=<0..23>`` (the hour of the decision, site
timezone) and ``<counter>@page=<path decided on>``; feedback and conversions take them from
the engagement they belong to and the visitor's device.
"""

from __future__ import annotations

from datetime import datetime

from server.events import Feedback
from server.insights.conversions import Conversion
from server.sites import Site
from server.stats import day_of
from server.tracking import event_time
from server.visitor import Engagement

RULE_COUNTERS = (
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
    "value_sq",
    "value_sq_held_out",
)
DIMENSIONS = ("device", "hour", "page")
NOT_BROKEN_DOWN = frozenset({"value_sq", "value_sq_held_out"})
UNKNOWN_DEVICE = "unknown"  # a request that said nothing of its device

Counts = dict[tuple[str, str, str], int | float]


def breakdown(counter: str, dimension: str, value: str | int) -> str:
    """The counter's name for one value of a dimension: ``decided@device=mobile``."""
    return f"{counter}@{dimension}={value}"


def counts_of(
    site: Site,
    device: str,
    decision: Engagement | None,
    feedback: list[tuple[Feedback, Engagement]],
    conversions: list[Conversion],
    now: float,
) -> Counts:
    """(day, rule, counter) -> amount for one batch: its decision, its feedback that counts, its conversions."""
    counts: Counts = {}
    device = device or UNKNOWN_DEVICE

    def add(day: str, engagement: Engagement, counter: str, amount: int | float) -> None:
        if not amount:
            return
        names = [counter]
        if counter not in NOT_BROKEN_DOWN:
            hour = datetime.fromtimestamp(engagement.ts, site.timezone).hour
            names += [
                breakdown(counter, "device", device),
                breakdown(counter, "hour", hour),
                breakdown(counter, "page", engagement.page),
            ]
        for name in names:
            key = (day, engagement.rule, name)
            counts[key] = counts.get(key, 0) + amount

    if decision is not None:
        day = day_of(decision.ts, site)
        add(day, decision, "decided", 1)
        add(day, decision, "held_out", int(decision.held_out))
    for event, engagement in feedback:
        # The day it happened on screen (a retried batch may arrive after midnight).
        add(day_of(event_time(event, now), site), engagement, event.action, 1)
    for conversion in conversions:
        engagement = conversion.engagement
        day = day_of(engagement.ts, site)
        group = "_held_out" if engagement.held_out else ""
        add(day, engagement, "converted" + group, int(conversion.first))
        add(day, engagement, "value" + group, conversion.value)
        after = conversion.before + conversion.value
        add(day, engagement, "value_sq" + group, after * after - conversion.before * conversion.before)
    return counts
