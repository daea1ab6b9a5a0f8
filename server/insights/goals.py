"""Conversion goals and control-group shares, as site.yaml and rule files write them.

``goals:`` in site.yaml names what counts as a conversion (docs/sites.md, docs/insights.md)::

    goals:                          # the first goal is the site's default
      purchase: {event: purchase, value: total, within: 7d}
      signup: {event: signup}

``holdout: 10%`` (site.yaml, or a rule to override it) is the share of visitors for whom a
rule is decided but not shown. Readers report every mistake as one line at its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from server.names import is_event_name
from server.scalars import Report, read_duration
from server.yamlsource import Node, Problems, suggest, type_name, written

GOAL_KEYS = ("event", "value", "within")
GOAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_WITHIN = 7 * 86400
MAX_HOLDOUT = 0.9  # a bigger control group would leave too few visitors to show the rule to
_PERCENT = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)%\s*$")


@dataclass(frozen=True)
class Goal:
    name: str
    event: str  # the custom event (`track`) that is the conversion
    value: str | None  # the event's property holding its value (an order total), if any
    within: int  # seconds after a decision in which the event converts for it


class _RuleLike(Protocol):
    holdout: float | None
    goal: str | None


class _SiteLike(Protocol):
    holdout: float
    goals: dict[str, Goal]


class _RulesLike(Protocol):
    site: _SiteLike
    by_id: dict


def holdout_of(rule: _RuleLike, site: _SiteLike) -> float:
    """The share of visitors held out of `rule`: its own `holdout`, else the site's."""
    return rule.holdout if rule.holdout is not None else site.holdout


def goal_of(rule_id: str, rules: _RulesLike) -> Goal | None:
    """The goal `rule_id` converts for: its `goal:` if the rule still exists, else the site's
    first goal; None when the site has no goals."""
    goals = rules.site.goals
    if not goals:
        return None
    rule = rules.by_id.get(rule_id)
    name = rule.goal if rule is not None else None
    return goals.get(name) if name in goals else next(iter(goals.values()))


def read_holdout(node: Node | None, report: Report, default: float | None = None) -> float | None:
    """A share of visitors from ``holdout: 10%``: 0.0 to MAX_HOLDOUT; decimals allowed (``2.5%``)."""
    if node is None:
        return default
    value = node.value
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if match is None:
        shown = f" '{value}'" if isinstance(value, (int, float, str)) and not isinstance(value, bool) else ""
        report(node, f"holdout is a percentage such as 10%, not {type_name(value)}{shown}")
        return default
    percent = float(match.group(1))
    if percent > MAX_HOLDOUT * 100:
        report(node, f"holdout {value.strip()} is too large; at most {MAX_HOLDOUT:.0%} of visitors can be held out")
        return default
    return percent / 100


def read_goal_name(node: Node | None, goals: dict[str, Goal], report: Report) -> str | None:
    """A rule's ``goal: NAME``, which must be one of site.yaml's goals."""
    if node is None:
        return None
    name = node.value
    if not isinstance(name, str):
        report(node, f"goal must be the name of a goal in site.yaml, not {type_name(name)}")
    elif not goals:
        report(node, f"unknown goal '{name}': site.yaml has no 'goals'; declare it there first")
    elif name not in goals:
        report(node, f"unknown goal '{name}'{suggest(name, goals)}; site.yaml's goals are: {', '.join(goals)}")
    else:
        return name
    return None


def parse_goals(node: Node, problems: Problems) -> dict[str, Goal]:
    """site.yaml's ``goals:``, in the order written (the first is the default); problems for the rest."""
    if not node.is_mapping():
        problems.add(
            node,
            f"'goals' must be a mapping of goal name to {{event: NAME, value: PROPERTY, within: 7d}}, "
            f"not {type_name(node.value)}",
        )
        return {}
    goals: dict[str, Goal] = {}
    for name, entry in node.value.items():
        goal = _goal(str(name), entry, problems)
        if goal is not None:
            goals[goal.name] = goal
    return goals


def _goal(name: str, node: Node, problems: Problems) -> Goal | None:
    before = len(problems)

    def report(at: Node, message: str) -> None:
        problems.add(at, f"goal '{name}': {message}")

    if not GOAL_NAME.match(name):
        report(node, "a goal's name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit")
    if not node.is_mapping():
        report(node, f"write the goal as {{event: NAME, value: PROPERTY, within: 7d}}, not {type_name(node.value)}")
        return None
    for key, child in node.value.items():
        if key not in GOAL_KEYS:
            report(child, f"unknown setting '{key}'{suggest(key, GOAL_KEYS)}; a goal takes {', '.join(GOAL_KEYS)}")
    event = node.value.get("event")
    if event is None:
        report(node, "needs 'event': the custom event that counts as a conversion, e.g. event: purchase")
    elif not is_event_name(event.value):
        report(event, f"'{written(event)}' is not an event name (letters, digits, '_', '.', ':' or '-', up to 64)")
    value = node.value.get("value")
    if value is not None and (not isinstance(value.value, str) or not value.value.strip()):
        report(value, f"'value' names a property of the event, e.g. value: total; not {type_name(value.value)}")
    within = read_duration(node.value.get("within"), report, minimum=1, default=DEFAULT_WITHIN)
    if len(problems) > before or event is None:
        return None
    return Goal(name, event.value, value.value if value is not None else None, within)
