"""The repo's own rules folder: it loads, its test files are well formed, and every rule test passes.

Each test of every ``rules/<site>/*.test.yaml`` is one pytest case, named
``site/file::test name``, failing with the lines `irasshai rules test rules` would print.
Texts that name the business hours take them from site.yaml.
"""

from __future__ import annotations

import re
import shutil

import pytest

from server.config import load_config
from server.coupons.coupon import Coupon
from server.engage import scope
from server.rule_tests import collect, run
from server.rules.facts import Facts
from server.visitor import VisitorState
from server.yamlsource import Problems
from tests.conftest import ROOT

RULES = ROOT / "rules"
CONFIG, LOAD_PROBLEMS = load_config(RULES)
TEST_FILE_PROBLEMS = Problems()
TESTS = collect(RULES, CONFIG, TEST_FILE_PROBLEMS) if CONFIG is not None else []


def test_the_rules_folder_loads_and_has_well_formed_rule_tests():
    assert CONFIG is not None, "\n".join(LOAD_PROBLEMS.lines())
    assert not TEST_FILE_PROBLEMS, "\n".join(TEST_FILE_PROBLEMS.lines())
    assert TESTS, f"no rule tests found in {RULES}/<site>/*.test.yaml"


@pytest.mark.parametrize("rule_test", TESTS, ids=[test.id for test in TESTS])
def test_rule_test_passes(rule_test):
    result = run(rule_test, CONFIG)
    if not result.passed:
        pytest.fail("\n".join(result.failures), pytrace=False)


def test_the_bots_texts_take_the_business_hours_from_site_yaml(tmp_path):
    """Outside business hours the bots say when a person answers, from site.yaml, not hard-coded.

    With other hours in the demo's site.yaml, every text that names hours names those, and no
    text still says the old ones.
    """
    shutil.copytree(RULES, tmp_path / "rules")
    site_yaml = tmp_path / "rules" / "demo" / "site.yaml"
    text, replaced = re.subn(
        r"^business_hours:\n(?:  .*\n)+",
        'business_hours:\n  days: [sat, sun]\n  from: "10:30"\n  to: "17:00"\n',
        site_yaml.read_text(encoding="utf-8"),
        flags=re.M,
    )
    assert replaced == 1
    site_yaml.write_text(text, encoding="utf-8")
    config, problems = load_config(tmp_path / "rules")
    assert config is not None, problems.lines()
    site = config.sites["demo"]
    visitor = VisitorState()
    visitor.attributes = {"name": "山田 花子", "orders": 3, "cart_items": 1}
    facts = Facts(visitor, 0.0, "/", site, "visitor")
    rendered = {
        rule_id: str(rule.action.render(scope(facts, Coupon("CODE", "", 0))))
        for rule_id, rule in config.rules["demo"].by_id.items()
    }
    naming_hours = {rule_id for rule_id, shown in rendered.items() if "土日 10:30〜17:00" in shown}
    assert {"bot-chat-after-hours", "checkout-idle-bot", "cashmere-consult-bot"} <= naming_hours
    assert {
        rule_id: shown
        for rule_id, shown in rendered.items()
        if re.search(r"\d:\d\d|平日", shown) and rule_id not in naming_hours
    } == {}
