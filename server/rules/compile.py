"""Rule files (``rules/<site>/*.yaml``) compiled into :class:`Rule` objects, every mistake reported.

Each condition key under ``when:`` has one compile function in :data:`CONDITIONS`; each
reports problems as ``path:line:col: rule "id": message`` and returns a compiled
condition or None. Nothing stops at the first mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from server.durations import parse_duration
from server.rules import conditions as c
from server.rules.actions import Action, compile_action
from server.rules.matchers import OPERATORS, PathMatcher, ValueTest, check_pattern, glob_regex
from server.sites import SITE_FILE, Site, parse_hours
from server.yamlsource import Node, Problems, check_keys, parse_file, type_name

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RULE_KEYS = ("id", "description", "enabled", "priority", "when", "show", "limit")
DEVICES = ("mobile", "tablet", "desktop")


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
    when: c.All
    action: Action
    limit: Limit = Limit()
    priority: int = 0
    description: str = ""
    events: frozenset[str] = frozenset()  # top-level `event:` names: the rule runs on those custom events
    nested_events: bool = False  # `event:` under any/not: the rule runs on every custom event too
    signals: frozenset[str] = frozenset()  # client signals mentioned anywhere
    thresholds: dict[str, frozenset[float]] = field(default_factory=dict)
    page: PathMatcher | None = None  # the top-level `page:` matcher, if any
    rest: c.All = c.All(())  # `when` without the top-level `page:`, which the index checks once per path
    rank: tuple[int, int] = (0, 0)  # decision order: higher priority first, then file order (set below)

    def __post_init__(self):
        object.__setattr__(self, "rank", (-self.priority, self.order))


def rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.name != SITE_FILE
                  and not p.name.endswith((".test.yaml", ".test.yml")))


def compile_site_rules(folder: Path, site: Site, problems: Problems) -> list[Rule]:
    """Every enabled rule in the site's folder, in file order; problems for the rest."""
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


class _Context:
    def __init__(self, problems: Problems, rule: str, site: Site):
        self.problems, self.rule, self.site = problems, rule, site

    def error(self, node: Node, message: str) -> None:
        self.problems.add(node, message, self.rule)


def _rule(node: Node, order: int, site: Site, first_seen: dict, problems: Problems) -> Rule | None:
    if not node.is_mapping():
        problems.add(node, f"each rule must be a mapping with id, when and show; not {type_name(node.value)}")
        return None
    entries = node.value
    rule_id = entries["id"].value if "id" in entries else None
    label = rule_id if isinstance(rule_id, str) else None
    ctx = _Context(problems, label, site)
    before = len(problems)
    check_keys(node, RULE_KEYS, problems, label)
    if rule_id is None:
        problems.add(node, "rule needs an 'id'")
    elif isinstance(rule_id, bool):
        ctx.error(entries["id"], "YAML reads this id as true/false; put it in quotes, e.g. id: \"off\"")
    elif not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        ctx.error(entries["id"], "id must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit")
    elif rule_id in first_seen:
        ctx.error(entries["id"], f"duplicate rule id (first defined at {first_seen[rule_id]})")
    else:
        first_seen[rule_id] = entries["id"].where
    enabled = _boolean(entries.get("enabled"), True, ctx)
    priority = _integer(entries.get("priority"), 0, ctx, "priority")
    description = entries.get("description")
    if description is not None and not isinstance(description.value, str):
        ctx.error(description, f"description must be text, not {type_name(description.value)}")
    when_node = entries.get("when")
    when = c.All(())
    if when_node is not None:
        when = _conjunction(when_node, ctx) or c.All(())
    action = compile_action(entries.get("show"), node, site.coupons, problems, label)
    limit = _limit(entries.get("limit"), ctx)
    if len(problems) > before or not enabled:
        return None
    events = _conjunctive_events(when)
    if _has_properties_without_event(when, events):
        ctx.error(when_node, "'properties' tests the current custom event, so the rule also needs 'event: NAME'")
        return None
    if events and c.awaited_signals(when) - {"time_on_site"}:
        ctx.error(when_node, "a rule with 'event:' runs when that custom event arrives, never on a client signal; "
                             "split it into two rules")
        return None
    thresholds: dict[str, set[float]] = {}
    c.thresholds_of(when, thresholds, awaited=True)
    return Rule(
        id=rule_id, order=order, where=node.where, when=when, action=action, limit=limit, priority=priority,
        description=description.value if description else "", events=events,
        nested_events=_has_nested_event(when), signals=frozenset(c.awaited_signals(when)),
        thresholds={k: frozenset(v) for k, v in thresholds.items()},
        page=next((p.matcher for p in when.parts if isinstance(p, c.Page)), None),
        rest=c.All(tuple(p for p in when.parts if not isinstance(p, c.Page))),
    )


def _conjunctive_events(condition: c.All) -> frozenset[str]:
    """Event names every match needs: `event:` at the top level or under (nested) `all:`."""
    names = None
    for part in condition.parts:
        found = part.names if isinstance(part, c.EventName) else (
            _conjunctive_events(part) if isinstance(part, c.All) else None)
        if found:
            names = found if names is None else names & found
    return names or frozenset()


def _has_nested_event(when: c.All) -> bool:
    """`event:` under `any:` or `not:`: such a rule must be evaluated on every custom event."""
    def walk(cond, conjunctive):
        if isinstance(cond, c.EventName):
            return not conjunctive
        inner = list(getattr(cond, "parts", ())) + ([cond.part] if isinstance(cond, c.Not) else [])
        return any(walk(part, conjunctive and isinstance(cond, c.All)) for part in inner)
    return any(walk(part, True) for part in when.parts)


def _has_properties_without_event(when: c.All, events: frozenset[str]) -> bool:
    def walk(cond):
        if isinstance(cond, c.Properties):
            return True
        inner = list(getattr(cond, "parts", ())) + ([cond.part] if isinstance(cond, c.Not) else [])
        return any(walk(part) for part in inner)
    return not events and not _has_nested_event(when) and walk(when)


def _conjunction(node: Node, ctx: _Context) -> c.All | None:
    if not node.is_mapping():
        ctx.error(node, f"conditions must be a mapping such as {{page: /pricing}}, not {type_name(node.value)}")
        return None
    check_keys(node, CONDITIONS, ctx.problems, ctx.rule, what="condition")
    parts = []
    for key, child in node.value.items():
        compiler = CONDITIONS.get(key)
        if compiler is None:
            continue
        condition = compiler(child, ctx, key)
        if condition is not None:
            parts.append(condition)
    return c.All(tuple(parts))


def _list_of_conjunctions(node: Node, ctx: _Context, key: str) -> list[c.All] | None:
    if not node.is_list() or not node.value:
        ctx.error(node, f"'{key}' takes a list of conditions, e.g. {key}: [{{page: /cart}}, {{event: add_to_cart}}]")
        return None
    parts = [_conjunction(item, ctx) for item in node.value]
    return None if any(p is None for p in parts) else parts


def _all(node, ctx, key):
    parts = _list_of_conjunctions(node, ctx, key)
    return None if parts is None else c.All(tuple(parts))


def _any(node, ctx, key):
    parts = _list_of_conjunctions(node, ctx, key)
    return None if parts is None else c.Any_(tuple(parts))


def _not(node, ctx, key):
    inner = _conjunction(node, ctx)
    return None if inner is None else c.Not(inner)


def _matcher(node: Node, ctx: _Context) -> PathMatcher | None:
    items = node.value if node.is_list() else [node]
    patterns = []
    for item in items:
        if not isinstance(item.value, str):
            ctx.error(item, f"a page pattern must be text such as /pricing*, not {type_name(item.value)}")
            continue
        error = check_pattern(item.value)
        if error:
            ctx.error(item, error)
        else:
            patterns.append(item.value)
    if not items:
        ctx.error(node, "an empty list of pages matches nothing")
    return PathMatcher(tuple(patterns)) if patterns and len(patterns) == len(items) else None


def _page(node, ctx, key):
    matcher = _matcher(node, ctx)
    return None if matcher is None else c.Page(matcher)


def _event(node, ctx, key):
    items = node.value if node.is_list() else [node]
    if not items:
        ctx.error(node, "an empty list of events matches nothing")
        return None
    names = set()
    for item in items:
        if not isinstance(item.value, str) or not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$", item.value):
            ctx.error(item, f"'{item.value}' is not an event name (letters, digits, '_', '.', ':', '-')")
        else:
            names.add(item.value)
    return c.EventName(frozenset(names)) if names and len(names) == len(items) else None


def _counted(node: Node, ctx: _Context, key: str, extra: tuple[str, ...]):
    """The shared part of page_views / sessions / events: at_least, at_most, within."""
    if not node.is_mapping():
        ctx.error(node, f"'{key}' must be a mapping such as {{at_least: 2, within: 7d}}, not {type_name(node.value)}")
        return None
    check_keys(node, ("at_least", "at_most", "within") + extra, ctx.problems, ctx.rule)
    at_least = _integer(node.value.get("at_least"), None, ctx, "at_least", minimum=0)
    at_most = _integer(node.value.get("at_most"), None, ctx, "at_most", minimum=0)
    if at_least is None and at_most is None:
        if "at_least" not in node.value and "at_most" not in node.value:
            ctx.error(node, f"'{key}' needs at_least or at_most")
        return None
    if at_least is not None and at_most is not None and at_least > at_most:
        ctx.error(node, f"at_least ({at_least}) is greater than at_most ({at_most}), so this can never hold")
        return None
    within = _duration(node.value.get("within"), ctx)
    return c.Count(at_least, at_most), within


def _counted_pages(kind):
    """page_views and sessions: a count of things, optionally only on pages matching `page`."""
    def compile_counted(node, ctx, key):
        counted = _counted(node, ctx, key, ("page",))
        if counted is None:
            return None
        matcher = _matcher(node.value["page"], ctx) if "page" in node.value else None
        if "page" in node.value and matcher is None:
            return None
        return kind(matcher, *counted)
    return compile_counted


_page_views = _counted_pages(c.PageViews)
_sessions = _counted_pages(c.Sessions)


def _events(node, ctx, key):
    counted = _counted(node, ctx, key, ("name", "where"))
    if counted is None:
        return None
    name = node.value.get("name")
    if name is None or not isinstance(name.value, str):
        ctx.error(name or node, "'events' needs 'name', the custom event to count (e.g. add_to_cart)")
        return None
    where = _value_tests(node.value["where"], ctx, "where") if "where" in node.value else {}
    where_key = repr(sorted(node.value["where"].plain().items())) if "where" in node.value else ""
    return None if where is None else c.Events(name.value, *counted, where, where_key)


def _value_tests(node: Node, ctx: _Context, key: str) -> dict[str, ValueTest] | None:
    if not node.is_mapping():
        ctx.error(node, f"'{key}' must map names to values or tests, e.g. {{cart_value: {{gte: 5000}}}}")
        return None
    tests = {}
    for name, spec in node.value.items():
        test = _value_test(spec, ctx)
        if test is not None:
            tests[name] = test
    return tests if len(tests) == len(node.value) else None


def _value_test(node: Node, ctx: _Context) -> ValueTest | None:
    if node.is_list():
        return ValueTest((("in", node.plain()),), None)
    if not node.is_mapping():
        return ValueTest((("eq", node.value),), None)
    allowed = tuple(OPERATORS) + ("exists",)
    check_keys(node, allowed, ctx.problems, ctx.rule, what="operator")
    tests, exists = [], None
    for op, child in node.value.items():
        if op == "exists":
            if not isinstance(child.value, bool):
                ctx.error(child, "exists takes true or false")
                return None
            exists = child.value
        elif op in ("gt", "gte", "lt", "lte") and (isinstance(child.value, bool) or not isinstance(child.value, (int, float, str))):
            ctx.error(child, f"{op} compares with a number or text, not {type_name(child.value)}")
            return None
        elif op == "in" and not child.is_list():
            ctx.error(child, f"in takes a list of values, not {type_name(child.value)}")
            return None
        elif op in OPERATORS:
            tests.append((op, child.plain()))
    if not tests and exists is None:
        if not node.value:
            ctx.error(node, "no operator given; use a value or one of: " + ", ".join(allowed))
        return None
    return ValueTest(tuple(tests), exists)


def _visitor(node, ctx, key):
    tests = _value_tests(node, ctx, key)
    return None if tests is None else c.Attributes(tests)


def _properties(node, ctx, key):
    tests = _value_tests(node, ctx, key)
    return None if tests is None else c.Properties(tests)


def _returning(node, ctx, key):
    value = _boolean(node, None, ctx)
    return None if value is None else c.Returning(value)


def _device(node, ctx, key):
    items = node.value if node.is_list() else [node]
    if not items:
        ctx.error(node, f"an empty list of devices matches nothing; use {', '.join(DEVICES)}")
        return None
    bad = [i for i in items if i.value not in DEVICES]
    for item in bad:
        ctx.error(item, f"device '{item.value}' is not one of: {', '.join(DEVICES)}")
    return None if bad or not items else c.Device(frozenset(i.value for i in items))


def _language(node, ctx, key):
    items = node.value if node.is_list() else [node]
    if not items:
        ctx.error(node, "an empty list of languages matches nothing")
        return None
    bad = [i for i in items if not isinstance(i.value, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", i.value)]
    for item in bad:
        ctx.error(item, f"'{item.value}' is not a language tag such as ja or en-US")
    return None if bad or not items else c.Language(tuple(i.value.lower() for i in items))


def _referrer(node, ctx, key):
    if not isinstance(node.value, str):
        ctx.error(node, f"referrer takes a glob such as '*google.*', not {type_name(node.value)}")
        return None
    return c.Referrer(glob_regex(node.value))


def _utm(node, ctx, key):
    if not node.is_mapping():
        ctx.error(node, "utm takes a mapping such as {source: line, campaign: 'spring*'}")
        return None
    check_keys(node, ("source", "medium", "campaign", "term", "content"), ctx.problems, ctx.rule)
    regexes = {k: glob_regex(str(v.value)) for k, v in node.value.items()
               if k in ("source", "medium", "campaign", "term", "content")}
    if not node.value:
        ctx.error(node, "utm needs at least one of source, medium, campaign, term, content")
    return c.Utm(regexes) if regexes else None


def _hours(node, ctx, key):
    if node.value == "business":
        if ctx.site.business_hours is None:
            ctx.error(node, "hours: business needs business_hours in site.yaml")
            return None
        return c.OpenHours(None)
    hours = parse_hours(node, ctx.problems, ctx.rule)
    return None if hours is None else c.OpenHours(hours)


def _dates(node, ctx, key):
    if not node.is_mapping():
        ctx.error(node, "dates takes {from: 2026-12-01, until: 2026-12-25}")
        return None
    check_keys(node, ("from", "until"), ctx.problems, ctx.rule)
    start = _when(node.value.get("from"), ctx, end=False)
    end = _when(node.value.get("until"), ctx, end=True)
    if start is False or end is False:
        return None
    if start is None and end is None:
        ctx.error(node, "dates needs from or until")
        return None
    if start is not None and end is not None and start >= end:
        ctx.error(node, "'from' is not before 'until', so this can never hold")
        return None
    return c.Dates(start, end)


def _when(node: Node | None, ctx: _Context, end: bool):
    """A date or date-time in the site's timezone; `until` a plain date includes that whole day."""
    if node is None:
        return None
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            value = date.fromisoformat(value.strip())  # a quoted date is still a whole day
        except ValueError:
            pass
    if isinstance(value, date) and not isinstance(value, datetime):
        moment = datetime(value.year, value.month, value.day)
        return moment + timedelta(days=1) if end else moment
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None:
        ctx.error(node, f"'{value}' is not a date; write 2026-12-01 or '2026-12-01 18:00'")
        return False
    # A time with an offset is converted to the site's time; without one it is site time.
    return moment.astimezone(ctx.site.timezone).replace(tzinfo=None) if moment.tzinfo else moment


def _seconds_signal(node, ctx, key):
    seconds = _duration(node, ctx)
    if seconds is None:
        return None
    return c.TimeOnSite(seconds) if key == "time_on_site" else c.ClientSignal(key, seconds)


def _scroll(node, ctx, key):
    percent = _percent(node, ctx, key)
    return None if percent is None else c.ClientSignal("scroll", percent)


def _exit_intent(node, ctx, key):
    if node.value is not True:
        ctx.error(node, "exit_intent takes true (for no exit intent, write not: {exit_intent: true})")
        return None
    return c.ClientSignal("exit_intent", 1)


def _sample(node, ctx, key):
    percent = _percent(node, ctx, key)
    return None if percent is None else c.Sample(percent)


CONDITIONS = {
    "page": _page, "event": _event, "page_views": _page_views, "sessions": _sessions, "events": _events,
    "visitor": _visitor, "properties": _properties, "returning": _returning, "device": _device, "language": _language,
    "referrer": _referrer, "utm": _utm, "hours": _hours, "dates": _dates,
    "time_on_page": _seconds_signal, "time_on_site": _seconds_signal, "idle": _seconds_signal,
    "scroll": _scroll, "exit_intent": _exit_intent, "sample": _sample,
    "all": _all, "any": _any, "not": _not,
}


def _limit(node: Node | None, ctx: _Context) -> Limit:
    if node is None:
        return Limit()
    if not node.is_mapping():
        ctx.error(node, "limit takes {per_visitor: 1, within: 30d} and/or {per_session: 1}")
        return Limit()
    check_keys(node, ("per_visitor", "within", "per_session"), ctx.problems, ctx.rule)
    per_visitor = _integer(node.value.get("per_visitor"), None, ctx, "per_visitor", minimum=1)
    per_session = _integer(node.value.get("per_session"), None, ctx, "per_session", minimum=1)
    within = _duration(node.value.get("within"), ctx)
    if within is not None and per_visitor is None:
        ctx.error(node.value["within"], "within goes with per_visitor (N times per visitor within a period)")
    if "per_visitor" not in node.value and "per_session" not in node.value:
        ctx.error(node, "limit needs per_visitor or per_session")
    return Limit(per_visitor, within, per_session)


def _integer(node: Node | None, default, ctx: _Context, name: str, minimum: int | None = None):
    if node is None:
        return default
    if isinstance(node.value, bool) or not isinstance(node.value, int):
        ctx.error(node, f"{name} must be a whole number, not {type_name(node.value)}")
        return default
    if minimum is not None and node.value < minimum:
        ctx.error(node, f"{name} must be at least {minimum}")
        return default
    return node.value


def _boolean(node: Node | None, default, ctx: _Context):
    if node is None:
        return default
    if not isinstance(node.value, bool):
        ctx.error(node, f"expected true or false, not {type_name(node.value)}")
        return default
    return node.value


def _duration(node: Node | None, ctx: _Context) -> int | None:
    if node is None:
        return None
    try:
        seconds = parse_duration(node.value)
    except ValueError as error:
        ctx.error(node, str(error))
        return None
    if seconds == 0:
        ctx.error(node, "a duration of 0 never passes; use at least 1s")
        return None
    return seconds


def _percent(node: Node, ctx: _Context, key: str) -> float | None:
    value = node.value
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1])
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        ctx.error(node, f"{key} takes a percentage from 0% to 100%, e.g. 50%")
        return None
    return float(value)
