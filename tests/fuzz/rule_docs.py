"""Hypothesis strategies for the YAML a marketer edits: rule files, site.yaml, faq.yaml,
replies.yaml and rule test files (docs/rules.md, docs/sites.md).

Two kinds: a document of the demo's (one rule, one test, or a whole file) with one to three
values changed, removed, added or renamed, written in block or flow style, and YAML text of
any shape (syntax from YAML's corners, deep nesting, aliases that expand exponentially,
tags, BOMs, invalid UTF-8).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import strategies as st

from tests.fuzz.wire import HOSTILE, SURROGATES, hostile_char

DEMO = Path(__file__).resolve().parents[2] / "rules" / "demo"


def _load(name: str):
    return yaml.safe_load((DEMO / name).read_text(encoding="utf-8"))


RULE_FILES = ["cart.yaml", "crosssell.yaml", "line.yaml", "pricing.yaml", "support.yaml", "welcome.yaml", "faq.yaml"]
# (file name in the site folder, document, the demo's files it needs beside site.yaml): one rule
# or one test per document, and only the files it needs, keep each run short.
RULE_DOCS = [("fuzz.yaml", {"rules": [rule]}, ()) for name in RULE_FILES[:-1] for rule in _load(name)["rules"]]
OTHER_DOCS = [(name, _load(name), ()) for name in ("site.yaml", "faq.yaml", "replies.yaml")]
TEST_DOCS = [
    ("fuzz.test.yaml", {"tests": [test]}, (name,))
    for name in RULE_FILES
    for test in _load(name.replace(".yaml", ".test.yaml"))["tests"]
]

# Values that mean something somewhere in these files, right or nearly right.
WORDS = [
    "30s", "３０s", "٣٠s", "30", "0s", "-5m", "1.5h", "30 s", "s", "1e3s", "9" * 30 + "d", "+1d", "+", "+0s",
    "50%", "150%", "-1%", "nan%", "%", "0.5", "09:00", "25:00", "24:00", "9", "09:60", "mon", "Monday", "holiday",
    "2026-02-30", "2026-03-02 10:00", "2026-13-01", "9999-12-31 23:59", "Asia/Tokyo", "Mars/Olympus", "UTC",
    "/pricing*", "*", "**", "[", "(", "/cart?x=1", "https://", "javascript:alert(1)", "ja", "en-US", "x-", "desktop",
    "bottom-left", "center", "spring10", "welcome", "freeship", "nope", "purchase", "handoff", "true", "null",
    "{{ visitor.name }}", "{{", "{% for x in y %}{% endfor %}", "{{ 9**9**9 }}", "{{ ''.__class__ }}",
    "{{ visitor|attr('x') }}", "{{ (((((((((1))))))))) }}", "{{ visitor.name | yen }}", "{% set a = a %}",
]  # fmt: skip
KEYS = ["id", "when", "show", "limit", "priority", "holdout", "goal", "enabled", "page", "at_least", "within", "x"]

yaml_text = st.one_of(
    st.text(hostile_char, max_size=30),
    st.sampled_from(WORDS),
    st.builds(
        lambda n, unit: f"{n}{unit}", st.one_of(st.integers(0, 100), st.integers(0, 10**25)), st.sampled_from("smhdw")
    ),
    st.sampled_from(SURROGATES).map(lambda half: f"half {half} a pair"),  # written "\ud800" unless allow_unicode
)
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63, 10**30, -(10**30)]),
    st.floats(),
    yaml_text,
    st.dates(),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(st.sampled_from(KEYS), yaml_text), children, max_size=4)
    ),
    max_leaves=10,
)


def _at(document, path):
    for key in path:
        document = document[key]
    return document


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated_document(
    draw, documents: list, most: int = 3, values_only: bool = False
) -> tuple[str, str, object, tuple[str, ...]]:
    """(file name, what changed, the document, the files it needs) with one to `most` changes;
    `values_only`: each a single value (text, number…) replaced by another, the shape kept."""
    name, document, needs = draw(st.sampled_from(documents))
    document = copy.deepcopy(document)
    changes = []
    for _ in range(draw(st.integers(1, most))):
        paths = [path for path in _paths(document) if path]
        if values_only:
            paths = [path for path in paths if not isinstance(_at(document, path), (dict, list))]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        kinds = ["replace"] if values_only else ["replace", "replace", "delete", "add key", "rename", "wrap"]
        key, kind = path[-1], draw(st.sampled_from(kinds))
        if kind == "replace":
            parent[key] = draw(yaml_scalars if values_only else yaml_values)
        elif kind == "delete":
            del parent[key]
        elif kind == "add key" and isinstance(parent[key], dict):
            parent[key][draw(st.one_of(st.sampled_from(KEYS), yaml_text))] = draw(yaml_values)
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(st.sampled_from(KEYS), yaml_text))] = parent.pop(key)
        else:
            parent[key] = [parent[key]]
        changes.append(f"{kind} {'/'.join(map(str, path))}")
    return name, ", ".join(changes), document, needs


def dump(document, flow: bool | None, unicode: bool, width: int) -> bytes:
    """The document as YAML bytes (a lone surrogate written raw makes the file invalid UTF-8)."""
    text = yaml.safe_dump(document, allow_unicode=unicode, default_flow_style=flow, sort_keys=False, width=width)
    return text.encode("utf-8", "surrogatepass")


def _alias_bomb(width: int, depth: int) -> bytes:
    """`a0: &a0 [x, x, …]`, then each level a list of `width` aliases of the one before."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, depth + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return ("\n".join(lines) + f"\nrules: *a{depth}\n").encode()


def _nesting(depth: int, style: str) -> bytes:
    if style == "flow":
        return b"rules: " + b"[" * depth + b"]" * depth + b"\n"
    if style == "block":
        return b"rules:\n" + b"".join(b"  " * level + b"- \n" for level in range(1, min(depth, 3000)))
    return b"rules: " + b"{a: " * depth + b"1" + b"}" * depth + b"\n"


YAML_SYNTAX = list("-:{}[],&*!|>'\"%@`#?\n\t ") + ["---", "...", "<<: ", "!!python/object:os.system", "!!binary "]
YAML_SYNTAX += ["!!timestamp 2026-13-45", "!!set ", "!!omap ", "? ", "%YAML 1.1\n", "\ufeff", "&a ", "*a", "!foo "]
random_yaml = st.one_of(
    st.lists(st.one_of(st.sampled_from(YAML_SYNTAX), st.sampled_from(KEYS), yaml_text), max_size=30).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
    st.builds(_alias_bomb, st.integers(2, 12), st.integers(1, 9)),
    st.builds(_nesting, st.sampled_from([10, 100, 500, 1000, 5000, 50_000]), st.sampled_from(["flow", "block", "map"])),
    st.binary(max_size=60),
    st.builds(
        lambda char: ("rules:\n  - id: " + char * 3 + "\n").encode("utf-8", "surrogatepass"), st.sampled_from(HOSTILE)
    ),
)


@st.composite
def files(draw, documents: list) -> tuple[str, str, bytes, tuple[str, ...]]:
    """(file name, what it is, its bytes, the demo files it needs): a changed document of
    `documents`, or any YAML at all in the place of one."""
    if draw(st.integers(0, 3)) == 0:
        name, _, needs = draw(st.sampled_from(documents))
        return name, "random YAML", draw(random_yaml), needs
    name, changes, document, needs = draw(mutated_document(documents))
    flow, unicode = draw(st.sampled_from([None, True, False])), draw(st.booleans())
    return name, changes, dump(document, flow, unicode, draw(st.sampled_from([20, 80, 10_000]))), needs
