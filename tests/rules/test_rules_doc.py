"""The marketer's guide, docs/rules.md, kept in step with the code.

Every condition, rule key, action kind and action key, limit key, value-test operator, style,
device, template filter and template variable, and every key of a rule test file, is named in
the guide in backticks, so a key added to the language without a word in the guide fails here.
Every YAML example in the guide is real: rule files and fragments of rules are accepted by the
checker (against the demo shop's site.yaml) and by the editor schema, template snippets
compile, and the example rule test runs and passes. Links inside the guide lead to a heading.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from server.config import load_config
from server.coupons.coupon import Coupon
from server.devices import DEVICES
from server.engage import scope
from server.rule_test_files import STEP_KEYS, TEST_KEYS
from server.rule_tests import collect, run
from server.rules.actions import ACTION_TYPES, SPEC, STYLES
from server.rules.compile import CONDITIONS
from server.rules.facts import Facts
from server.rules.matchers import OPERATORS
from server.rules.read import RULE_KEYS
from server.rules.templates import ALLOWED_FILTERS, compile_template
from server.sites import Site
from server.visitor import VisitorState
from server.yamlsource import Problems
from tests.conftest import ROOT
from tests.rules.test_schema import schema_errors

DOC = ROOT / "docs" / "rules.md"
TEXT = DOC.read_text(encoding="utf-8")
IN_BACKTICKS = set(re.findall(r"`([^`\n]+)`", TEXT))
DEMO_SITE = ROOT / "rules" / "demo"


def _action_keys(spec: dict) -> set[str]:
    keys = set()
    for key, kind in spec.items():
        keys.add(key)
        if isinstance(kind, dict):
            keys |= _action_keys(kind)
    return keys


def _template_names() -> set[str]:
    """Every name a template can use, as `visitor.sessions`, from what the server gives templates."""
    site = Site(key="demo", name="布と日々", origins=frozenset(), timezone=ZoneInfo("Asia/Tokyo"))
    facts = Facts(VisitorState(), 0.0, "/", site, "visitor")
    values = scope(facts, Coupon("SPRING10", "10%オフ", 1))
    return {f"{group}.{name}" for group, names in values.items() for name in names}


NAMES = {
    "condition": set(CONDITIONS),
    "rule key": set(RULE_KEYS),
    "action": set(ACTION_TYPES),
    "action key": set().union(*(_action_keys(SPEC[kind]) for kind in ACTION_TYPES)),
    "limit key": {"per_visitor", "within", "per_session"},
    "operator": set(OPERATORS) | {"exists"},
    "style": set(STYLES),
    "device": set(DEVICES),
    "template filter": set(ALLOWED_FILTERS),
    "template variable": _template_names(),
    "test file key": {"tests"} | set(TEST_KEYS) | set(STEP_KEYS),
}


@pytest.mark.parametrize("what", NAMES)
def test_the_guide_names_every_key_in_backticks(what):
    missing = sorted(NAMES[what] - IN_BACKTICKS)
    assert not missing, f"docs/rules.md does not mention these {what}s in backticks: {missing}"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_inside_the_guide_lead_to_a_heading():
    anchors = {_slug(heading) for heading in re.findall(r"^#+ (.+)$", TEXT, re.M)}
    broken = sorted(set(re.findall(r"\]\(#([^)]+)\)", TEXT)) - anchors)
    assert not broken, f"links to no heading: {broken}"


# ---- The examples are real ----


def _yaml_examples() -> list[tuple[int, str]]:
    """(line, text) of every ```yaml block."""
    examples = []
    for match in re.finditer(r"^```yaml\n(.*?)^```", TEXT, re.M | re.S):
        examples.append((TEXT.count("\n", 0, match.start()) + 1, match.group(1)))
    return examples


EXAMPLES = _yaml_examples()
FRAGMENT_FILLERS = {"id": "id: example", "show": "show: {chat: いらっしゃいませ}"}


def _as_rule_file(text: str) -> str | None:
    """The example as a whole rule file (a fragment of a rule gets an id and an action), or None."""
    data = yaml.safe_load(text)
    if "rules" in data:
        return text
    if set(data) <= set(RULE_KEYS):
        fillers = [line for key, line in FRAGMENT_FILLERS.items() if key not in data]
        return "rules:\n  - " + "\n    ".join(fillers) + "\n" + textwrap.indent(text, "    ")
    return None


def _site_folder(tmp_path: Path) -> Path:
    """A copy of the demo site's settings (and its codes files), without its rules."""
    folder = tmp_path / "demo"
    folder.mkdir()
    for path in DEMO_SITE.iterdir():
        if path.name == "site.yaml" or path.suffix == ".txt":
            shutil.copy(path, folder / path.name)
    return folder


def test_the_guide_has_examples_of_each_kind():
    kinds = [
        ("rules" if "rules" in data else "tests" if "tests" in data else "fragment")
        for data in (yaml.safe_load(text) for _, text in EXAMPLES)
    ]
    assert kinds.count("rules") >= 3 and kinds.count("tests") == 1 and kinds.count("fragment") >= 10


@pytest.mark.parametrize("line, text", EXAMPLES, ids=[f"line {line}" for line, _ in EXAMPLES])
def test_every_yaml_example_is_accepted(tmp_path, line, text):
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"docs/rules.md:{line}: an example must be a mapping"
    if "tests" in data:
        return  # run below, with the rule file it tests
    if set(data) <= {"text", "title"}:
        for value in data.values():
            assert compile_template(value)[1] is None, f"docs/rules.md:{line}: {value}"
        return
    rule_file = _as_rule_file(text)
    assert rule_file is not None, f"docs/rules.md:{line}: not a rule file, a part of a rule, a test file or a text"
    (_site_folder(tmp_path) / "example.yaml").write_text(rule_file, encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert config is not None, f"docs/rules.md:{line}:\n{rule_file}\n" + "\n".join(problems.lines())
    assert schema_errors(rule_file) == [], f"docs/rules.md:{line}: the editor schema refuses it"


def test_the_example_rule_test_passes_on_the_example_rule_file(tmp_path):
    tests_at = next(index for index, (_, text) in enumerate(EXAMPLES) if "tests" in yaml.safe_load(text))
    rule_file = EXAMPLES[tests_at - 1][1]
    assert "rules" in yaml.safe_load(rule_file), "the test example must follow the rule file it tests"
    folder = _site_folder(tmp_path)
    (folder / "pricing.yaml").write_text(rule_file, encoding="utf-8")
    (folder / "pricing.test.yaml").write_text(EXAMPLES[tests_at][1], encoding="utf-8")
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    test_problems = Problems()
    tests = collect(tmp_path, config, test_problems)
    assert not test_problems, test_problems.lines()
    assert tests
    for rule_test in tests:
        assert run(rule_test, config).failures == [], rule_test.name
