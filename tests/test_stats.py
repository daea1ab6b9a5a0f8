"""The date range of every report (server/stats.py `day_range`): one reading for the stats API
and the console, so a marketer and a script get the same days and the same one-line mistakes.

`days=N` is the last N days in the site's timezone, today included (default 7);
`from=YYYY-MM-DD&to=YYYY-MM-DD` both days included; at most MAX_DAYS days; oldest first.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest

from server.sites import Site
from server.stats import MAX_DAYS, RangeError, day_range

TOKYO = Site("shop", "shop", frozenset(), zoneinfo.ZoneInfo("Asia/Tokyo"))
# 2027-01-14 16:00 UTC is already 2027-01-15 01:00 in Tokyo: "today" is the site's day.
NOW = datetime.fromisoformat("2027-01-14T16:00:00+00:00").timestamp()


def test_the_last_days_are_the_sites_days_today_included():
    assert day_range({}, TOKYO, NOW) == [f"2027-01-{day:02d}" for day in range(9, 16)]
    assert day_range({"days": "1"}, TOKYO, NOW) == ["2027-01-15"]
    assert len(day_range({"days": str(MAX_DAYS)}, TOKYO, NOW)) == MAX_DAYS


def test_from_and_to_are_both_included():
    assert day_range({"from": "2026-12-30", "to": "2027-01-02"}, TOKYO, NOW) == [
        "2026-12-30",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2027-01-01"}, "to is missing; give from and to together (YYYY-MM-DD), or days"),
        ({"to": "2027-01-01"}, "from is missing; give from and to together (YYYY-MM-DD), or days"),
        ({"from": "2027-01-01", "to": "2027-01-02", "days": "2"}, "give either days or from and to, not both"),
        (
            {"from": "2027-02-30", "to": "2027-03-01"},
            "from has value '2027-02-30'; expected a date as YYYY-MM-DD, such as 2026-03-02",
        ),
        (
            {"from": "2027-01-01", "to": "2027-1-2"},
            "to has value '2027-1-2'; expected a date as YYYY-MM-DD, such as 2026-03-02",
        ),
        ({"from": "2027-01-14", "to": "2027-01-01"}, "from (2027-01-14) is after to (2027-01-01)"),
        (
            {"from": "2025-01-01", "to": "2027-01-01"},
            "from 2025-01-01 to 2027-01-01 is 731 days; at most 400 days at once",
        ),
        ({"days": "0"}, "days has value '0'; expected a whole number from 1 to 400"),
        ({"days": "７"}, "days has value '７'; expected a whole number from 1 to 400"),
        ({"days": "9" * 30}, f"days has value '{'9' * 20}'; expected a whole number from 1 to 400"),
    ],
)
def test_a_mistake_is_one_line_naming_the_parameter(query, message):
    with pytest.raises(RangeError) as error:
        day_range(query, TOKYO, NOW)
    assert str(error.value) == message
