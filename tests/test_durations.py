"""Durations as marketers write them (server/durations.py): a whole number and a unit, s m h d w.

Anything else is a ValueError whose message quotes what was written and shows how to write
it; a bare number is told which units it could have meant. `format_duration` writes seconds
back in the largest unit that divides them, so formatting and parsing round-trip.
"""

from __future__ import annotations

import pytest

from server.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("2h", 7200),
        ("7d", 7 * 86400),
        ("4w", 28 * 86400),
        ("0s", 0),
        (" 90 m ", 5400),
    ],
)
def test_durations_are_parsed_to_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10x", "abc", "-5m", "1.5h", "10 minutes", "10M", "m", ""])
def test_text_that_is_not_a_duration_is_explained(text):
    with pytest.raises(ValueError) as error:
        parse_duration(text)
    assert str(error.value) == (f"'{text}' is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w")


def test_digits_without_a_unit_are_not_a_duration():
    with pytest.raises(ValueError, match=r"^'10' is not a duration"):
        parse_duration("10")


def test_a_number_without_a_unit_suggests_the_units_it_might_mean():
    # YAML reads `delay: 10` as the number 10.
    with pytest.raises(ValueError) as error:
        parse_duration(10)
    assert str(error.value) == "'10' has no unit; write a duration such as '10s', '10m' or '10d'"


@pytest.mark.parametrize("value", [None, True, 1.5, ["10m"]])
def test_other_values_are_not_durations(value):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (90, "90s"),
        (5400, "90m"),
        (3600, "1h"),
        (86400, "1d"),
        (36 * 3600, "36h"),
        (7 * 86400, "1w"),
        (30 * 86400, "30d"),
        (14 * 86400, "2w"),
    ],
)
def test_format_duration_uses_the_largest_whole_unit(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 61, 3600, 86399, 86400, 604800, 90 * 86400])
def test_formatted_durations_parse_back(seconds):
    assert parse_duration(format_duration(seconds)) == seconds
