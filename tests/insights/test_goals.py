"""Goals and holdouts as site.yaml and rule files write them (server/insights/goals.py).

site.yaml's `goals:` keeps its order (the first goal is the site's default), each goal an
event, an optional value property and a window (default 7d); `holdout:` is a percentage from
0% to 90% (decimals allowed), the default of every rule. A rule may set its own `holdout:` and
name one of the site's goals with `goal:`. Every mistake is one line, file:line:col, all of
them at once. A rule's effective values: its own, else the site's; a rule a reload removed
converts for the site's first goal.
"""

from __future__ import annotations

from pathlib import Path

from server.config import load_config
from server.insights.goals import Goal, goal_of, holdout_of
from tests.helpers import SHOP, write_site

SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
goals:
  purchase: {{event: purchase, value: total, within: 3d}}
  signup: {{event: signup}}
holdout: 12.5%
"""
RULES = """\
rules:
  - id: default-holdout
    show: {chat: hi}
  - id: own-holdout
    show: {chat: hi}
    holdout: 20%
    goal: signup
  - id: nobody-held-out
    show: {chat: hi}
    holdout: 0%
"""


def loaded(tmp_path: Path, site: str = SITE, rules: str = RULES):
    write_site(tmp_path, "shop", site, **{"rules.yaml": rules})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    return config.sites["shop"], config.rules["shop"]


def problems(tmp_path: Path, site: str = SITE, rules: str = RULES) -> list[str]:
    write_site(tmp_path, "shop", site, **{"rules.yaml": rules})
    config, found = load_config(tmp_path)
    assert config is None, "expected problems, but the folder loaded"
    return [line.replace(f"{tmp_path}/", "") for line in found.lines()]


def test_goals_keep_their_order_and_defaults(tmp_path):
    site, _ = loaded(tmp_path)
    assert list(site.goals) == ["purchase", "signup"]
    assert site.goals["purchase"] == Goal("purchase", "purchase", "total", 3 * 86400)
    assert site.goals["signup"] == Goal("signup", "signup", None, 7 * 86400)
    assert site.holdout == 0.125


def test_a_site_without_goals_or_holdout_has_none(tmp_path):
    site, rules = loaded(tmp_path, site=f"origins: [{SHOP}]\n", rules="rules: [{id: r, show: {chat: hi}}]\n")
    assert site.goals == {} and site.holdout == 0.0
    assert goal_of("r", rules) is None
    assert holdout_of(rules.by_id["r"], site) == 0.0


def test_a_rule_takes_its_own_holdout_and_goal_else_the_sites(tmp_path):
    site, rules = loaded(tmp_path)
    assert [holdout_of(rules.by_id[r], site) for r in ("default-holdout", "own-holdout", "nobody-held-out")] == [
        0.125,
        0.2,
        0.0,
    ]
    assert goal_of("default-holdout", rules).name == "purchase"  # the site's first goal
    assert goal_of("own-holdout", rules).name == "signup"
    assert goal_of("removed-by-a-reload", rules).name == "purchase"


def test_every_mistake_in_goals_and_holdout_is_one_line_at_its_place(tmp_path):
    site = f"""\
origins: [{SHOP}]
goals:
  purchase: {{event: "buy now", value: 5, within: 0s, colour: red}}
  signup: {{value: plan}}
  "bad name!": {{event: x}}
  refund: refund
holdout: 95%
"""
    assert problems(tmp_path, site=site) == [
        "shop/site.yaml:3:14: goal 'purchase': 'buy now' is not an event name (letters, digits, '_', '.', ':' or '-', up to 64)",
        "shop/site.yaml:3:32: goal 'purchase': 'value' names a property of the event, e.g. value: total; not a number",
        "shop/site.yaml:3:42: goal 'purchase': a duration of 0 never passes; use at least 1s",
        "shop/site.yaml:3:54: goal 'purchase': unknown setting 'colour'; a goal takes event, value, within",
        "shop/site.yaml:4:3: goal 'signup': needs 'event': the custom event that counts as a conversion, e.g. event: purchase",
        "shop/site.yaml:5:3: goal 'bad name!': a goal's name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        "shop/site.yaml:6:3: goal 'refund': write the goal as {event: NAME, value: PROPERTY, within: 7d}, not text",
        "shop/site.yaml:7:1: holdout 95% is too large; at most 90% of visitors can be held out",
    ]


def test_a_holdout_must_be_written_as_a_percentage(tmp_path):
    for written, message in [
        ("10", "holdout is a percentage such as 10%, not a number '10'"),
        ("0.1", "holdout is a percentage such as 10%, not a number '0.1'"),
        ("ten%", "holdout is a percentage such as 10%, not text 'ten%'"),
        ("-5%", "holdout is a percentage such as 10%, not text '-5%'"),
        ("90.5%", "holdout 90.5% is too large; at most 90% of visitors can be held out"),
    ]:
        site = f"origins: [{SHOP}]\nholdout: {written}\n"
        assert problems(tmp_path, site=site, rules="rules: []\n") == [f"shop/site.yaml:2:1: {message}"], written


def test_decimals_and_the_bounds_are_allowed(tmp_path):
    for written, share in [("0%", 0.0), ("2.5%", 0.025), ("90%", 0.9), ("90.0%", 0.9)]:
        site, _ = loaded(tmp_path, site=f"origins: [{SHOP}]\nholdout: {written}\n", rules="rules: []\n")
        assert site.holdout == share, written


def test_a_rules_goal_must_be_one_of_the_sites_and_its_holdout_a_percentage(tmp_path):
    rules = """\
rules:
  - id: typo
    show: {chat: hi}
    goal: purchse
  - id: not-a-name
    show: {chat: hi}
    goal: {event: purchase}
  - id: too-big
    show: {chat: hi}
    holdout: 100%
  - id: no-percent
    show: {chat: hi}
    holdout: 20
    holdot: 5%
"""
    assert problems(tmp_path, rules=rules) == [
        "shop/rules.yaml:4:5: rule \"typo\": unknown goal 'purchse' (did you mean 'purchase'?); "
        "site.yaml's goals are: purchase, signup",
        'shop/rules.yaml:7:5: rule "not-a-name": goal must be the name of a goal in site.yaml, not a mapping',
        'shop/rules.yaml:10:5: rule "too-big": holdout 100% is too large; at most 90% of visitors can be held out',
        "shop/rules.yaml:13:5: rule \"no-percent\": holdout is a percentage such as 10%, not a number '20'",
        "shop/rules.yaml:14:5: rule \"no-percent\": unknown key 'holdot' (did you mean 'holdout'?)",
    ]


def test_a_goal_needs_goals_in_site_yaml(tmp_path):
    rules = "rules:\n  - id: r\n    show: {chat: hi}\n    goal: purchase\n"
    assert problems(tmp_path, site=f"origins: [{SHOP}]\n", rules=rules) == [
        "shop/rules.yaml:4:5: rule \"r\": unknown goal 'purchase': site.yaml has no 'goals'; declare it there first"
    ]
