"""A site's own rate limits: site.yaml's ``limits`` block (server/site_limits.py).

Each entry overrides the setting of the same name for that site; an entry left out keeps the
setting's value; 0 turns a limit off. A mistake (an unknown limit, a negative or non-whole
number, a block that is not a mapping) is one line naming file, line and column, and the site
is not loaded.
"""

from __future__ import annotations

from server.site_limits import SiteLimits
from server.sites import load_site
from server.yamlsource import Problems
from tests.test_sites import ORIGIN, write_site


def load(tmp_path, text):
    problems = Problems()
    site = load_site(write_site(tmp_path, ORIGIN + text), problems)
    return site, problems.lines()


def test_a_site_without_limits_keeps_every_setting(tmp_path):
    site, lines = load(tmp_path, "")
    assert lines == [] and site.limits == SiteLimits()
    assert site.limits.get("codes_per_day", 20) == 20


def test_a_site_sets_its_own_limits_and_zero_is_off(tmp_path):
    site, lines = load(
        tmp_path,
        """\
limits:
  events_per_visitor_per_minute: 30
  events_per_address_per_minute: 0
  codes_per_day: 3
  chat_messages_per_minute: 5
  new_visitors_per_minute: 10
  new_visitors_per_hour: 100
""",
    )
    assert lines == []
    assert site.limits.get("events_per_visitor_per_minute", 120) == 30
    assert site.limits.get("events_per_address_per_minute", 6000) == 0
    assert site.limits.get("codes_per_day", 20) == 3
    assert site.limits.get("chat_messages_per_minute", 20) == 5
    assert (site.limits.get("new_visitors_per_minute", 60), site.limits.get("new_visitors_per_hour", 600)) == (10, 100)


def test_mistakes_are_one_line_each_with_where(tmp_path):
    site, lines = load(
        tmp_path,
        """\
limits:
  events_per_visiter_per_minute: 30
  codes_per_day: -1
  chat_messages_per_minute: 2.5
  new_visitors_per_hour: lots
""",
    )
    assert site is None
    folder = tmp_path / "shop" / "site.yaml"
    assert lines == [
        f"{folder}:3:3: unknown limit 'events_per_visiter_per_minute' (did you mean 'events_per_visitor_per_minute'?)",
        f"{folder}:4:3: limit 'codes_per_day' must be a whole number, 0 (off) or more, not '-1'",
        f"{folder}:5:3: limit 'chat_messages_per_minute' must be a whole number, 0 (off) or more, not '2.5'",
        f"{folder}:6:3: limit 'new_visitors_per_hour' must be a whole number, 0 (off) or more, not 'lots'",
    ]


def test_limits_must_be_a_mapping(tmp_path):
    site, lines = load(tmp_path, "limits: 100\n")
    assert site is None
    assert lines == [
        f"{tmp_path / 'shop' / 'site.yaml'}:2:1: 'limits' must be a mapping of limit names to whole numbers, not a number"
    ]
