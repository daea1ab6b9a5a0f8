"""Conversions: a rule's goal event coming within its window after the rule was decided.

A goal event is a custom event (``track``) whose name is a goal's ``event`` (site.yaml
``goals:``). When one arrives at time t, each rule whose goal it is (server.insights.goals.goal_of)
looks at its most recent decision for this visitor, shown or held out, made in [t - within, t]:
that decision converts. The first such event marks it converted; every one adds its value (the
goal's ``value`` property when it is a plain number from 0 to MAX_GOAL_VALUE, else 0).

A pure function of the state and the batch's new events, run before the state is written with
compare-and-set: a retried batch brings no new events, so nothing converts twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from server.events import Event, Track
from server.insights.goals import Goal, goal_of
from server.rules.engine import RuleSet
from server.tracking import event_time
from server.visitor import Engagement, VisitorState

# An order total above this is taken for a mistake or a forgery and counts 0: one bad event must
# not make every mean and its interval meaningless (its square still adds up exactly in a float).
MAX_GOAL_VALUE = 1e12


@dataclass(frozen=True)
class Conversion:
    """One goal event counted for one decision (its engagement, already updated)."""

    engagement: Engagement
    goal: str  # the goal's name in site.yaml
    first: bool  # the decision's first goal event: it converts now
    value: float  # what this event added to the decision's value
    before: float  # the decision's value before it


def convert(state: VisitorState, events: list[Event], rules: RuleSet, now: float) -> list[Conversion]:
    """Mark the decisions that `events` (new, in time order) convert, and say what each added."""
    goals = rules.site.goals
    if not goals or not state.engagements:
        return []
    names = {goal.event for goal in goals.values()}
    found: list[Conversion] = []
    for event in events:
        if not isinstance(event, Track) or event.name not in names:
            continue
        moment = event_time(event, now)
        done: set[str] = set()  # rules already answered for this event
        for engagement in reversed(state.engagements):
            if engagement.rule in done or engagement.ts > moment:
                continue  # decided after the event: an earlier decision may be the one
            done.add(engagement.rule)
            goal = goal_of(engagement.rule, rules)
            if goal is None or goal.event != event.name or engagement.ts < moment - goal.within:
                continue  # its most recent decision before the event is too old: none converts
            value = goal_value(goal, event.properties)
            found.append(Conversion(engagement, goal.name, not engagement.converted, value, engagement.value))
            engagement.converted = True
            engagement.value += value
    return found


def goal_value(goal: Goal, properties: dict[str, Any]) -> float:
    """The event's value for `goal`: its `value` property when a number from 0 to MAX_GOAL_VALUE, else 0."""
    if goal.value is None:
        return 0.0
    raw = properties.get(goal.value)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return 0.0
    value = float(raw)
    return value if math.isfinite(value) and 0 <= value <= MAX_GOAL_VALUE else 0.0
