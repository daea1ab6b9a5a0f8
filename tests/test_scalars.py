"""Single YAML values read the same way everywhere (server/scalars.py).

Each reader returns the value, or its default when the node is missing or wrong; when wrong,
it reports one line through the caller's `report(node, message)` and nothing else happens.
"""

from __future__ import annotations

import pytest

from server.names import is_event_name, is_language_tag
from server.scalars import read_boolean, read_duration, read_integer, read_percent
from server.yamlsource import Node


def node(value):
    return Node(value, "rules/demo/a.yaml", 3, 5)


def read(reader, value, *args, **kwargs):
    reports = []
    result = reader(node(value), lambda where, message: reports.append(message), *args, **kwargs)
    return result, reports


def test_a_missing_value_is_the_default_without_a_report():
    reports = []
    assert read_integer(None, reports.append, "priority", default=0) == 0
    assert read_boolean(None, reports.append, default=True) is True
    assert read_duration(None, reports.append, default=60) == 60
    assert read_percent(None, reports.append, "scroll") is None
    assert reports == []


@pytest.mark.parametrize(
    ("value", "kwargs", "expected", "message"),
    [
        (3, {}, 3, None),
        ("3", {}, None, "priority must be a whole number, not text"),
        (True, {}, None, "priority must be a whole number, not true/false"),
        (0, {"minimum": 1}, None, "priority must be at least 1"),
        (5, {"minimum": 6, "maximum": 32}, None, "priority must be a whole number from 6 to 32"),
        ("x", {"minimum": 6, "maximum": 32}, None, "priority must be a whole number from 6 to 32"),
    ],
)
def test_whole_numbers(value, kwargs, expected, message):
    result, reports = read(read_integer, value, "priority", **kwargs)
    assert result == expected
    assert reports == ([message] if message else [])


def test_true_or_false():
    assert read(read_boolean, True) == (True, [])
    assert read(read_boolean, "yes") == (None, ["expected true or false, not text"])


@pytest.mark.parametrize(
    ("value", "minimum", "expected", "message"),
    [
        ("7d", 0, 7 * 86400, None),
        ("0s", 0, 0, None),
        ("0s", 1, None, "a duration of 0 never passes; use at least 1s"),
        ("12h", 86400, None, "'12h' is too short; the minimum is 1d"),
        (30, 0, None, "'30' has no unit; write a duration such as '30s', '30m' or '30d'"),
    ],
)
def test_durations(value, minimum, expected, message):
    result, reports = read(read_duration, value, minimum)
    assert result == expected
    assert reports == ([message] if message else [])


def test_a_mapping_or_list_where_a_duration_goes_is_one_line_naming_the_key():
    at_least = {"at_least": node("30s")}
    assert read(read_duration, at_least, 1, name="time_on_page") == (
        None,
        ["time_on_page takes one duration, not a mapping: write time_on_page: 30s, which already means at least 30s"],
    )
    assert read(read_duration, {"weeks": node(2)}, name="within") == (
        None,
        ["within takes one duration, not a mapping: write within: 2w"],
    )
    assert read(read_duration, [node("x")], name="gap") == (
        None,
        ["gap takes one duration such as 30s, 10m, 2h, 7d or 4w, not a list"],
    )
    _, reports = read(read_duration, {"at_least": node("30s")})  # a caller that gives no name
    assert reports == ["expected one duration, not a mapping: write 30s, which already means at least 30s"]
    assert "Node(" not in reports[0]


@pytest.mark.parametrize(("value", "expected"), [("50%", 50.0), (25, 25.0), ("100%", 100.0), (0, 0.0)])
def test_percentages(value, expected):
    assert read(read_percent, value, "scroll") == (expected, [])


@pytest.mark.parametrize("value", ["150%", -1, "half", True, "%"])
def test_what_is_not_a_percentage_is_explained(value):
    assert read(read_percent, value, "scroll") == (None, ["scroll takes a percentage from 0% to 100%, e.g. 50%"])


def test_event_names_and_language_tags_have_one_definition():
    assert is_event_name("add_to_cart") and is_event_name("shop:promo.v2")
    assert not is_event_name("-start") and not is_event_name("a b") and not is_event_name("x" * 65)
    assert not is_event_name("buy\n") and not is_event_name(3)
    assert is_language_tag("ja") and is_language_tag("en-US") and is_language_tag("zh-hant-tw")
    assert not is_language_tag("english!") and not is_language_tag("e") and not is_language_tag(None)
