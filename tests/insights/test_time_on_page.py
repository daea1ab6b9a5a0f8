"""Time on page (server/insights/time_on_page.py): the histogram's buckets and the median read
back to its bucket. How the times come from a visitor's page views is tested through the event
path in test_traffic.py (the same times however the page views are batched)."""

from __future__ import annotations

from server.insights.time_on_page import KINDS, kind_of, median_of


def test_time_on_page_buckets_and_the_median_read_back():
    assert [kind_of(s) for s in (0, 5, 6, 30, 31, 1800, 1801)] == [
        "time_on_page:5",
        "time_on_page:5",
        "time_on_page:10",
        "time_on_page:30",
        "time_on_page:45",
        "time_on_page:1800",
        "time_on_page:more",
    ]
    assert median_of({}) is None
    assert median_of({"time_on_page:10": 1, "time_on_page:60": 1, "time_on_page:300": 1}) == 60
    assert median_of({"time_on_page:10": 3, "time_on_page:60": 1}) == 10
    assert median_of({"time_on_page:more": 2, "time_on_page:5": 1}) == 1800  # "half an hour or more"
    assert KINDS[-1] == "time_on_page:more"
