"""The conditions under a rule's ``when:`` compiled into condition objects, every mistake reported.

Each condition key has one compile function in :data:`CONDITIONS`; each reports problems
through :class:`Checking` (as ``path:line:col: rule "id": message``) and returns a compiled
condition or None. Nothing stops at the first mistake.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from server.devices import DEVICES
from server.names import UTM_KEYS, is_event_name, is_language_tag
from server.rules.conditions import (
    AllOf,
    AnyOf,
    Attributes,
    ClientSignal,
    Count,
    Dates,
    Device,
    EventName,
    Events,
    Language,
    Not,
    OpenHours,
    Page,
    PageViews,
    Properties,
    Referrer,
    Returning,
    Sample,
    Sessions,
    TimeOnSite,
    Utm,
)
from server.rules.matchers import OPERATORS, PathMatcher, ValueTest, check_pattern, glob_regex
from server.scalars import read_boolean, read_duration, read_integer, read_percent
from server.sites import Site, parse_hours
from server.yamlsource import Node, Problems, check_keys, type_name, written


class Checking:
    """The rule being checked: where its problems go, its id (for every message) and its site."""

    def __init__(self, problems: Problems, rule: str | None, site: Site):
        self.problems, self.rule, self.site = problems, rule, site

    def error(self, node: Node, message: str) -> None:
        self.problems.add(node, message, self.rule)


def compile_conditions(node: Node, checking: Checking) -> AllOf | None:
    if not node.is_mapping():
        checking.error(node, f"conditions must be a mapping such as {{page: /pricing}}, not {type_name(node.value)}")
        return None
    check_keys(node, CONDITIONS, checking.problems, checking.rule, what="condition")
    parts = []
    for key, child in node.value.items():
        compiler = CONDITIONS.get(key)
        if compiler is None:
            continue
        condition = compiler(child, checking, key)
        if condition is not None:
            parts.append(condition)
    return AllOf(tuple(parts))


def _list_of_conjunctions(node: Node, checking: Checking, key: str) -> list[AllOf] | None:
    if not node.is_list() or not node.value:
        checking.error(
            node, f"'{key}' takes a list of conditions, e.g. {key}: [{{page: /cart}}, {{event: add_to_cart}}]"
        )
        return None
    parts = [compile_conditions(item, checking) for item in node.value]
    return None if any(p is None for p in parts) else parts


def _all(node, checking, key):
    parts = _list_of_conjunctions(node, checking, key)
    return None if parts is None else AllOf(tuple(parts))


def _any(node, checking, key):
    parts = _list_of_conjunctions(node, checking, key)
    return None if parts is None else AnyOf(tuple(parts))


def _not(node, checking, key):
    inner = compile_conditions(node, checking)
    return None if inner is None else Not(inner)


def _matcher(node: Node, checking: Checking) -> PathMatcher | None:
    items = node.value if node.is_list() else [node]
    patterns = []
    for item in items:
        if not isinstance(item.value, str):
            checking.error(item, f"a page pattern must be text such as /pricing*, not {type_name(item.value)}")
            continue
        error = check_pattern(item.value)
        if error:
            checking.error(item, error)
        else:
            patterns.append(item.value)
    if not items:
        checking.error(node, "an empty list of pages matches nothing")
    return PathMatcher(tuple(patterns)) if patterns and len(patterns) == len(items) else None


def _page(node, checking, key):
    matcher = _matcher(node, checking)
    return None if matcher is None else Page(matcher)


def _event(node, checking, key):
    items = node.value if node.is_list() else [node]
    if not items:
        checking.error(node, "an empty list of events matches nothing")
        return None
    names = set()
    for item in items:
        if not is_event_name(item.value):
            checking.error(item, f"'{written(item)}' is not an event name (letters, digits, '_', '.', ':', '-')")
        else:
            names.add(item.value)
    return EventName(frozenset(names)) if names and len(names) == len(items) else None


def _counted(node: Node, checking: Checking, key: str, extra: tuple[str, ...]):
    """The shared part of page_views / sessions / events: at_least, at_most, within."""
    if not node.is_mapping():
        checking.error(
            node, f"'{key}' must be a mapping such as {{at_least: 2, within: 7d}}, not {type_name(node.value)}"
        )
        return None
    check_keys(node, ("at_least", "at_most", "within") + extra, checking.problems, checking.rule)
    at_least = read_integer(node.value.get("at_least"), checking.error, "at_least", minimum=0)
    at_most = read_integer(node.value.get("at_most"), checking.error, "at_most", minimum=0)
    if at_least is None and at_most is None:
        if "at_least" not in node.value and "at_most" not in node.value:
            checking.error(node, f"'{key}' needs at_least or at_most")
        return None
    if at_least is not None and at_most is not None and at_least > at_most:
        checking.error(node, f"at_least ({at_least}) is greater than at_most ({at_most}), so this can never hold")
        return None
    within = read_duration(node.value.get("within"), checking.error, minimum=1, name="within")
    return Count(at_least, at_most), within


def _counted_pages(condition):
    """page_views and sessions: a count of things, optionally only on pages matching `page`."""

    def compile_counted(node, checking, key):
        counted = _counted(node, checking, key, ("page",))
        if counted is None:
            return None
        matcher = _matcher(node.value["page"], checking) if "page" in node.value else None
        if "page" in node.value and matcher is None:
            return None
        return condition(matcher, *counted)

    return compile_counted


_page_views = _counted_pages(PageViews)
_sessions = _counted_pages(Sessions)


def _events(node, checking, key):
    counted = _counted(node, checking, key, ("name", "where"))
    if counted is None:
        return None
    name = node.value.get("name")
    if name is None or not isinstance(name.value, str):
        checking.error(name or node, "'events' needs 'name', the custom event to count (e.g. add_to_cart)")
        return None
    where = _value_tests(node.value["where"], checking, "where") if "where" in node.value else {}
    if where is None:  # reported; and only a mapping has items to key the count by
        return None
    where_key = repr(sorted(node.value["where"].plain().items())) if "where" in node.value else ""
    return Events(name.value, *counted, where, where_key)


def _value_tests(node: Node, checking: Checking, key: str) -> dict[str, ValueTest] | None:
    if not node.is_mapping():
        checking.error(node, f"'{key}' must map names to values or tests, e.g. {{cart_value: {{gte: 5000}}}}")
        return None
    tests = {}
    for name, spec in node.value.items():
        test = _value_test(spec, checking)
        if test is not None:
            tests[name] = test
    return tests if len(tests) == len(node.value) else None


def _value_test(node: Node, checking: Checking) -> ValueTest | None:
    if node.is_list():
        return ValueTest((("in", node.plain()),), None)
    if not node.is_mapping():
        return ValueTest((("eq", node.value),), None)
    allowed = tuple(OPERATORS) + ("exists",)
    check_keys(node, allowed, checking.problems, checking.rule, what="operator")
    tests, exists = [], None
    for op, child in node.value.items():
        if op == "exists":
            if not isinstance(child.value, bool):
                checking.error(child, "exists takes true or false")
                return None
            exists = child.value
        elif op in ("gt", "gte", "lt", "lte") and (
            isinstance(child.value, bool) or not isinstance(child.value, (int, float, str))
        ):
            checking.error(child, f"{op} compares with a number or text, not {type_name(child.value)}")
            return None
        elif op == "in" and not child.is_list():
            checking.error(child, f"in takes a list of values, not {type_name(child.value)}")
            return None
        elif op in OPERATORS:
            tests.append((op, child.plain()))
    if not tests and exists is None:
        if not node.value:
            checking.error(node, "no operator given; use a value or one of: " + ", ".join(allowed))
        return None
    return ValueTest(tuple(tests), exists)


def _visitor(node, checking, key):
    verified = None
    if node.is_mapping() and "verified" in node.value:
        # Not an attribute (a page cannot set it): whether identify's hash or jwt proved the visitor.
        verified = node.value["verified"].value
        if not isinstance(verified, bool):
            checking.error(node.value["verified"], f"verified takes true or false, not {type_name(verified)}")
            return None
        node = replace(node, value={k: v for k, v in node.value.items() if k != "verified"})
        if not node.value:
            return Attributes({}, verified)
    tests = _value_tests(node, checking, key)
    return None if tests is None else Attributes(tests, verified)


def _properties(node, checking, key):
    tests = _value_tests(node, checking, key)
    return None if tests is None else Properties(tests)


def _returning(node, checking, key):
    value = read_boolean(node, checking.error)
    return None if value is None else Returning(value)


def _device(node, checking, key):
    items = node.value if node.is_list() else [node]
    if not items:
        checking.error(node, f"an empty list of devices matches nothing; use {', '.join(DEVICES)}")
        return None
    bad = [i for i in items if i.value not in DEVICES]
    for item in bad:
        checking.error(item, f"device '{written(item)}' is not one of: {', '.join(DEVICES)}")
    return None if bad or not items else Device(frozenset(i.value for i in items))


def _language(node, checking, key):
    items = node.value if node.is_list() else [node]
    if not items:
        checking.error(node, "an empty list of languages matches nothing")
        return None
    bad = [i for i in items if not is_language_tag(i.value)]
    for item in bad:
        checking.error(item, f"'{written(item)}' is not a language tag such as ja or en-US")
    return None if bad or not items else Language(tuple(i.value.lower() for i in items))


def _referrer(node, checking, key):
    if not isinstance(node.value, str):
        checking.error(node, f"referrer takes a glob such as '*google.*', not {type_name(node.value)}")
        return None
    return Referrer(glob_regex(node.value))


def _utm(node, checking, key):
    if not node.is_mapping():
        checking.error(node, "utm takes a mapping such as {source: line, campaign: 'spring*'}")
        return None
    check_keys(node, UTM_KEYS, checking.problems, checking.rule)
    regexes = {k: glob_regex(str(v.value)) for k, v in node.value.items() if k in UTM_KEYS}
    if not node.value:
        checking.error(node, "utm needs at least one of source, medium, campaign, term, content")
    return Utm(regexes) if regexes else None


def _hours(node, checking, key):
    if node.value == "business":
        if checking.site.business_hours is None:
            checking.error(node, "hours: business needs business_hours in site.yaml")
            return None
        return OpenHours(None)
    hours = parse_hours(node, checking.problems, checking.rule)
    return None if hours is None else OpenHours(hours)


def _dates(node, checking, key):
    if not node.is_mapping():
        checking.error(node, "dates takes {from: 2026-12-01, until: 2026-12-25}")
        return None
    check_keys(node, ("from", "until"), checking.problems, checking.rule)
    start = _when(node.value.get("from"), checking, end=False)
    end = _when(node.value.get("until"), checking, end=True)
    if start is False or end is False:
        return None
    if start is None and end is None:
        checking.error(node, "dates needs from or until")
        return None
    if start is not None and end is not None and start >= end:
        checking.error(node, "'from' is not before 'until', so this can never hold")
        return None
    return Dates(start, end)


def _when(node: Node | None, checking: Checking, end: bool):
    """A date or date-time in the site's timezone; `until` a plain date includes that whole day."""
    if node is None:
        return None
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value.strip())  # a quoted date is still a whole day
    if isinstance(value, date) and not isinstance(value, datetime):
        moment = datetime(value.year, value.month, value.day)
        if end:  # the day after it, or for 9999-12-31 (forever) the last moment there is
            return moment + timedelta(days=1) if moment.date() < date.max else datetime.max
        return moment
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(written(node, limit=100))
    except ValueError:
        moment = None
    if moment is None:
        checking.error(node, f"'{written(node)}' is not a date; write 2026-12-01 or '2026-12-01 18:00'")
        return False
    # A time with an offset is converted to the site's time; without one it is site time.
    try:
        return moment.astimezone(checking.site.timezone).replace(tzinfo=None) if moment.tzinfo else moment
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last moment Python has: as good as forever
        return datetime.max if end else datetime.min


def _seconds_signal(node, checking, key):
    seconds = read_duration(node, checking.error, minimum=1, name=key)
    if seconds is None:
        return None
    return TimeOnSite(seconds) if key == "time_on_site" else ClientSignal(key, seconds)


def _scroll(node, checking, key):
    percent = read_percent(node, checking.error, key)
    return None if percent is None else ClientSignal("scroll", percent)


def _exit_intent(node, checking, key):
    if node.value is not True:
        checking.error(node, "exit_intent takes true (for no exit intent, write not: {exit_intent: true})")
        return None
    return ClientSignal("exit_intent", 1)


def _sample(node, checking, key):
    percent = read_percent(node, checking.error, key)
    return None if percent is None else Sample(percent)


CONDITIONS = {
    "page": _page,
    "event": _event,
    "page_views": _page_views,
    "sessions": _sessions,
    "events": _events,
    "visitor": _visitor,
    "properties": _properties,
    "returning": _returning,
    "device": _device,
    "language": _language,
    "referrer": _referrer,
    "utm": _utm,
    "hours": _hours,
    "dates": _dates,
    "time_on_page": _seconds_signal,
    "time_on_site": _seconds_signal,
    "idle": _seconds_signal,
    "scroll": _scroll,
    "exit_intent": _exit_intent,
    "sample": _sample,
    "all": _all,
    "any": _any,
    "not": _not,
}
