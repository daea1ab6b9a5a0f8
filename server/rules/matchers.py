"""Matching paths and values: page globs (or ``re:`` regexes) and attribute operators."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

_CACHE_LIMIT = 4096


class PathMatcher:
    """Globs (``/pricing*``) or regexes (``re:^/products/\\d+$``) on a URL path, all anchored.

    Shops have few distinct paths, so each answer is cached: after the first visit to a
    path, matching it costs one dict lookup however many patterns a rule has.
    """

    __slots__ = ("patterns", "_regex", "_cache")

    def __init__(self, patterns: tuple[str, ...]):
        self.patterns = patterns
        parts = [p[3:] if p.startswith("re:") else fnmatch.translate(p).removesuffix(r"\Z") for p in patterns]
        # Anchored as a whole: every alternative must match the entire path.
        self._regex = re.compile("(?:" + "|".join(f"(?:{part})" for part in parts) + r")\Z")
        self._cache: dict[str, bool] = {}

    def matches(self, path: str) -> bool:
        found = self._cache.get(path)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[path] = self._regex.match(path) is not None
        return found


def check_pattern(pattern: str) -> str | None:
    """Why `pattern` is not a usable page pattern, or None."""
    if not pattern:
        return "an empty page pattern matches nothing"
    if pattern.startswith("re:"):
        try:
            re.compile(pattern[3:])
        except re.error as error:
            return f"bad regex '{pattern[3:]}': {error}"
        return None
    if not pattern.startswith(("/", "*")):
        return f"page pattern '{pattern}' must start with '/' (a URL path) or '*'"
    if pattern.count("[") != pattern.count("]"):
        return f"bad glob '{pattern}': unbalanced '['"
    return None


def glob_regex(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


# Attribute operators: `visitor: {cart_value: {gte: 5000}}` and event `where:`.
def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op):
    def test(actual: Any, expected: Any) -> bool:
        if _number(actual) and _number(expected) or isinstance(actual, str) and isinstance(expected, str):
            return op(actual, expected)
        return False

    return test


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return expected in actual
    if isinstance(actual, list):
        return expected in actual
    return False


def _equals(actual: Any, expected: Any) -> bool:
    # true is not 1 and false is not 0, whatever Python thinks.
    return actual == expected and isinstance(actual, bool) == isinstance(expected, bool)


OPERATORS = {
    "eq": _equals,
    "ne": lambda actual, expected: not _equals(actual, expected),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "in": lambda actual, expected: any(_equals(actual, item) for item in expected),
    "contains": _contains,
}
MISSING = object()


class ValueTest:
    """All of `tests` ((operator, expected) pairs) hold for one value; `exists` checks presence."""

    __slots__ = ("tests", "exists")

    def __init__(self, tests: tuple[tuple[str, Any], ...], exists: bool | None):
        self.tests = tests
        self.exists = exists

    def __call__(self, actual: Any) -> bool:
        if actual is MISSING:
            # An absent value is "not equal" to anything, and nothing else.
            if self.exists is not None:
                return not self.exists
            return bool(self.tests) and all(op == "ne" for op, _ in self.tests)
        if self.exists is False:
            return False
        return all(OPERATORS[op](actual, expected) for op, expected in self.tests)
