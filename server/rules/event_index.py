"""The rules one custom event can match, narrowed by the event's properties before any rule is tested.

Many rules may wait for the same custom event, each testing its properties differently
(`event: view_product` + `properties: {category: tops}`). A property test at the top level
of a rule's `when:` (or under `all:`) must hold for the rule to hold, so the rules whose
tests fail on this event's properties need not be evaluated at all:

- an equality (`category: tops`, `{in: [tops, bottoms]}`, `{eq: 3}`) is looked up by the
  property's value in a dict of rules;
- any other test (`price: {gte: 8000}`, `{ne: x}`, `{exists: false}`) is run once per event,
  however many rules share it.

What passes depends only on the values looked up and the tests' outcomes, so the narrowed
list is cached under those (bounded). The rules left are tested on what the index does not
already know: the event's name and the tests it ran (`conditions`). The index only ever skips
rules that could not hold and tests that hold, so it never changes which rule is decided.
"""

from __future__ import annotations

from typing import Any

from server.rules.conditions import AllOf, EventName, Properties
from server.rules.matchers import MISSING, ValueTest
from server.rules.model import Rule

_CACHE_LIMIT = 256  # per event and path: at most this many lists of rules, by property values
_NO_MATCH = object()  # the token of a value no indexed equality can equal (absent, or not hashable)


def _token(value: Any) -> Any:
    """A dict key equal for values matchers._equals takes as equal: true is not 1, 1 is 1.0."""
    if value is MISSING:
        return _NO_MATCH
    try:
        hash(value)
    except TypeError:
        return _NO_MATCH
    return (isinstance(value, bool), value)


def _property_tests(condition: AllOf) -> list[tuple[str, ValueTest]]:
    """(property, test) pairs every match of `condition` needs: top level and under `all:`."""
    found = []
    for part in condition.parts:
        if isinstance(part, Properties):
            found += part.tests.items()
        elif isinstance(part, AllOf):
            found += _property_tests(part)
    return found


def _is_equality(test: ValueTest) -> bool:
    """Whether `test` holds exactly when the value's token is among _equal_values(test)."""
    return test.exists is not False and len(test.tests) == 1 and test.tests[0][0] in ("eq", "in")


def _equal_values(test: ValueTest) -> list[Any] | None:
    """The values a property must equal for `test` to hold, or None when the test is not an equality."""
    if test.exists is False:
        return None  # holds when the property is absent
    for op, expected in test.tests:
        values = [expected] if op == "eq" else expected if op == "in" else None
        if values is None:
            continue
        tokens = [_token(v) for v in values]
        if _NO_MATCH not in tokens:
            return tokens
    return None


class EventIndex:
    """The rules (in decision order) one custom event can affect on one path, by property."""

    __slots__ = ("keys", "shared", "conditions", "_buckets", "_gated", "_cache")

    def __init__(self, event: str, rules: list[Rule], by_properties: bool = True):
        keys: dict[str, dict[Any, list[Rule]]] = {}  # property -> value token -> rules needing it
        shared: dict[str, tuple[int, str, ValueTest]] = {}  # other tests, one entry per distinct test
        gated = []  # (rule, indexes into `shared` that must hold); rules in no bucket
        self.conditions: dict[str, AllOf] = {}  # rule id -> what is left to test once it is a candidate
        for rule in rules:
            if not by_properties:  # every rule, tested in full: what the index is compared with
                gated.append((rule, ()))
                self.conditions[rule.id] = rule.beyond_page
                continue
            tests = _property_tests(rule.beyond_page)
            equality = next(((k, t, v) for k, t in tests for v in [_equal_values(t)] if v is not None), None)
            if equality is not None:
                key, test, tokens = equality
                for token in dict.fromkeys(tokens):
                    keys.setdefault(key, {}).setdefault(token, []).append(rule)
                known = {(key, id(test))} if _is_equality(test) else set()
                self.conditions[rule.id] = _left(rule.beyond_page, event, known)
                continue
            needs = []
            for key, test in tests:
                name = repr((key, test.tests, test.exists))  # the same repr: the same test
                if name not in shared:
                    shared[name] = (len(shared), key, test)
                needs.append(shared[name][0])
            gated.append((rule, tuple(needs)))
            self.conditions[rule.id] = _left(rule.beyond_page, event, {(k, id(t)) for k, t in tests})
        self.keys = tuple(keys)
        self._buckets = tuple(keys.values())
        self.shared = tuple((key, test) for _, key, test in shared.values())
        self._gated = gated
        self._cache: dict[tuple, list[Rule]] = {}

    def candidates(self, properties: dict) -> list[Rule]:
        """The rules whose property tests can all hold on `properties`, in decision order."""
        get = properties.get
        signature = tuple(_token(get(key, MISSING)) for key in self.keys) + tuple(
            test(get(key, MISSING)) for key, test in self.shared
        )
        found = self._cache.get(signature)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            outcomes = signature[len(self.keys) :]
            found = [rule for rule, needs in self._gated if all(outcomes[i] for i in needs)]
            for bucket, token in zip(self._buckets, signature, strict=False):
                found += bucket.get(token, ())
            found.sort(key=_rank)
            self._cache[signature] = found
        return found


def _left(when: AllOf, event: str, known: set[tuple[str, int]]) -> AllOf:
    """`when` without its top-level parts that hold for this event: `event:` naming it, and the
    property tests in `known` ((property, id of the test)), which the index ran."""
    parts = []
    for part in when.parts:
        if isinstance(part, EventName) and event in part.names:
            continue
        if isinstance(part, Properties):
            rest = {k: t for k, t in part.tests.items() if (k, id(t)) not in known}
            if not rest:
                continue
            if len(rest) < len(part.tests):
                part = Properties(rest)
        parts.append(part)
    return AllOf(tuple(parts))


def _rank(rule: Rule) -> tuple[int, int]:
    return rule.rank
