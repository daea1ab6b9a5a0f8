"""Conversion goals and control-group shares, as site.yaml and rule files write them.

On this branch (reports) only the seam of docs/insights-spec §1 that the reports read: the
Goal, a rule's effective holdout and goal. Helper A's branch (goals) owns this module and
parses ``goals:`` and ``holdout:``; on merge, take that branch's version of this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
