"""Page patterns and value operators (server/rules/matchers.py).

A page pattern is a glob on the URL path (`*` crosses '/', `?` is one character) or, after
`re:`, a regular expression; either way it must match the whole path, and a list matches when
any of its patterns does. A pattern that cannot work is explained in one line. Referrer and
UTM globs ignore case. Operators compare like a marketer expects: true is not 1, a number
is never "greater" than text, and a missing attribute equals nothing (so only `ne` and
`exists: false` hold for it).
"""

from __future__ import annotations

import pytest

from server.rules.matchers import MISSING, PathMatcher, ValueTest, check_pattern, glob_regex


def matches(patterns, path: str) -> bool:
    return PathMatcher(tuple([patterns] if isinstance(patterns, str) else patterns)).matches(path)


# Page globs


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("/pricing", "/pricing", True),
        ("/pricing", "/pricing/", False),  # the whole path, not a prefix
        ("/pricing", "/pricing/team", False),
        ("/pricing", "/en/pricing", False),  # nor a suffix
        ("/pricing*", "/pricing", True),
        ("/pricing*", "/pricing-2026", True),
        ("/products/*", "/products/shirt-01", True),
        ("/products/*", "/products/tops/shirt-01", True),  # `*` crosses '/'
        ("/products/*", "/products", False),
        ("*/reviews", "/products/shirt-01/reviews", True),
        ("/cart?", "/carts", True),
        ("/cart?", "/cart", False),
        ("/size/[sml]", "/size/m", True),
        ("/size/[sml]", "/size/x", False),
        ("/Pricing", "/pricing", False),  # paths are case-sensitive, as on the server
        ("/a.b", "/axb", False),  # a dot is a dot
        ("/", "/", True),
        ("/", "/index", False),
    ],
)
def test_a_glob_matches_the_whole_path(pattern, path, expected):
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        (r"re:/products/\d+", "/products/42", True),
        (r"re:/products/\d+", "/products/42/reviews", False),  # anchored at the end
        (r"re:/products/\d+", "/en/products/42", False),  # and at the start
        (r"re:^/products/\d+$", "/products/42", True),  # writing the anchors does no harm
        (r"re:/(ja|en)/cart", "/en/cart", True),
        (r"re:/(ja|en)/cart", "/fr/cart", False),
    ],
)
def test_a_regex_matches_the_whole_path(pattern, path, expected):
    assert matches(pattern, path) is expected


@pytest.mark.parametrize("path", ["/a-then-more", "/ab"])
def test_a_regex_with_alternatives_is_anchored_as_a_whole(path):
    # `re:/a|/b` means "the path is /a or /b", never "starts with /a".
    assert not matches("re:/a|/b", path)
    assert matches("re:/a|/b", "/a") and matches("re:/a|/b", "/b")


def test_a_list_matches_when_any_pattern_matches():
    patterns = ["/pricing", "/cart*", r"re:/products/\d+"]
    assert [matches(patterns, p) for p in ("/pricing", "/cart/checkout", "/products/7", "/about")] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize("path", ["/pricing/team", "/pricingX", "/cartX"])
def test_every_pattern_of_a_list_matches_the_whole_path(path):
    # Not only the last one: `page: [/pricing, /cart]` is not `/pricing*`.
    assert not matches(["/pricing", "/cart"], path)


def test_the_answer_for_a_path_does_not_change_once_cached():
    matcher = PathMatcher(("/products/*",))
    assert [matcher.matches("/products/1") for _ in range(3)] == [True, True, True]
    assert [matcher.matches("/about") for _ in range(3)] == [False, False, False]


def test_the_cache_is_bounded_and_answers_stay_right_after_it_is_cleared():
    matcher = PathMatcher(("/products/*",))
    for number in range(5000):
        assert matcher.matches(f"/products/{number}")
    assert not matcher.matches("/about") and matcher.matches("/products/1")
    assert len(matcher._cache) <= 4096


@pytest.mark.parametrize(
    "pattern, problem",
    [
        ("", "an empty page pattern matches nothing"),
        ("pricing", "page pattern 'pricing' must start with '/' (a URL path) or '*'"),
        (
            "https://shop.example/pricing",
            "page pattern 'https://shop.example/pricing' must start with '/' (a URL path) or '*'",
        ),
        ("/size/[sml", "bad glob '/size/[sml': unbalanced '['"),
        ("re:(", "bad regex '(': missing ), unterminated subpattern at position 0"),
        ("re:*x", "bad regex '*x': nothing to repeat at position 0"),
    ],
)
def test_a_pattern_that_cannot_work_is_explained(pattern, problem):
    assert check_pattern(pattern) == problem


@pytest.mark.parametrize("pattern", ["/", "/pricing*", "*", "*/reviews", "re:anything", r"re:^/p/\d+$"])
def test_usable_patterns_pass_the_check(pattern):
    assert check_pattern(pattern) is None


# Referrer and UTM globs


@pytest.mark.parametrize(
    "pattern, text, expected",
    [
        ("*google.*", "https://www.google.co.jp/search?q=shirt", True),
        ("*google.*", "https://WWW.GOOGLE.COM/", True),  # case does not matter in hosts and tags
        ("*google.*", "https://duckduckgo.com/?q=google", False),
        ("line", "LINE", True),
        ("spring*", "spring_sale_2026", True),
        ("spring*", "early_spring", False),
    ],
)
def test_referrer_and_utm_globs_match_the_whole_text_ignoring_case(pattern, text, expected):
    assert (glob_regex(pattern).match(text) is not None) is expected


# Value operators


def holds(tests: dict, actual, exists: bool | None = None) -> bool:
    return ValueTest(tuple(tests.items()), exists)(actual)


@pytest.mark.parametrize(
    "tests, actual, expected",
    [
        ({"eq": "gold"}, "gold", True),
        ({"eq": "gold"}, "Gold", False),
        ({"eq": 1}, 1.0, True),
        ({"eq": True}, True, True),
        ({"eq": True}, 1, False),  # true is not 1
        ({"eq": 1}, True, False),  # and 1 is not true
        ({"eq": False}, 0, False),
        ({"eq": 0}, False, False),
        ({"ne": "gold"}, "silver", True),
        ({"ne": True}, 1, True),
        ({"gte": 5000}, 5000, True),
        ({"gte": 5000}, 4999.5, False),
        ({"gt": 5000}, 5000, False),
        ({"lt": 3}, 2, True),
        ({"lte": 3}, 3, True),
        ({"gte": 5000}, "9999", False),  # text is not a number, however it reads
        ({"gt": "2026-01-01"}, "2026-06-01", True),  # text compares with text (ISO dates sort)
        ({"gt": 0}, True, False),  # a flag is not a number
        ({"gte": 1, "lt": 10}, 5, True),  # several operators: all must hold
        ({"gte": 1, "lt": 10}, 10, False),
        ({"in": ["gold", "silver"]}, "gold", True),
        ({"in": ["gold", "silver"]}, "bronze", False),
        ({"in": [1, 2]}, True, False),
        ({"contains": "sale"}, "summer-sale", True),
        ({"contains": "sale"}, "summer", False),
        ({"contains": "tops"}, ["tops", "shoes"], True),
        ({"contains": "top"}, ["tops", "shoes"], False),  # list items are compared whole
        ({"contains": 1}, 123, False),
    ],
)
def test_operators(tests, actual, expected):
    assert holds(tests, actual) is expected


@pytest.mark.parametrize(
    "tests, exists, expected",
    [
        ({"eq": "gold"}, None, False),
        ({"eq": None}, None, False),
        ({"in": ["gold", None]}, None, False),
        ({"gte": 0}, None, False),
        ({"lt": 0}, None, False),
        ({"contains": ""}, None, False),
        ({"ne": "gold"}, None, True),  # a missing value is "not gold"
        ({}, True, False),
        ({}, False, True),
        ({"ne": "gold"}, True, False),
    ],
)
def test_a_missing_value_equals_nothing(tests, exists, expected):
    assert holds(tests, MISSING, exists) is expected


@pytest.mark.parametrize(
    "tests, exists, actual, expected",
    [
        ({}, True, "anything", True),
        ({}, False, "anything", False),
        ({"gte": 5000}, True, 6000, True),
        ({"gte": 5000}, True, 10, False),
    ],
)
def test_exists_checks_presence_and_combines_with_other_operators(tests, exists, actual, expected):
    assert holds(tests, actual, exists) is expected
