"""A rule as the engine runs it: its conditions, its action, its limits, and what the index needs.

Made by :mod:`server.rules.read` from the rule files; used by :mod:`server.rules.engine` and
:mod:`server.engage`, which know nothing of files or YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from server.rules.actions import Action
from server.rules.conditions import AllOf
from server.rules.matchers import PathMatcher

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Limit:
    per_visitor: int | None = None
    within: int | None = None  # seconds; with per_visitor
    per_session: int | None = 1  # the default: once per session


@dataclass(frozen=True)
class Rule:
    id: str
    order: int  # position in the site's files: ties in priority go to the earlier rule
    where: str  # file:line:col of the rule
    when: AllOf
    action: Action
    limit: Limit = Limit()
    priority: int = 0
    description: str = ""
    events: frozenset[str] = frozenset()  # top-level `event:` names: the rule runs on those custom events
    nested_events: bool = False  # `event:` under any/not: the rule runs on every custom event too
    signals: frozenset[str] = frozenset()  # client signals whose arrival can make the rule hold
    thresholds: dict[str, frozenset[float]] = field(default_factory=dict)
    page: PathMatcher | None = None  # the top-level `page:` matcher, if any
    beyond_page: AllOf = AllOf(())  # `when` without the top-level `page:`, which the index checks once per path
    holdout: float | None = None  # the share of visitors held out (docs/insights.md); None: the site's
    goal: str | None = None  # the name of the site's goal it converts for; None: the site's first goal
    rank: tuple[int, int] = (0, 0)  # decision order: higher priority first, then file order (set below)
    enabled: bool = True  # `enabled: false` rules are read and checked, listed in the console, never run

    def __post_init__(self):
        object.__setattr__(self, "rank", (-self.priority, self.order))
