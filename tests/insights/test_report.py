"""A rule's report and the site's rules report (server/insights/report.py), from read_counts' answer.

rule_report gives the funnel per day, the breakdowns by device, hour (all 24) and page (the 50
most decided), totals, the uplift block and what the rule is; a rule no longer in the rules
still reports its counts, with the site's default goal and holdout. rules_report lists every
live rule and every counted one with its totals and absolute uplift, and a `rules` table.
Every table is {"columns", "rows"}, so the console renders and exports any of them alike.
"""

from __future__ import annotations

import dataclasses
import zoneinfo

import pytest

from server.config import load_config
from server.insights.goals import Goal
from server.insights.report import TABLE_COUNTERS, days_report, limit_text, rule_report, rules_report
from server.rules.engine import RuleSet
from server.sites import Site
from tests.helpers import SITE_YAML, write_site

RULES = """\
rules:
  - id: cart-coupon
    description: A coupon for a full cart
    priority: 5
    when: {page: /cart}
    show: {chat: {text: hi}}
    limit: {per_visitor: 1, within: 30d}
  - id: pricing-help
    when: {page: /pricing}
    show: {chat: {text: hello}}
"""
PURCHASE = Goal("purchase", event="purchase", value="value", within=7 * 86400)
SIGNUP = Goal("signup", event="signup", value=None, within=7 * 86400)

# The counts of tests/insights/test_uplift.py over two days: 1200 decided, 200 of them held out;
# 120 of the 1000 shown converted (value 6000, Σv² 600,000), 16 of the 200 held out (800, 80,000).
DAY_ONE = {
    "decided": 700,
    "held_out": 100,
    "shown": 550,
    "clicked": 50,
    "dismissed": 300,
    "copied": 40,
    "converted": 70,
    "converted_held_out": 9,
    "value": 3500,
    "value_held_out": 450,
    "value_sq": 350_000,
    "value_sq_held_out": 45_000,
    "decided@device=mobile": 500,
    "decided@device=desktop": 200,
    "converted@device=mobile": 50,
    "decided@hour=9": 300,
    "decided@hour=21": 400,
    "shown@hour=21": 380,
    "decided@page=/cart": 650,
    "decided@page=/cart/edit": 50,
}
DAY_TWO = {
    "decided": 500,
    "held_out": 100,
    "shown": 380,
    "clicked": 30,
    "dismissed": 200,
    "copied": 25,
    "converted": 50,
    "converted_held_out": 7,
    "value": 2500,
    "value_held_out": 350,
    "value_sq": 250_000,
    "value_sq_held_out": 35_000,
    "decided@device=mobile": 100,
    "decided@device=tablet": 400,
    "decided@hour=21": 500,
    "decided@page=/cart": 500,
}
COUNTS = {"2026-11-21": {"cart-coupon": DAY_ONE}, "2026-11-22": {"cart-coupon": DAY_TWO, "gone": {"decided": 3}}}


@pytest.fixture
def rules(tmp_path) -> RuleSet:
    """The site with goals purchase (default) and signup, a 10 % holdout; cart-coupon holds out 20 %
    for purchase, pricing-help converts for signup."""
    write_site(tmp_path, "shop", SITE_YAML, **{"rules.yaml": RULES})
    config, _ = load_config(tmp_path)
    site = dataclasses.replace(config.sites["shop"], goals={"purchase": PURCHASE, "signup": SIGNUP}, holdout=0.1)
    live = config.rules["shop"].rules
    return RuleSet(
        site,
        [
            dataclasses.replace(live[0], holdout=0.2),
            dataclasses.replace(live[1], goal="signup"),
        ],
    )


def row(table: dict, key) -> dict:
    """One row of a table as {column: value}."""
    found = [dict(zip(table["columns"], values, strict=True)) for values in table["rows"] if values[0] == key]
    assert len(found) == 1, f"{key!r} in {table['rows']}"
    return found[0]


def test_the_funnel_has_one_row_per_day_with_every_counter(rules):
    report = rule_report(rules.site, rules, "cart-coupon", COUNTS)
    funnel = report["tables"]["funnel"]
    assert funnel["columns"] == [
        "day",
        "decided",
        "held_out",
        "shown",
        "clicked",
        "dismissed",
        "copied",
        "converted",
        "converted_held_out",
        "value",
        "value_held_out",
    ]
    assert [values[0] for values in funnel["rows"]] == ["2026-11-21", "2026-11-22"]
    assert row(funnel, "2026-11-21") == {"day": "2026-11-21", **{c: DAY_ONE[c] for c in TABLE_COUNTERS}}
    assert report["totals"]["decided"] == 1200 and report["totals"]["value_sq_held_out"] == 80_000


def test_a_day_without_counts_is_a_row_of_zeros(rules):
    report = rule_report(rules.site, rules, "cart-coupon", {"2026-11-20": {}, **COUNTS})
    assert report["tables"]["funnel"]["rows"][0] == ["2026-11-20"] + [0] * len(TABLE_COUNTERS)


def test_breakdowns_add_up_the_days_and_put_the_most_decided_first(rules):
    tables = rule_report(rules.site, rules, "cart-coupon", COUNTS)["tables"]
    by_device = tables["by_device"]
    assert by_device["columns"] == ["device", *TABLE_COUNTERS]
    assert [(values[0], values[1]) for values in by_device["rows"]] == [
        ("mobile", 600),
        ("tablet", 400),
        ("desktop", 200),
    ]
    assert row(by_device, "mobile")["converted"] == 50
    by_hour = tables["by_hour"]
    assert [values[0] for values in by_hour["rows"]] == list(range(24))  # every hour, for the chart's axis
    assert row(by_hour, 21)["decided"] == 900 and row(by_hour, 21)["shown"] == 380 and row(by_hour, 3)["decided"] == 0
    assert [(values[0], values[1]) for values in tables["by_page"]["rows"]] == [("/cart", 1150), ("/cart/edit", 50)]


def test_the_page_breakdown_keeps_the_50_most_decided_pages():
    counts = {"2026-11-22": {"r": {f"decided@page=/p{n:02d}": n + 1 for n in range(60)}}}
    rules = RuleSet(_bare_site(), [])
    pages = rule_report(rules.site, rules, "r", counts)["tables"]["by_page"]["rows"]
    assert len(pages) == 50 and pages[0][:2] == ["/p59", 60] and pages[-1][:2] == ["/p10", 11]


def test_the_uplift_block_compares_held_out_with_the_rest(rules):
    uplift = rule_report(rules.site, rules, "cart-coupon", COUNTS)["uplift"]
    assert uplift["goal"] == "purchase" and uplift["holdout"] == 0.2 and uplift["enough_data"]
    assert uplift["treatment"] == {"decisions": 1000, "converted": 120, "rate": 0.12, "value_mean": 6.0}
    assert uplift["control"] == {"decisions": 200, "converted": 16, "rate": 0.08, "value_mean": 4.0}
    # The numbers worked out by hand in tests/insights/test_uplift.py.
    assert uplift["absolute"] == pytest.approx({"estimate": 0.04, "low": -0.0026534, "high": 0.0826534}, abs=1e-6)
    assert uplift["relative"] == pytest.approx({"estimate": 0.5, "low": -0.0893426, "high": 1.4707427}, abs=1e-6)
    assert uplift["value"] == pytest.approx({"estimate": 2.0, "low": -1.106892, "high": 5.106892}, abs=2e-5)
    # 200 of 1200 held out is 16.7 % against 20 %: χ² = 40²/240 + 40²/960 = 8.33; p = 0.0039, no warning.
    assert uplift["sample_ratio"] == pytest.approx(
        {"expected": 0.2, "observed": 200 / 1200, "p": 0.003892, "mismatch": False}, abs=1e-6
    )


def test_a_skewed_split_is_flagged(rules):
    # 300 of 1200 held out against 10 %: χ² = 180²/120 + 180²/1080 = 270 + 30 = 300; p ≈ 4e-67.
    uplift = rule_report(rules.site, rules, "gone", {"2026-11-22": {"gone": {"decided": 1200, "held_out": 300}}})[
        "uplift"
    ]
    assert uplift["holdout"] == 0.1 and uplift["sample_ratio"]["mismatch"] and uplift["sample_ratio"]["p"] < 1e-60


def test_below_the_minimum_the_uplift_is_not_enough_data(rules):
    short = {"2026-11-22": {"cart-coupon": {**DAY_TWO, "converted_held_out": 4}}}  # 100 held out, 4 converted
    uplift = rule_report(rules.site, rules, "cart-coupon", short)["uplift"]
    assert uplift["enough_data"] is False
    assert (uplift["absolute"], uplift["relative"], uplift["value"]) == (None, None, None)
    assert uplift["control"] == {"decisions": 100, "converted": 4, "rate": 0.04, "value_mean": 3.5}


def test_a_goal_without_a_value_reports_no_value_difference(rules):
    counts = {"2026-11-22": {"pricing-help": {k: v for k, v in {**DAY_ONE, **DAY_TWO}.items() if "@" not in k}}}
    uplift = rule_report(rules.site, rules, "pricing-help", counts)["uplift"]
    assert uplift["goal"] == "signup" and uplift["holdout"] == 0.1
    assert uplift["enough_data"] and uplift["absolute"] is not None and uplift["value"] is None


def test_a_site_without_goals_has_no_uplift():
    counts = {"2026-11-22": {"r": {"decided": 5000, "held_out": 500, "converted": 500, "converted_held_out": 50}}}
    rules = RuleSet(_bare_site(), [])
    uplift = rule_report(rules.site, rules, "r", counts)["uplift"]
    assert uplift["goal"] is None and not uplift["enough_data"] and uplift["absolute"] is None


def test_the_report_says_what_the_rule_is(rules):
    assert rule_report(rules.site, rules, "cart-coupon", COUNTS)["rule"] == {
        "id": "cart-coupon",
        "description": "A coupon for a full cart",
        "priority": 5,
        "limit": "per_visitor: 1, within: 30d",
        "holdout": 0.2,
        "goal": "purchase",
        "where": rules.by_id["cart-coupon"].where,
    }
    assert rules.by_id["cart-coupon"].where.endswith("rules.yaml:2:5")
    assert limit_text(rules.by_id["pricing-help"]) == "per_session: 1"


def test_a_rule_no_longer_in_the_rules_still_reports_what_it_counted(rules):
    report = rule_report(rules.site, rules, "gone", COUNTS)
    assert report["rule"] == {"id": "gone"}
    assert report["totals"]["decided"] == 3 and report["uplift"]["goal"] == "purchase"


def test_the_rules_report_lists_live_and_counted_rules_with_totals_and_uplift(rules):
    report = rules_report(rules.site, rules, COUNTS)
    assert list(report["rules"]) == ["cart-coupon", "gone", "pricing-help"]
    cart = report["rules"]["cart-coupon"]
    assert cart["decided"] == 1200 and cart["converted_held_out"] == 16
    assert cart["uplift"] == pytest.approx({"estimate": 0.04, "low": -0.0026534, "high": 0.0826534}, abs=1e-6)
    assert report["rules"]["pricing-help"]["decided"] == 0 and report["rules"]["pricing-help"]["uplift"] is None
    assert report["rules"]["gone"]["uplift"] is None
    table = report["tables"]["rules"]
    assert table["columns"] == ["rule", *TABLE_COUNTERS, "uplift", "uplift_low", "uplift_high"]
    assert row(table, "cart-coupon")["uplift_low"] == pytest.approx(-0.0026534, abs=1e-6)
    assert row(table, "gone")["uplift"] is None and row(table, "gone")["decided"] == 3


def test_the_days_report_has_every_counter_without_breakdowns():
    days = days_report(COUNTS)
    assert list(days) == ["2026-11-21", "2026-11-22"]
    assert days["2026-11-22"]["gone"] == {**dict.fromkeys(days["2026-11-22"]["gone"], 0), "decided": 3}
    assert len(days["2026-11-22"]["gone"]) == 12 and not any("@" in c for c in days["2026-11-21"]["cart-coupon"])


def _bare_site() -> Site:
    """A site without goals or holdout."""
    return Site(key="shop", name="Shop", origins=frozenset(), timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))
