"""The JSON Schema of rule files (server/rules/schema.py), as an editor uses it.

`irasshai rules schema` prints a draft-07 schema that editors (VS Code's YAML extension) use to
complete keys and flag mistakes. It covers every key the compiler knows: each condition, rule
key, action kind and action key, and every value-test operator, so a key added to the language
without a shape here fails these tests. Every mapping with fixed keys refuses others. Rule files
the checker accepts (the repo's own, and typical edge cases) validate; typical mistakes, which
the checker refuses, do not. The schema never replaces the checker: it cannot know the site.

The venv holds no JSON Schema library, so a small validator for the keywords the schema uses
checks the examples; `jsonschema`, when installed, checks the schema and examples as well.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.config import load_config
from server.devices import DEVICES
from server.rules.actions import ACTION_TYPES, SPEC, STYLES
from server.rules.compile import CONDITIONS
from server.rules.matchers import OPERATORS
from server.rules.read import RULE_KEYS, rule_files
from server.rules.schema import rule_file_schema
from tests.conftest import ROOT
from tests.helpers import SHOP, write_site

SCHEMA = rule_file_schema()
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
business_hours: {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
coupons:
  spring10: {{code: SPRING10, discount: 10%オフ}}
goals:
  purchase: {{event: purchase, value: total}}
  signup: {{event: signup}}
"""
DRAFT_07_KEYWORDS = {
    "$schema",
    "$id",
    "$ref",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "definitions",
    "type",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "properties",
    "additionalProperties",
    "patternProperties",
    "required",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "dependencies",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "format",
}
TYPES = {"string", "number", "integer", "boolean", "null", "object", "array"}


# ---- A validator for the keywords the schema uses (no dependency) ----


def _type_ok(value: Any, name: str) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "number": number,
        "integer": number and float(value).is_integer(),
    }[name]


def _resolve(reference: str) -> dict:
    assert reference.startswith("#/"), reference
    node: Any = SCHEMA
    for part in reference[2:].split("/"):
        node = node[part]
    return node


def _errors(value: Any, schema: dict, path: str = "$") -> list[str]:
    if "$ref" in schema:
        return _errors(value, _resolve(schema["$ref"]), path)
    found: list[str] = []

    def fail(message: str) -> None:
        found.append(f"{path}: {message}")

    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, name) for name in names):
            return [f"{path}: {value!r} is not of type {names}"]
    if "enum" in schema and value not in schema["enum"]:
        fail(f"{value!r} is not one of {schema['enum']}")
    if "const" in schema and not (value == schema["const"] and type(value) is type(schema["const"])):
        fail(f"{value!r} is not {schema['const']!r}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            fail(f"{value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            fail(f"{value!r} has the wrong length")
    if _type_ok(value, "number") and (value < schema.get("minimum", value) or value > schema.get("maximum", value)):
        fail(f"{value!r} is out of range")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, child in value.items():
            matched = [sub for pattern, sub in patterns.items() if re.search(pattern, key)]
            for sub in matched:
                found += _errors(child, sub, f"{path}.{key}")
            if key in properties:
                found += _errors(child, properties[key], f"{path}.{key}")
            elif matched:
                pass
            elif schema.get("additionalProperties") is False:
                fail(f"unknown key {key!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += _errors(child, schema["additionalProperties"], f"{path}.{key}")
        for key in schema.get("required", []):
            if key not in value:
                fail(f"missing {key!r}")
        if not schema.get("minProperties", 0) <= len(value) <= schema.get("maxProperties", len(value)):
            fail(f"{len(value)} keys")
        for key, needed in schema.get("dependencies", {}).items():
            if key in value and any(other not in value for other in needed):
                fail(f"{key!r} needs {needed}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            fail("too few items")
        if "items" in schema:
            for index, item in enumerate(value):
                found += _errors(item, schema["items"], f"{path}[{index}]")
    if "anyOf" in schema and all(_errors(value, branch, path) for branch in schema["anyOf"]):
        fail(f"{value!r} matches none of the allowed forms")
    return found


def plain(value: Any) -> Any:
    """YAML as an editor's JSON sees it: dates are text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def schema_errors(text: str) -> list[str]:
    """Why the schema refuses the rule file `text` (empty: it validates)."""
    return _errors(plain(yaml.safe_load(text)), SCHEMA)


def checker_problems(tmp_path: Path, text: str) -> list[str]:
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": text})
    config, problems = load_config(tmp_path)
    return [] if config is not None else problems.lines()


# ---- Coverage: every key the compiler knows has a shape ----


def _conditions() -> dict:
    return SCHEMA["definitions"]["conditions"]["properties"]


def _rule() -> dict:
    return SCHEMA["properties"]["rules"]["items"]


def _mapping_of(schema: dict) -> dict:
    """The mapping form of a key that also has a short form (`chat: text`, `button: label`)."""
    if "properties" in schema:
        return schema
    return next(branch for branch in schema["anyOf"] if "properties" in branch)


def test_the_schema_is_draft_07_with_a_title_and_a_description():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["title"] and SCHEMA["description"]
    assert SCHEMA["required"] == ["rules"]


def test_every_condition_of_the_compiler_has_a_described_shape():
    assert set(_conditions()) == set(CONDITIONS)
    for name, shape in _conditions().items():
        assert shape.get("description"), f"condition {name!r} has no description"


def test_every_rule_key_has_a_described_shape_and_id_and_show_are_required():
    properties = _rule()["properties"]
    assert tuple(properties) == RULE_KEYS
    assert all(shape.get("description") for shape in properties.values())
    assert _rule()["required"] == ["id", "show"]
    assert properties["id"]["pattern"] == r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def test_every_action_and_action_key_has_a_described_shape():
    show = _rule()["properties"]["show"]
    assert set(show["properties"]) == set(ACTION_TYPES)
    assert show["minProperties"] == show["maxProperties"] == 1

    def walk(spec: dict, schema: dict, where: str) -> None:
        mapping = _mapping_of(schema)
        assert set(mapping["properties"]) == set(spec), where
        for key, kind in spec.items():
            child = mapping["properties"][key]
            assert child.get("description"), f"{where}.{key} has no description"
            if isinstance(kind, dict):
                walk(kind, child, f"{where}.{key}")

    for kind in ACTION_TYPES:
        walk(SPEC[kind], show["properties"][kind], kind)
    assert show["properties"]["message"]["properties"]["style"]["enum"] == list(STYLES)


def test_value_tests_offer_every_operator_and_exists():
    operators = SCHEMA["definitions"]["valueTest"]["anyOf"][-1]["properties"]
    assert set(operators) == set(OPERATORS) | {"exists"}


def test_devices_and_limit_keys_are_the_compilers():
    assert _conditions()["device"]["anyOf"][0]["enum"] == list(DEVICES)
    assert set(_rule()["properties"]["limit"]["properties"]) == {"per_visitor", "within", "per_session"}


# ---- The schema is well formed ----


def _nodes(schema: Any, path: str = "$"):
    """Every sub-schema, with where it is."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key in ("properties", "definitions"):
        for name, child in schema.get(key, {}).items():
            yield from _nodes(child, f"{path}.{key}.{name}")
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from _nodes(schema[key], f"{path}.{key}")
    for key in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(schema.get(key, [])):
            yield from _nodes(child, f"{path}.{key}[{index}]")


def test_the_schema_uses_only_draft_07_keywords_and_every_reference_resolves():
    for path, node in _nodes(SCHEMA):
        unknown = set(node) - DRAFT_07_KEYWORDS
        assert not unknown, f"{path}: not draft-07 keywords: {unknown}"
        if "$ref" in node:
            assert _resolve(node["$ref"]), path
        if "type" in node:
            names = node["type"] if isinstance(node["type"], list) else [node["type"]]
            assert set(names) <= TYPES, path
        if "pattern" in node:
            re.compile(node["pattern"])
        for key in node.get("required", []):
            assert "properties" not in node or key in node["properties"], f"{path}: requires unknown {key!r}"


def test_every_mapping_with_fixed_keys_refuses_other_keys():
    for path, node in _nodes(SCHEMA):
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"


def test_irasshai_rules_schema_prints_the_schema_as_json():
    result = subprocess.run(
        [sys.executable, "-m", "server", "rules", "schema"], capture_output=True, text=True, cwd=ROOT, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == SCHEMA


# ---- Rule files: the schema agrees with the checker ----

REPO_RULE_FILES = [
    path for folder in sorted((ROOT / "rules").iterdir()) if folder.is_dir() for path in rule_files(folder)
]

ACCEPTED = {
    "shorthands": """
        rules:
          - id: hello
            show: {chat: いらっしゃいませ}
          - id: button-label
            when: {page: /cart}
            show: {message: {title: 送料無料まであと少し, button: カートを見る}}
        """,
    "every condition": """
        rules:
          - id: everything
            description: Every condition once.
            enabled: false
            priority: -1
            when:
              page: [/products/*, "re:/category/(tops|bottoms)"]
              event: [view_product, add_to_cart]
              page_views: {page: /pricing*, at_least: 2, at_most: 9, within: 7d}
              sessions: {page: /cart, at_least: 1, within: 30d}
              events: {name: add_to_cart, where: {category: [tops, bottoms], price: {gte: 5000}}, at_least: 1}
              visitor:
                verified: true
                name: {exists: true}
                orders: {gte: 1, ne: 0}
                tags: {contains: vip}
                plan: {eq: gold}
                nickname: null
              properties: {category: tops, price: {lt: 20000, in: [3900, 4400]}}
              returning: true
              device: mobile
              language: [ja, en-US]
              referrer: "*google.*"
              utm: {source: line, medium: social, campaign: "spring*", term: 2026, content: banner}
              hours: {days: [Monday, fri], from: 09:00, to: "24:00"}
              dates: {from: 2026-12-01, until: "2026-12-25 18:00"}
              time_on_page: 30s
              time_on_site: 10m
              idle: 1m
              scroll: 50
              exit_intent: true
              sample: 12.5%
              all: [{page: /cart}]
              any: [{hours: business}, {not: {sample: 50%}}]
              not: {visitor: {logged_in: true}}
            show:
              coupon: {pool: spring10, title: まだお悩みですか？, text: "{{ coupon.code }}", button: {label: 閉じる}}
            limit: {per_visitor: 1, within: 30d, per_session: 1}
        """,
    "every action key": """
        rules:
          - id: chat
            show:
              chat:
                text: "{{ visitor.name | default('お客') }}さま"
                agent: {name: 佐藤, avatar: /img/sato.png}
                button: {label: 相談する, url: "https://line.me/R/ti/p/@nunotohibi"}
                placement: bottom-left
          - id: coupon
            show:
              coupon: {pool: spring10, button: {label: カートを見る, url: /cart}, placement: top}
          - id: message
            show:
              message:
                title: t
                text: 42
                style: modal
                image: "https://shop.example/a.png"
                button: {label: b, url: /pricing}
                placement: bottom
        """,
    "a holdout and a goal": """
        rules:
          - id: measured
            show: {chat: hi}
            holdout: 12.5%
            goal: signup
          - id: all-shown
            show: {chat: hi}
            holdout: 0%
        """,
}

REFUSED = {
    "an unknown rule key": "rules: [{id: r, delay: 3, show: {chat: hi}}]",
    "a rule without id": "rules: [{show: {chat: hi}}]",
    "an id with a space": "rules: [{id: my rule, show: {chat: hi}}]",
    "rules that are not a list": "rules: {id: r}",
    "an unknown condition": "rules: [{id: r, when: {delay_sec: 10}, show: {chat: hi}}]",
    "a duration without unit": "rules: [{id: r, when: {time_on_page: 30}, show: {chat: hi}}]",
    "a duration of zero": "rules: [{id: r, when: {idle: 0s}, show: {chat: hi}}]",
    "a page that is not a path": "rules: [{id: r, when: {page: pricing}, show: {chat: hi}}]",
    "an unknown device": "rules: [{id: r, when: {device: phone}, show: {chat: hi}}]",
    "exit intent false": "rules: [{id: r, when: {exit_intent: false}, show: {chat: hi}}]",
    "a scroll over 100%": "rules: [{id: r, when: {scroll: 150%}, show: {chat: hi}}]",
    "a percentage without %": "rules: [{id: r, when: {sample: '50'}, show: {chat: hi}}]",
    "unknown hours": "rules: [{id: r, when: {hours: biz}, show: {chat: hi}}]",
    "hours without to": "rules: [{id: r, when: {hours: {from: '09:00'}}, show: {chat: hi}}]",
    "an unknown day": "rules: [{id: r, when: {hours: {days: [mo], from: '9:00', to: '18:00'}}, show: {chat: hi}}]",
    "dates without from or until": "rules: [{id: r, when: {dates: {}}, show: {chat: hi}}]",
    "a count without bounds": "rules: [{id: r, when: {page_views: {page: /pricing}}, show: {chat: hi}}]",
    "a negative count": "rules: [{id: r, when: {sessions: {at_least: -1}}, show: {chat: hi}}]",
    "events without a name": "rules: [{id: r, when: {events: {at_least: 1}}, show: {chat: hi}}]",
    "an unknown operator": "rules: [{id: r, when: {visitor: {orders: {gtee: 1}}}, show: {chat: hi}}]",
    "in without a list": "rules: [{id: r, when: {visitor: {plan: {in: gold}}}, show: {chat: hi}}]",
    "exists that is not true/false": "rules: [{id: r, when: {visitor: {plan: {exists: maybe}}}, show: {chat: hi}}]",
    "verified that is not true/false": "rules: [{id: r, when: {visitor: {verified: 1}}, show: {chat: hi}}]",
    "an unknown utm key": "rules: [{id: r, when: {utm: {src: line}}, show: {chat: hi}}]",
    "not given a list": "rules: [{id: r, when: {not: [{page: /cart}]}, show: {chat: hi}}]",
    "an empty any": "rules: [{id: r, when: {any: []}, show: {chat: hi}}]",
    "two actions": "rules: [{id: r, show: {chat: hi, message: {title: t}}}]",
    "no action": "rules: [{id: r, show: {}}]",
    "a chat without text": "rules: [{id: r, show: {chat: {agent: {name: 佐藤}}}}]",
    "a coupon without pool": "rules: [{id: r, show: {coupon: {title: t}}}]",
    "a message without title or text": "rules: [{id: r, show: {message: {style: toast}}}]",
    "an unknown style": "rules: [{id: r, show: {message: {title: t, style: popup}}}]",
    "a javascript link": "rules: [{id: r, show: {message: {title: t, button: {label: b, url: 'javascript:x'}}}}]",
    "a protocol-relative link": "rules: [{id: r, show: {chat: {text: t, agent: {avatar: //cdn.example/a.png}}}}]",
    "a coupon button with a javascript link": "rules: [{id: r, show: {coupon: {pool: spring10, button: {label: b, url: 'javascript:x'}}}}]",
    "an unknown placement": "rules: [{id: r, show: {chat: {text: hi, placement: top-right}}}]",
    "within without per_visitor": "rules: [{id: r, show: {chat: hi}, limit: {within: 7d}}]",
    "an empty limit": "rules: [{id: r, show: {chat: hi}, limit: {}}]",
    "a per-session limit of 0": "rules: [{id: r, show: {chat: hi}, limit: {per_session: 0}}]",
    "a holdout over 90%": "rules: [{id: r, show: {chat: hi}, holdout: 95%}]",
    "a holdout without %": "rules: [{id: r, show: {chat: hi}, holdout: 10}]",
    "a goal that is not a name": "rules: [{id: r, show: {chat: hi}, goal: [purchase]}]",
}


@pytest.mark.parametrize("path", REPO_RULE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_repos_rule_files_validate(path):
    assert schema_errors(path.read_text(encoding="utf-8")) == []


def test_the_repo_has_rule_files_to_validate():
    assert REPO_RULE_FILES


@pytest.mark.parametrize("name", ACCEPTED)
def test_what_the_checker_accepts_the_schema_accepts(tmp_path, name):
    text = textwrap.dedent(ACCEPTED[name])
    assert checker_problems(tmp_path, text) == []
    assert schema_errors(text) == []


@pytest.mark.parametrize("name", REFUSED)
def test_what_the_checker_refuses_the_schema_refuses(tmp_path, name):
    text = REFUSED[name] + "\n"
    assert checker_problems(tmp_path, text), "the checker accepted it"
    assert schema_errors(text), "the schema accepted it"


def test_jsonschema_agrees_when_installed(tmp_path):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed; the checks above stand in")
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft7Validator(SCHEMA)
    for path in REPO_RULE_FILES:
        assert not list(validator.iter_errors(plain(yaml.safe_load(path.read_text(encoding="utf-8"))))), path
    for name, text in ACCEPTED.items():
        assert not list(validator.iter_errors(plain(yaml.safe_load(textwrap.dedent(text))))), name
    for name, text in REFUSED.items():
        assert list(validator.iter_errors(plain(yaml.safe_load(text)))), name
