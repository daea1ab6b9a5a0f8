"""The repo's own rules folder: it loads, its test files are well formed, and every rule test passes.

Each test of every ``rules/<site>/*.test.yaml`` is one pytest case, named
``site/file::test name``, failing with the lines `irasshai rules test rules` would print.
"""

from __future__ import annotations

import pytest

from server.config import load_config
from server.rule_tests import collect, run
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
