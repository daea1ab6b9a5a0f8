"""Single values as people write them in YAML: whole numbers, true/false, durations, percentages.

Rule files, site.yaml, coupon pools and rule test files all read them here, so each is
written and explained the same way everywhere. Every reader takes the node and
``report(node, message)``, which puts the mistake where its file wants it (a rule file adds
the rule's id, a test file the test and step); it returns the value, or ``default`` when the
node is missing or after reporting why it is not a value of that kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.durations import format_duration, parse_duration
from server.yamlsource import Node, type_name

Report = Callable[[Node, str], Any]


def read_integer(
    node: Node | None,
    report: Report,
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    default: int | None = None,
) -> int | None:
    if node is None:
        return default
    value = node.value
    whole = isinstance(value, int) and not isinstance(value, bool)
    if maximum is not None:
        if not whole or not minimum <= value <= maximum:
            report(node, f"{name} must be a whole number from {minimum} to {maximum}")
            return default
        return value
    if not whole:
        report(node, f"{name} must be a whole number, not {type_name(value)}")
        return default
    if minimum is not None and value < minimum:
        report(node, f"{name} must be at least {minimum}")
        return default
    return value


def read_boolean(node: Node | None, report: Report, default: bool | None = None) -> bool | None:
    if node is None:
        return default
    if not isinstance(node.value, bool):
        report(node, f"expected true or false, not {type_name(node.value)}")
        return default
    return node.value


# A hundred years: longer durations are typos, and would not fit where they go (a Redis TTL, a
# coupon's last day, the server's clock).
MAX_DURATION = 36500 * 86400


def read_duration(
    node: Node | None, report: Report, minimum: int = 0, default: int | None = None, name: str | None = None
) -> int | None:
    """Seconds (``30s``, ``7d``), at least `minimum` and at most MAX_DURATION; `name` is the key it was written under."""
    if node is None:
        return default
    if isinstance(node.value, (dict, list)):
        report(node, _one_duration(node, name))
        return default
    try:
        seconds = parse_duration(node.value)
    except ValueError as error:
        report(node, str(error))
        return default
    if seconds < minimum:
        report(
            node,
            "a duration of 0 never passes; use at least 1s"
            if minimum == 1
            else f"'{node.value}' is too short; the minimum is {format_duration(minimum)}",
        )
        return default
    if seconds > MAX_DURATION:
        report(node, f"'{node.value}' is too long; the maximum is {format_duration(MAX_DURATION)} (100 years)")
        return default
    return seconds


# `within: {days: 7}`: the unit written as a word, as some other tools take it.
UNIT_WORDS = {
    word: unit
    for unit, words in {
        "s": ("second", "sec"),
        "m": ("minute", "min"),
        "h": ("hour",),
        "d": ("day",),
        "w": ("week",),
    }.items()
    for stem in words
    for word in (stem, stem + "s")
}


def _one_duration(node: Node, name: str | None) -> str:
    """What to say about a mapping or a list written where one duration goes: what to write instead.

    `time_on_page: {at_least: 30s}` is the usual one (a count's `{at_least: 2}` carried over):
    the duration alone already means "at least"."""
    kind = type_name(node.value)
    written = node.plain()
    suggestion = None
    entries = list(written.items()) if isinstance(written, dict) else [(None, value) for value in written]
    for key, value in entries:
        if isinstance(value, str):
            try:
                parse_duration(value)
            except ValueError:
                continue
            suggestion = value.strip()
        elif (
            isinstance(key, str)
            and key.lower() in UNIT_WORDS
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            suggestion = f"{value}{UNIT_WORDS[key.lower()]}"
        if suggestion:
            break
    if suggestion is None:
        return f"{name or 'it'} takes one duration such as 30s, 10m, 2h, 7d or 4w, not {kind}"
    at_least = isinstance(written, dict) and "at_least" in written
    told = (
        f"{name} takes one duration, not {kind}: write {name}: {suggestion}"
        if name
        else (f"expected one duration, not {kind}: write {suggestion}")
    )
    return told + (f", which already means at least {suggestion}" if at_least else "")


def read_percent(node: Node | None, report: Report, name: str, default: float | None = None) -> float | None:
    """A percentage from 0 to 100, written ``50%`` or ``50``."""
    if node is None:
        return default
    value = node.value
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1])
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        report(node, f"{name} takes a percentage from 0% to 100%, e.g. 50%")
        return default
    return float(value)
