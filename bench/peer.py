"""The peer engine: the synthetic rules' conditions as `rule-engine` expressions, and their facts.

This is how a user of the Python `rule-engine` package would write the same rules: one
expression per rule over a dict of facts flattened from the visitor's state, evaluated in a
loop over all the rules in priority order until one matches. Each condition keeps Irasshai's
meaning (a missing attribute fails a comparison; `page` matches the whole path), which the
benchmark checks by comparing both engines' decisions on every case.
"""

from __future__ import annotations

import fnmatch
import json
from datetime import date, datetime, timedelta

from server.durations import parse_duration
from server.rules.engine import Trigger
from server.rules.facts import bucket
from server.visitor import VisitorState

OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # rule-engine reads JSON-style string escapes


def _regex(patterns: str | list[str]) -> str:
    """The whole-path regex of a `page:` value, as server.rules.matchers.PathMatcher builds it."""
    patterns = [patterns] if isinstance(patterns, str) else patterns
    parts = [p[3:] if p.startswith("re:") else fnmatch.translate(p).removesuffix(r"\Z") for p in patterns]
    return _string("(?:" + "|".join(f"(?:{part})" for part in parts) + r")\Z")


def _glob(pattern: str) -> str:
    return _string("(?i)" + fnmatch.translate(pattern))


def _counted(spec: dict, counted: str) -> str:
    tests = []
    if "at_least" in spec:
        tests.append(f"{counted} >= {spec['at_least']}")
    if "at_most" in spec:
        tests.append(f"{counted} <= {spec['at_most']}")
    return " and ".join(tests)


def _value_tests(mapping: str, tests: dict) -> list[str]:
    out = []
    for key, spec in tests.items():
        value = f"{mapping}[{_string(key)}]"
        present = f"{_string(key)} in {mapping}"
        if not isinstance(spec, dict):
            spec = {"in": spec} if isinstance(spec, list) else {"eq": spec}
        if "exists" in spec:
            out.append(present if spec["exists"] else f"not ({present})")
        for op, expected in spec.items():
            if op == "exists":
                continue
            literal = json.dumps(expected, ensure_ascii=False)
            compare = f"{value} in {literal}" if op == "in" else f"{value} {OPERATORS[op]} {literal}"
            out.append(f"(not ({present}) or {compare})" if op == "ne" else f"({present} and {compare})")
    return out


def _condition(key: str, spec) -> str:
    if key == "page":
        return f"path =~ {_regex(spec)}"
    if key == "event":
        names = [spec] if isinstance(spec, str) else spec
        return f"event in {json.dumps(names)}"
    if key == "page_views":
        since = f" and v.ts >= now - {parse_duration(spec['within'])}" if "within" in spec else ""
        match = f" and v.path =~ {_regex(spec['page'])}" if "page" in spec else ""
        if since:
            return _counted(spec, f"[v for v in view_log if true{match}{since}].length")
        match = f" if p.path =~ {_regex(spec['page'])}" if "page" in spec else ""
        return _counted(spec, f"$sum([p.total for p in page_totals{match}])")
    if key == "sessions":
        if "within" in spec:
            return _counted(
                spec, f"[s for s in session_log if s.last >= now - {parse_duration(spec['within'])}].length"
            )
        return _counted(spec, "sessions")
    if key == "events":
        name = _string(spec["name"])
        if "within" not in spec and "where" not in spec:
            return _counted(spec, f"({name} in event_counts ? event_counts[{name}] : 0)")
        tests = [f"e.name == {name}"] + [f"e.ts >= now - {parse_duration(spec['within'])}"] * ("within" in spec)
        tests += _value_tests("e.properties", spec.get("where", {}))
        return _counted(spec, f"[e for e in recent_events if {' and '.join(tests)}].length")
    if key in ("visitor", "properties"):
        tests = _value_tests("attributes" if key == "visitor" else "properties", spec)
        return " and ".join(tests if key == "visitor" else ["event != null"] + tests)
    if key == "returning":
        return "sessions > 1" if spec else "sessions <= 1"
    if key == "device":
        return f"device in {json.dumps([spec] if isinstance(spec, str) else spec)}"
    if key == "language":
        tags = [spec] if isinstance(spec, str) else spec
        return "(" + " or ".join(f"language == {_string(t)} or language =~ {_string(t + '-.*')}" for t in tags) + ")"
    if key == "referrer":
        return f"referrer =~ {_glob(spec)}"
    if key == "utm":
        return " and ".join(f"({_string(k)} in utm and utm[{_string(k)}] =~ {_glob(v)})" for k, v in spec.items())
    if key == "hours":
        # The synthetic rules use `hours: business` only: Monday to Friday, 09:00 to 18:00 (SITE_YAML).
        return "(weekday in [0, 1, 2, 3, 4] and minute >= 540 and minute < 1080)"
    if key == "dates":
        # Plain dates only; `local` is "YYYY-MM-DDTHH:MM", so text order is time order.
        tests = [f"local >= {_string(spec['from'])}"] if "from" in spec else []
        tests += [f"local < {_string(_next_day(spec['until']))}"] if "until" in spec else []
        return " and ".join(tests)
    if key in ("time_on_page", "idle", "scroll", "exit_intent"):
        threshold = 1 if spec is True else float(spec.rstrip("%")) if key == "scroll" else parse_duration(spec)
        return f"({_string(key)} in signals and signals[{_string(key)}] >= {threshold})"
    if key == "sample":
        return f"bucket < {int(round(float(spec.rstrip('%')) * 100))}"
    if key == "any":
        return "(" + " or ".join(_conjunction(part) for part in spec) + ")"
    if key == "all":
        return " and ".join(_conjunction(part) for part in spec)
    if key == "not":
        return f"not {_conjunction(spec)}"
    raise ValueError(f"no translation for condition '{key}'")


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _conjunction(when: dict) -> str:
    return "(" + " and ".join(f"({_condition(k, v)})" for k, v in when.items()) + ")" if when else "true"


SIGNALS = ("time_on_page", "time_on_site", "idle", "scroll", "exit_intent")


def expression(rule: dict) -> str:
    """The rule's `when:` as one expression. Like Irasshai's index, a rule with a top-level
    `event:` runs on those events, one with a client signal on that signal, the rest on page views."""
    when = rule.get("when", {})
    signals = [k for k in when if k in SIGNALS]
    if "event" in when:
        applies = 'kind == "track"'
    elif signals:
        applies = f'kind == "signal" and signal in {json.dumps(signals)}'
    else:
        applies = 'kind == "page_view"'
    return f"{applies} and {_conjunction(when)}"


def facts(state: VisitorState, trigger: Trigger, now: float, site, visitor_id: str) -> dict:
    """Everything the expressions read, flattened from the visitor's state for this event."""
    session = state.session
    local = datetime.fromtimestamp(now, site.timezone)
    return {
        "kind": trigger.cause,
        "path": trigger.path,
        "now": now,
        "event": trigger.name if trigger.cause == "track" else None,
        "signal": trigger.name if trigger.cause == "signal" else None,
        "properties": trigger.properties or {},
        "signals": trigger.signals or {},
        "attributes": state.attributes,
        "device": state.device,
        "language": state.language,
        "sessions": state.sessions,
        "page_totals": [{"path": path, "total": views.total} for path, views in state.page_views.items()],
        "view_log": [{"path": path, "ts": ts} for path, views in state.page_views.items() for ts in views.recent],
        "session_log": [{"last": s.last} for s in state.session_log],
        "recent_events": [{"name": e.name, "ts": e.ts, "properties": e.properties} for e in state.recent_events],
        "event_counts": state.event_counts,
        "referrer": session.referrer if session else "",
        "utm": session.utm if session else {},
        "bucket": bucket(visitor_id),
        "weekday": local.weekday(),
        "minute": local.hour * 60 + local.minute,
        "local": local.strftime("%Y-%m-%dT%H:%M"),
    }
