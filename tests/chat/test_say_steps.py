"""`say` steps in rule tests (server/rule_test_files.py, server/rule_tests.py).

A `say` step sends the visitor's text to the site's FAQ bot and expects `{answer: ID}`
(`handoff` for a person asked for), `{choices: [IDs]}` in any order, or `{understood: false}`;
a wrong verdict fails the step with both sides named; mistakes (unknown ids, no faq.yaml, a
non-text say) are reported as ``path:line:col: test "name" step N: …``.
"""

from __future__ import annotations

import io

from server.config import load_config
from server.rule_tests import run_tests
from tests.chat.test_faq_file import GOOD
from tests.helpers import write_site

TESTS = """\
tests:
  - name: asks
    steps:
      - say: 送料はいくら?
        expect: {answer: shipping}
      - say: shipping cost
        expect: {understood: false}
      - say: スタッフと話したい
        expect: {answer: handoff}
"""


def run(tmp_path, **files) -> list[str]:
    write_site(tmp_path, **files)
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    out = io.StringIO()
    run_tests(tmp_path, config, out)
    return out.getvalue().splitlines()


def test_a_wrong_verdict_fails_the_step_naming_both(tmp_path):
    lines = run(tmp_path, **{"faq.yaml": GOOD, "faq.test.yaml": TESTS})
    assert lines == [
        f'{tmp_path}/shop/faq.test.yaml:6:9: test "asks" step 2: expected understood: false, got answer: shipping',
        "0 passed, 1 failed",
    ]


def test_mistakes_are_reported_with_positions(tmp_path):
    bad = TESTS.replace("{answer: shipping}", "{answer: shiping}").replace("say: shipping cost", "say: 5")
    lines = run(tmp_path, **{"faq.yaml": GOOD, "faq.test.yaml": bad})
    assert lines[:2] == [
        f"{tmp_path}/shop/faq.test.yaml:5:18: test \"asks\" step 1: unknown question id 'shiping' (did you mean 'shipping'?) in faq.yaml",
        f'{tmp_path}/shop/faq.test.yaml:6:9: test "asks" step 2: say takes the visitor\'s text, e.g. say: 送料はいくら?; not a number',
    ]


def test_an_expected_id_that_is_a_list_or_mapping_is_a_mistake(tmp_path):
    """Found by tests/fuzz: `expect: {answer: {}}` made `rules test` die with TypeError (unhashable)."""
    bad = TESTS.replace("{answer: shipping}", "{answer: {}}").replace("{answer: handoff}", "{choices: [[a]]}")
    lines = run(tmp_path, **{"faq.yaml": GOOD, "faq.test.yaml": bad})
    assert lines[:2] == [
        f"{tmp_path}/shop/faq.test.yaml:5:18: test \"asks\" step 1: unknown question id '{{}}' in faq.yaml",
        f"{tmp_path}/shop/faq.test.yaml:9:28: test \"asks\" step 3: unknown question id '[a]' in faq.yaml",
    ]


def test_a_site_without_faq_cannot_say(tmp_path):
    lines = run(tmp_path, **{"faq.test.yaml": TESTS})
    assert "site 'shop' has no faq.yaml" in lines[0]


def test_the_guides_faq_and_say_examples_work(tmp_path):
    """docs/rules.md's faq.yaml and say-step examples (```yml blocks, which the rule-file doc test skips)."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yml\n(.*?)^```", text, re.M | re.S)
    faq, tests = [block for block in blocks if not block.startswith("replies:")]  # replies.yaml: its own test
    write_site(tmp_path / "example", **{"faq.yaml": faq})
    config, problems = load_config(tmp_path / "example")
    assert config is not None and config.faqs["shop"], problems.lines()
    demo_faq = (ROOT / "rules" / "demo" / "faq.yaml").read_text(encoding="utf-8")
    assert run(tmp_path / "demo", **{"faq.yaml": demo_faq, "faq.test.yaml": tests}) == ["1 passed, 0 failed"]
