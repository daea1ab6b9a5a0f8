"""What a rule achieved over a range of days, as tables and a summary (docs/insights.md).

Built from :meth:`Store.read_counts`'s answer for the range: ``{day: {rule: {counter: amount}}}``,
where a counter is one of :data:`COUNTERS` or, for a breakdown, ``<counter>@<dimension>=<value>``
(device, the decision's hour in the site's timezone, the page where it was decided).

Every report carries ``"tables": {name: {"columns": [...], "rows": [[...], ...]}}``, so the
console draws, charts and exports any of them without knowing which it is, beside summary
fields. A rule that no longer exists in the rules still reports what it counted; its goal and
holdout are then the site's defaults.
"""

from __future__ import annotations

from server.durations import format_duration
from server.insights.counters import NOT_BROKEN_DOWN, RULE_COUNTERS
from server.insights.goals import Goal, goal_of, holdout_of
from server.insights.uplift import (
    Group,
    Interval,
    absolute_uplift,
    enough_data,
    relative_uplift,
    sample_ratio,
    value_difference,
)
from server.rules.engine import RuleSet
from server.rules.model import Rule
from server.sites import Site

# Every counter of a rule and day (docs/insights.md), as the event path counts them; the
# value_sq ones only feed Welch's interval.
COUNTERS = RULE_COUNTERS
TABLE_COUNTERS = tuple(counter for counter in COUNTERS if counter not in NOT_BROKEN_DOWN)
HOURS = tuple(str(hour) for hour in range(24))
TOP_PAGES = 50

Counts = dict[str, dict[str, dict[str, int | float]]]  # read_counts' answer: day -> rule -> counter -> amount
Table = dict[str, list]


def days_report(counts: Counts) -> dict[str, dict[str, dict[str, int | float]]]:
    """Every rule of every day with every counter (0 when not counted), without breakdowns; rules by id."""
    return {day: {rule: _counters(rules[rule]) for rule in sorted(rules)} for day, rules in counts.items()}


def rule_report(site: Site, rules: RuleSet, rule_id: str, counts: Counts) -> dict:
    """One rule's funnel per day, its breakdowns by device, hour and page, its totals and uplift."""
    per_day = [(day, rules_counted.get(rule_id, {})) for day, rules_counted in counts.items()]
    totals = _sum(counted for _, counted in per_day)
    rule = rules.by_id.get(rule_id)
    holdout = holdout_of(rule, site) if rule is not None else site.holdout
    return {
        "rule": _describe(rule, rules, holdout) if rule is not None else {"id": rule_id},
        "totals": totals,
        "uplift": uplift_report(totals, goal_of(rule_id, rules), holdout),
        "tables": {
            "funnel": _table("day", per_day),
            "by_device": _table("device", _ranked(_breakdown(per_day, "device"))),
            "by_hour": _table("hour", [(int(hour), row) for hour, row in _by_hour(_breakdown(per_day, "hour"))]),
            "by_page": _table("page", _ranked(_breakdown(per_day, "page"))[:TOP_PAGES]),
        },
    }


def rules_report(site: Site, rules: RuleSet, counts: Counts) -> dict:
    """Every live rule and every rule counted in the range (by id): its totals and absolute uplift."""
    ids = sorted(set(rules.by_id) | {rule for rules_counted in counts.values() for rule in rules_counted})
    report: dict[str, dict] = {}
    for rule_id in ids:
        totals = _sum(rules_counted.get(rule_id, {}) for rules_counted in counts.values())
        rule = rules.by_id.get(rule_id)
        holdout = holdout_of(rule, site) if rule is not None else site.holdout
        uplift = uplift_report(totals, goal_of(rule_id, rules), holdout)
        report[rule_id] = {**totals, "uplift": uplift["absolute"], "sample_ratio": uplift["sample_ratio"]}
    columns = ["rule", *TABLE_COUNTERS, "uplift", "uplift_low", "uplift_high"]
    rows = []
    for rule_id, row in report.items():
        absolute = row["uplift"] or {}
        estimates = [absolute.get("estimate"), absolute.get("low"), absolute.get("high")]
        rows.append([rule_id, *(row[counter] for counter in TABLE_COUNTERS), *estimates])
    return {"rules": report, "tables": {"rules": {"columns": columns, "rows": rows}}}


def uplift_report(totals: dict[str, int | float], goal: Goal | None, holdout: float) -> dict:
    """Treatment (decided, not held out) against control (held out) for the goal; None where data is short."""
    treatment = Group(totals["decided"] - totals["held_out"], totals["converted"], totals["value"], totals["value_sq"])
    control = Group(
        totals["held_out"], totals["converted_held_out"], totals["value_held_out"], totals["value_sq_held_out"]
    )
    counted = goal is not None and enough_data(treatment, control)
    ratio = sample_ratio(control.decisions, totals["decided"], holdout)
    return {
        "goal": goal.name if goal is not None else None,
        "holdout": holdout,
        "treatment": _group(treatment),
        "control": _group(control),
        "enough_data": counted,
        "absolute": _interval(absolute_uplift(treatment, control)) if counted else None,
        "relative": _interval(relative_uplift(treatment, control)) if counted else None,
        # A goal without a value property counts 0 for everyone: no difference to report.
        "value": _interval(value_difference(treatment, control)) if counted and goal.value is not None else None,
        "sample_ratio": ratio.as_dict() if ratio is not None else None,
    }


def limit_text(rule: Rule) -> str:
    """The rule's limit as its file would write it, e.g. ``per_visitor: 1, within: 30d, per_session: 1``."""
    parts = []
    if rule.limit.per_visitor is not None:
        parts.append(f"per_visitor: {rule.limit.per_visitor}")
        if rule.limit.within is not None:
            parts.append(f"within: {format_duration(rule.limit.within)}")
    if rule.limit.per_session is not None:
        parts.append(f"per_session: {rule.limit.per_session}")
    return ", ".join(parts)


def _describe(rule: Rule, rules: RuleSet, holdout: float) -> dict:
    goal = goal_of(rule.id, rules)
    return {
        "id": rule.id,
        "description": rule.description,
        "priority": rule.priority,
        "limit": limit_text(rule),
        "holdout": holdout,
        "goal": goal.name if goal is not None else None,
        "where": rule.where,
    }


def _group(group: Group) -> dict:
    return {
        "decisions": group.decisions,
        "converted": group.converted,
        "rate": group.rate,
        "value_mean": group.value_mean,
    }


def _interval(interval: Interval | None) -> dict | None:
    return interval.as_dict() if interval is not None else None


def _counters(counted: dict[str, int | float]) -> dict[str, int | float]:
    return {counter: counted.get(counter, 0) for counter in COUNTERS}


def _sum(rows) -> dict[str, int | float]:
    totals: dict[str, int | float] = dict.fromkeys(COUNTERS, 0)
    for counted in rows:
        for counter in COUNTERS:
            totals[counter] += counted.get(counter, 0)
    return totals


def _breakdown(per_day: list[tuple[str, dict]], dimension: str) -> dict[str, dict[str, int | float]]:
    """Dimension value -> counter -> amount over the range, from the ``counter@dimension=value`` counters."""
    found: dict[str, dict[str, int | float]] = {}
    prefix = dimension + "="
    for _, counted in per_day:
        for name, amount in counted.items():
            counter, at, where = name.partition("@")
            if at and where.startswith(prefix) and counter in TABLE_COUNTERS:
                row = found.setdefault(where[len(prefix) :], dict.fromkeys(TABLE_COUNTERS, 0))
                row[counter] += amount
    return found


def _ranked(found: dict[str, dict]) -> list[tuple[str, dict]]:
    """Most decided first; ties by name, so the order is stable."""
    return sorted(found.items(), key=lambda item: (-item[1]["decided"], item[0]))


def _by_hour(found: dict[str, dict]) -> list[tuple[str, dict]]:
    """All 24 hours in order, empty ones too, so a chart of them has every hour on its axis."""
    return [(hour, found.get(hour, dict.fromkeys(TABLE_COUNTERS, 0))) for hour in HOURS]


def _table(first: str, rows: list[tuple[object, dict]]) -> Table:
    return {
        "columns": [first, *TABLE_COUNTERS],
        "rows": [[key, *(counted.get(counter, 0) for counter in TABLE_COUNTERS)] for key, counted in rows],
    }
