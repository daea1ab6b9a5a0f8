"""RateLimitedLog (server/ratelog.py): a failure that repeats on every request logs one line, not thousands.

The first warning of a message is logged at once; the same message again within `every`
seconds is only counted; the next one after that is logged and says how many were held
back and over how long. Different messages are limited separately. Fake clock, no sleeps.
"""

from __future__ import annotations

import logging

from server.ratelog import RateLimitedLog


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "test.ratelog"]


def test_the_first_warning_is_logged_and_repeats_are_summed_up_once_per_interval(caplog):
    clock = Clock()
    limited = RateLimitedLog(logging.getLogger("test.ratelog"), every=5.0, clock=clock)
    for _ in range(3000):  # an outage: every request fails the same way within the same instant
        limited.warning("site %s: events not stored: %s", "shop", "Redis is unreachable")
    assert lines(caplog) == ["site shop: events not stored: Redis is unreachable"]
    clock.now += 4.9
    limited.warning("site %s: events not stored: %s", "shop", "Redis is unreachable")
    assert len(lines(caplog)) == 1
    clock.now += 0.1
    limited.warning("site %s: events not stored: %s", "demo", "Redis is unreachable")
    assert lines(caplog)[1] == (
        "site demo: events not stored: Redis is unreachable (and 3000 more like this in the last 5 s)"
    )
    clock.now += 60
    limited.warning("site %s: events not stored: %s", "shop", "Redis is unreachable")
    assert lines(caplog)[2] == "site shop: events not stored: Redis is unreachable"  # nothing held back


def test_different_messages_are_limited_separately(caplog):
    limited = RateLimitedLog(logging.getLogger("test.ratelog"), clock=Clock())
    for _ in range(10):
        limited.warning("events not stored: %s", "down")
        limited.warning("stats not read: %s", "down")
    assert lines(caplog) == ["events not stored: down", "stats not read: down"]
