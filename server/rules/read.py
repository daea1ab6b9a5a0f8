"""Rule files (``rules/<site>/*.yaml``) read into :class:`~server.rules.model.Rule` objects, every mistake reported.

A rule's keys (id, enabled, priority, description, when, show, limit, holdout, goal) are checked here;
its conditions are compiled by :mod:`server.rules.compile` and its action by
:mod:`server.rules.actions`. Problems come back as ``path:line:col: rule "id": message``,
all of them: nothing stops at the first mistake.
"""

from __future__ import annotations

from pathlib import Path

from server.chat.faq_file import FAQ_FILE
from server.console.replies import REPLIES_FILE
from server.insights.goals import read_goal_name, read_holdout
from server.rules.actions import compile_action
from server.rules.compile import Checking, compile_conditions
from server.rules.conditions import (
    AllOf,
    EventName,
    Not,
    Page,
    Properties,
    awaited_signals,
    thresholds_of,
)
from server.rules.model import RULE_ID, Limit, Rule
from server.scalars import read_boolean, read_duration, read_integer
from server.sites import SITE_FILE, Site
from server.yamlsource import Node, Problems, check_keys, parse_file, type_name

RULE_KEYS = ("id", "description", "enabled", "priority", "when", "show", "limit", "holdout", "goal")


def rule_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in (".yaml", ".yml")
        and p.name not in (SITE_FILE, FAQ_FILE, REPLIES_FILE)
        and not p.name.endswith((".test.yaml", ".test.yml"))
    )


def read_site_rules(folder: Path, site: Site, problems: Problems) -> list[Rule]:
    """Every enabled rule in the site's folder, in file order; problems for the rest."""
    return [rule for rule in read_every_rule(folder, site, problems) if rule.enabled]


def read_every_rule(folder: Path, site: Site, problems: Problems) -> list[Rule]:
    """Every rule in the site's folder, enabled or not (``Rule.enabled``), in file order; problems
    for the rest. The engine gets only the enabled ones; the console's Rules page lists them all."""
    rules: list[Rule] = []
    first_seen: dict[str, str] = {}
    order = 0
    for path in rule_files(folder):
        root = parse_file(path, problems)
        if root is None:
            continue
        if root.value is None:
            continue  # an empty file holds no rules
        if not root.is_mapping() or "rules" not in root.value:
            problems.add(root, "a rule file holds 'rules:', a list of rules")
            continue
        check_keys(root, ("rules",), problems)
        items = root.value["rules"]
        if not items.is_list():
            problems.add(items, f"'rules' must be a list of rules, not {type_name(items.value)}")
            continue
        for item in items.value:
            order += 1
            rule = _rule(item, order, site, first_seen, problems)
            if rule is not None:
                rules.append(rule)
    return rules


def _rule(node: Node, order: int, site: Site, first_seen: dict, problems: Problems) -> Rule | None:
    if not node.is_mapping():
        problems.add(node, f"each rule must be a mapping with id, when and show; not {type_name(node.value)}")
        return None
    entries = node.value
    rule_id = entries["id"].value if "id" in entries else None
    label = rule_id if isinstance(rule_id, str) else None
    checking = Checking(problems, label, site)
    before = len(problems)
    check_keys(node, RULE_KEYS, problems, label)
    if rule_id is None:
        problems.add(node, "rule needs an 'id'")
    elif isinstance(rule_id, bool):
        checking.error(entries["id"], 'YAML reads this id as true/false; put it in quotes, e.g. id: "off"')
    elif not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        checking.error(
            entries["id"], "id must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    elif rule_id in first_seen:
        checking.error(entries["id"], f"duplicate rule id (first defined at {first_seen[rule_id]})")
    else:
        first_seen[rule_id] = entries["id"].where
    enabled = read_boolean(entries.get("enabled"), checking.error, default=True)
    priority = read_integer(entries.get("priority"), checking.error, "priority", default=0)
    description = entries.get("description")
    if description is not None and not isinstance(description.value, str):
        checking.error(description, f"description must be text, not {type_name(description.value)}")
    when_node = entries.get("when")
    when = AllOf(())
    if when_node is not None:
        when = compile_conditions(when_node, checking) or AllOf(())
    action = compile_action(entries.get("show"), node, site.coupons, problems, label)
    limit = _limit(entries.get("limit"), checking)
    holdout = read_holdout(entries.get("holdout"), checking.error)
    goal = read_goal_name(entries.get("goal"), site.goals, checking.error)
    if len(problems) > before:
        return None
    events = _conjunctive_events(when)
    # How the rule would run is checked for enabled rules only (a disabled one is listed, never run).
    if enabled and _has_properties_without_event(when, events):
        checking.error(when_node, "'properties' tests the current custom event, so the rule also needs 'event: NAME'")
        return None
    if enabled and events and awaited_signals(when) - {"time_on_site"}:
        checking.error(
            when_node,
            "a rule with 'event:' runs when that custom event arrives, never on a client signal; "
            "split it into two rules",
        )
        return None
    thresholds: dict[str, set[float]] = {}
    thresholds_of(when, thresholds)
    return Rule(
        id=rule_id,
        order=order,
        where=node.where,
        when=when,
        action=action,
        limit=limit,
        priority=priority,
        description=description.value if description else "",
        events=events,
        nested_events=_has_nested_event(when),
        signals=frozenset(awaited_signals(when)),
        thresholds={k: frozenset(v) for k, v in thresholds.items()},
        page=next((p.matcher for p in when.parts if isinstance(p, Page)), None),
        beyond_page=AllOf(tuple(p for p in when.parts if not isinstance(p, Page))),
        holdout=holdout,
        goal=goal,
        enabled=enabled is not False,
    )


def _conjunctive_events(condition: AllOf) -> frozenset[str]:
    """Event names every match needs: `event:` at the top level or under (nested) `all:`."""
    names = None
    for part in condition.parts:
        found = (
            part.names
            if isinstance(part, EventName)
            else (_conjunctive_events(part) if isinstance(part, AllOf) else None)
        )
        if found:
            names = found if names is None else names & found
    return names or frozenset()


def _has_nested_event(when: AllOf) -> bool:
    """`event:` under `any:` or `not:`: such a rule must be evaluated on every custom event."""

    def walk(cond, conjunctive):
        if isinstance(cond, EventName):
            return not conjunctive
        inner = list(getattr(cond, "parts", ())) + ([cond.part] if isinstance(cond, Not) else [])
        return any(walk(part, conjunctive and isinstance(cond, AllOf)) for part in inner)

    return any(walk(part, True) for part in when.parts)


def _has_properties_without_event(when: AllOf, events: frozenset[str]) -> bool:
    def walk(cond):
        if isinstance(cond, Properties):
            return True
        inner = list(getattr(cond, "parts", ())) + ([cond.part] if isinstance(cond, Not) else [])
        return any(walk(part) for part in inner)

    return not events and not _has_nested_event(when) and walk(when)


def _limit(node: Node | None, checking: Checking) -> Limit:
    if node is None:
        return Limit()
    if not node.is_mapping():
        checking.error(node, "limit takes {per_visitor: 1, within: 30d} and/or {per_session: 1}")
        return Limit()
    check_keys(node, ("per_visitor", "within", "per_session"), checking.problems, checking.rule)
    per_visitor = read_integer(node.value.get("per_visitor"), checking.error, "per_visitor", minimum=1)
    per_session = read_integer(node.value.get("per_session"), checking.error, "per_session", minimum=1)
    within = read_duration(node.value.get("within"), checking.error, minimum=1, name="within")
    if within is not None and per_visitor is None:
        checking.error(node.value["within"], "within goes with per_visitor (N times per visitor within a period)")
    if "per_visitor" not in node.value and "per_session" not in node.value:
        checking.error(node, "limit needs per_visitor or per_session")
    return Limit(per_visitor, within, per_session)
