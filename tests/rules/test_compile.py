"""Rule files read and compiled (server/rules/read.py, server/rules/compile.py), as `load_config` and `irasshai rules check` see them.

Every rule file next to site.yaml holds `rules:`, a list of rules with an id, conditions under
`when:`, one action under `show:` and optionally a `limit:`. Every mistake in every file comes
back at once, each as one line `path:line:col: rule "id": message` pointing at what the marketer
wrote (the key of a mapping entry, the item of a list), with a "did you mean" for a misspelt
key. A rule with any mistake is not loaded, and a folder with any mistake loads nothing. A
disabled rule is checked like the others but not loaded; an empty file holds no rules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import load_config
from server.rules.engine import RuleSet
from tests.conftest import ROOT
from tests.helpers import SHOP, write_site

SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
business_hours: {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
coupons:
  spring10: {{code: SPRING10, discount: 10%オフ, expires_after: 7d}}
"""
PLAIN_SITE = f"origins: [{SHOP}]\ntimezone: Asia/Tokyo\n"


def problems(tmp_path: Path, text: str | None = None, site: str = SITE, **files: str) -> list[str]:
    """The problems of the folder, paths shortened to `shop/...`; the folder must not load."""
    if text is not None:
        files["rules.yaml"] = text
    write_site(tmp_path, "shop", site, **files)
    config, found = load_config(tmp_path)
    assert config is None, "expected problems, but the folder loaded"
    return [line.replace(f"{tmp_path}/", "") for line in found.lines()]


def ruleset(tmp_path: Path, text: str | None = None, site: str = SITE, **files: str) -> RuleSet:
    if text is not None:
        files["rules.yaml"] = text
    write_site(tmp_path, "shop", site, **files)
    config, found = load_config(tmp_path)
    assert config is not None, found.lines()
    return config.rules["shop"]


def rule(when: str = "{page: /}", show: str = "{chat: hi}", extra: str = "") -> str:
    """A file holding rule "r" with `when` and `show` in flow style, and `extra` lines of the rule."""
    return f"rules:\n  - id: r\n    when: {when}\n    show: {show}\n{extra}"


def at(text: str, token: str, file: str = "rules.yaml") -> str:
    """Where `token` is first written in `text`, as the checker says it: shop/<file>:line:col."""
    for number, line in enumerate(text.splitlines(), start=1):
        if token in line:
            return f"shop/{file}:{number}:{line.index(token) + 1}"
    raise AssertionError(f"{token!r} is not in the text")


# A good file


def test_a_complete_rule_loads_with_its_settings(tmp_path):
    rules = ruleset(
        tmp_path,
        """\
        rules:
          - id: exit-offer
            description: 帰る前にクーポン
            priority: 5
            when:
              page: /cart*
              exit_intent: true
            show:
              coupon: {pool: spring10, title: "お得なクーポン", text: "{{ coupon.discount }}です"}
            limit: {per_visitor: 1, within: 30d}
          - id: welcome
            when: {page: /}
            show: {chat: ようこそ}
        """,
    )
    offer = rules.by_id["exit-offer"]
    assert offer.priority == 5 and offer.description == "帰る前にクーポン"
    assert offer.limit.per_visitor == 1 and offer.limit.within == 30 * 86400 and offer.limit.per_session is None
    assert offer.signals == {"exit_intent"} and offer.action.pool == "spring10"
    welcome = rules.by_id["welcome"]
    assert welcome.limit.per_session == 1 and welcome.limit.per_visitor is None  # the default: once per session
    assert welcome.where.endswith("shop/rules.yaml:11:5")


def test_rules_keep_the_order_of_files_and_of_rules_within_them(tmp_path):
    rules = ruleset(
        tmp_path,
        **{
            "b.yaml": "rules:\n  - {id: b1, show: {chat: hi}}\n  - {id: b2, show: {chat: hi}}\n",
            "a.yml": "rules:\n  - {id: a1, show: {chat: hi}}\n",
        },
    )
    assert [(r.id, r.order) for r in rules.rules] == [("a1", 1), ("b1", 2), ("b2", 3)]


def test_an_empty_rule_file_holds_no_rules(tmp_path):
    rules = ruleset(tmp_path, **{"empty.yaml": "", "comment.yaml": "# rules come later\n", "none.yaml": "rules: []\n"})
    assert len(rules) == 0


def test_rule_tests_and_site_yaml_are_not_rule_files(tmp_path):
    rules = ruleset(
        tmp_path,
        **{
            "rules.yaml": "rules:\n  - {id: r, show: {chat: hi}}\n",
            "rules.test.yaml": "tests: [whatever this holds]\n",
            "notes.txt": "not yaml at all: [",
        },
    )
    assert [r.id for r in rules.rules] == ["r"]


def test_a_disabled_rule_is_not_loaded(tmp_path):
    rules = ruleset(
        tmp_path, "rules:\n  - {id: paused, enabled: false, show: {chat: hi}}\n  - {id: live, show: {chat: hi}}\n"
    )
    assert [r.id for r in rules.rules] == ["live"]


def test_the_catalog_keeps_every_rule_enabled_or_not_in_file_order(tmp_path):
    """Config.catalog: what the console's Rules page lists; the engine gets only the enabled rules."""
    text = (
        "rules:\n"
        "  - {id: paused, enabled: false, priority: 3, description: later, show: {chat: hi}}\n"
        "  - {id: live, show: {chat: hi}, limit: {per_visitor: 2, within: 7d}}\n"
    )
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": text})
    config, found = load_config(tmp_path)
    assert config is not None, found.lines()
    paused, live = config.catalog["shop"]
    assert (paused.id, paused.enabled, paused.priority, paused.description) == ("paused", False, 3, "later")
    assert paused.where == f"{tmp_path}/shop/rules.yaml:2:5"
    assert (live.id, live.enabled, live.limit.per_visitor, live.limit.within) == ("live", True, 2, 7 * 86400)
    assert [rule.id for rule in config.rules["shop"].rules] == ["live"]


def test_a_disabled_rule_is_still_checked(tmp_path):
    text = "rules:\n  - id: paused\n    enabled: false\n    when: {page: pricing}\n    show: {chat: hi}\n"
    assert problems(tmp_path, text) == [
        at(text, "page:") + ": rule \"paused\": page pattern 'pricing' must start with '/' (a URL path) or '*'"
    ]


def test_shorthands_for_chat_text_and_button_label(tmp_path):
    rules = ruleset(
        tmp_path,
        """\
        rules:
          - {id: chat, show: {chat: こんにちは}}
          - {id: message, show: {message: {title: 新作, button: 見る}}}
        """,
    )
    assert rules.by_id["chat"].action.render({}) == {"type": "chat", "text": "こんにちは"}
    assert rules.by_id["message"].action.render({}) == {
        "type": "message",
        "title": "新作",
        "button": {"label": "見る"},
        "style": "toast",
    }


# YAML syntax


def test_a_yaml_syntax_error_is_reported_where_the_parser_stopped(tmp_path):
    text = "rules:\n  - id: r\n    when: {page: /x\n    show: {chat: hi}\n"
    assert problems(tmp_path, text) == [
        "shop/rules.yaml:4:9: YAML syntax error: expected ',' or '}', but got ':' inside the {…} opened on line 3, "
        "column 11: if its '}' is missing, close it; if a text holds '?' or ': ', put the text in quotes, "
        'e.g. title: "まだお悩みですか?", or write one key per line'
    ]


def test_a_question_mark_inside_braces_gets_the_hint_to_quote_the_text(tmp_path):
    """YAML's flow-mapping pitfall: marketers write question marks, and inside {…} YAML reads them as syntax."""
    text = (
        "rules:\n  - id: r\n    when: {page: /pricing}\n"
        "    show:\n      coupon: {pool: spring10, title: まだお悩みですか?, text: 今なら10%オフ。}\n"
    )
    assert problems(tmp_path, text) == [
        "shop/rules.yaml:5:47: YAML syntax error: expected ',' or '}', but got '?' inside the {…} opened on line 5, "
        "column 15: a text with '?' or ': ' cannot stand bare there; put the text in quotes, "
        'e.g. title: "まだお悩みですか?", or write one key per line'
    ]
    quoted = text.replace("まだお悩みですか?", '"まだお悩みですか?"')
    assert ruleset(tmp_path, quoted).by_id["r"].action.render({})["title"] == "まだお悩みですか?"


def test_a_tab_in_the_indentation_is_reported_on_its_line(tmp_path):
    text = "rules:\n  - id: r\n\tshow: {chat: hi}\n"
    assert problems(tmp_path, text) == [
        "shop/rules.yaml:3:1: YAML syntax error: found character '\\t' that cannot start any token"
    ]


def test_a_syntax_error_in_one_file_does_not_hide_mistakes_in_another(tmp_path):
    good_yaml_bad_rule = rule("{pagee: /}")
    lines = problems(tmp_path, **{"a.yaml": "rules: [\n", "b.yaml": good_yaml_bad_rule})
    assert len(lines) == 2
    assert lines[0].startswith("shop/a.yaml:2:1: YAML syntax error")
    assert (
        lines[1]
        == at(good_yaml_bad_rule, "pagee", "b.yaml") + ": rule \"r\": unknown condition 'pagee' (did you mean 'page'?)"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rulez: []\n", "shop/rules.yaml:1:1: a rule file holds 'rules:', a list of rules"),
        ("- id: r\n", "shop/rules.yaml:1:1: a rule file holds 'rules:', a list of rules"),
        ("rules:\n", "shop/rules.yaml:1:1: 'rules' must be a list of rules, not nothing"),
        ("rules: {id: r}\n", "shop/rules.yaml:1:1: 'rules' must be a list of rules, not a mapping"),
        ("rules:\n  - 5\n", "shop/rules.yaml:2:5: each rule must be a mapping with id, when and show; not a number"),
        ("rules: []\nextra: 1\n", "shop/rules.yaml:2:1: unknown key 'extra'"),
    ],
)
def test_the_shape_of_a_rule_file(tmp_path, text, expected):
    assert problems(tmp_path, text) == [expected]


# Unknown keys, with a suggestion

UNKNOWN_KEYS = [
    (rule(extra="    priorty: 3\n"), "priorty", "unknown key 'priorty' (did you mean 'priority'?)"),
    (rule("{pagee: /pricing}"), "pagee", "unknown condition 'pagee' (did you mean 'page'?)"),
    (rule("{page_view: {at_least: 2}}"), "page_view", "unknown condition 'page_view' (did you mean 'page_views'?)"),
    (rule("{any: [{evnt: signup}]}"), "evnt", "unknown condition 'evnt' (did you mean 'event'?)"),
    (rule("{not: {devise: mobile}}"), "devise", "unknown condition 'devise' (did you mean 'device'?)"),
    (rule(show="{chatt: hi}"), "chatt", "unknown action 'chatt' (did you mean 'chat'?)"),
    (rule(show="{message: {titel: やあ, text: hi}}"), "titel", "unknown key 'titel' (did you mean 'title'?)"),
    (rule(show="{chat: {text: hi, button: {lable: ok}}}"), "lable", "unknown key 'lable' (did you mean 'label'?)"),
    (rule("{utm: {sorce: line}}"), "sorce", "unknown key 'sorce' (did you mean 'source'?)"),
    (rule("{events: {name: a, at_least: 1, wihtin: 7d}}"), "wihtin", "unknown key 'wihtin' (did you mean 'within'?)"),
    (rule("{hours: {from: '09:00', to: '18:00', day: mon}}"), "day:", "unknown key 'day' (did you mean 'days'?)"),
    (rule(extra="    zzz: 1\n"), "zzz", "unknown key 'zzz'"),  # nothing close: no suggestion
]


@pytest.mark.parametrize("text, token, message", UNKNOWN_KEYS)
def test_an_unknown_key_is_named_with_the_closest_known_one(tmp_path, text, token, message):
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


def test_unknown_keys_in_a_limit_or_dates_are_named(tmp_path):
    text = rule("{dates: {untill: 2026-12-25}}", extra="    limit: {per_vistor: 1}\n")
    lines = problems(tmp_path, text)
    assert at(text, "untill") + ": rule \"r\": unknown key 'untill' (did you mean 'until'?)" in lines
    assert at(text, "per_vistor") + ": rule \"r\": unknown key 'per_vistor' (did you mean 'per_visitor'?)" in lines


def test_an_unknown_operator_is_named_with_the_closest_known_one(tmp_path):
    text = rule("{visitor: {cart_value: {gtee: 5000}}}")
    assert f"{at(text, 'gtee')}: rule \"r\": unknown operator 'gtee' (did you mean 'gte'?)" in problems(tmp_path, text)


# Wrong types and values: (when, show, extra), the token the problem points at, the message

WRONG = [
    ("{page: /}", "{chat: hi}", "    priority: high\n", "priority", "priority must be a whole number, not text"),
    ("{page: /}", "{chat: hi}", "    enabled: 'yes'\n", "enabled", "expected true or false, not text"),
    ("{page: /}", "{chat: hi}", "    description: 5\n", "description", "description must be text, not a number"),
    ("[page: /x]", "{chat: hi}", "", "when", "conditions must be a mapping such as {page: /pricing}, not a list"),
    ("{page: 3}", "{chat: hi}", "", "page", "a page pattern must be text such as /pricing*, not a number"),
    (
        "{page_views: 3}",
        "{chat: hi}",
        "",
        "page_views",
        "'page_views' must be a mapping such as {at_least: 2, within: 7d}, not a number",
    ),
    ("{page_views: {within: 7d}}", "{chat: hi}", "", "page_views", "'page_views' needs at_least or at_most"),
    (
        "{events: {at_least: 1}}",
        "{chat: hi}",
        "",
        "events",
        "'events' needs 'name', the custom event to count (e.g. add_to_cart)",
    ),
    (
        # Found by tests/fuzz: a 'where' that is not a mapping crashed the checker (AttributeError).
        "{events: {name: add_to_cart, at_least: 1, where: null}}",
        "{chat: hi}",
        "",
        "where",
        "'where' must map names to values or tests, e.g. {cart_value: {gte: 5000}}",
    ),
    (
        "{events: {name: add_to_cart, at_least: 1, where: [a]}}",
        "{chat: hi}",
        "",
        "where",
        "'where' must map names to values or tests, e.g. {cart_value: {gte: 5000}}",
    ),
    (
        "{event: 'add to cart'}",
        "{chat: hi}",
        "",
        "event",
        "'add to cart' is not an event name (letters, digits, '_', '.', ':', '-')",
    ),
    (
        "{event: [signup, 'a b']}",
        "{chat: hi}",
        "",
        "'a b'",
        "'a b' is not an event name (letters, digits, '_', '.', ':', '-')",
    ),
    ("{returning: maybe}", "{chat: hi}", "", "returning", "expected true or false, not text"),
    ("{device: [mobile, phone]}", "{chat: hi}", "", "phone", "device 'phone' is not one of: mobile, tablet, desktop"),
    # Found by tests/fuzz: lists and mappings were quoted as Python's repr of the parser's nodes.
    (
        "{device: [[mobile, tablet]]}",
        "{chat: hi}",
        "",
        "[mobile",
        "device '[mobile, tablet]' is not one of: mobile, tablet, desktop",
    ),
    (
        "{event: {name: x}}",
        "{chat: hi}",
        "",
        "event",
        "'{name: x}' is not an event name (letters, digits, '_', '.', ':', '-')",
    ),
    (
        "{dates: {from: [2026]}}",
        "{chat: hi}",
        "",
        "from",
        "'[2026]' is not a date; write 2026-12-01 or '2026-12-01 18:00'",
    ),
    # Found by tests/fuzz: a value with a line break or a control character split the mistake's line.
    (
        '{device: "pho\\nne\\x85"}',
        "{chat: hi}",
        "",
        "device",
        "device 'pho\\nne\\x85' is not one of: mobile, tablet, desktop",
    ),
    ("{language: 日本語}", "{chat: hi}", "", "language", "'日本語' is not a language tag such as ja or en-US"),
    ("{referrer: 5}", "{chat: hi}", "", "referrer", "referrer takes a glob such as '*google.*', not a number"),
    ("{utm: line}", "{chat: hi}", "", "utm", "utm takes a mapping such as {source: line, campaign: 'spring*'}"),
    ("{scroll: 150%}", "{chat: hi}", "", "scroll", "scroll takes a percentage from 0% to 100%, e.g. 50%"),
    ("{sample: half}", "{chat: hi}", "", "sample", "sample takes a percentage from 0% to 100%, e.g. 50%"),
    (
        "{exit_intent: false}",
        "{chat: hi}",
        "",
        "exit_intent",
        "exit_intent takes true (for no exit intent, write not: {exit_intent: true})",
    ),
    ("{visitor: {plan: {in: gold}}}", "{chat: hi}", "", "in:", "in takes a list of values, not text"),
    ("{visitor: {vip: {gt: true}}}", "{chat: hi}", "", "gt:", "gt compares with a number or text, not true/false"),
    ("{visitor: {vip: {exists: 1}}}", "{chat: hi}", "", "exists", "exists takes true or false"),
    (
        "{visitor: {vip: {}}}",
        "{chat: hi}",
        "",
        "vip",
        "no operator given; use a value or one of: eq, ne, gt, gte, lt, lte, in, contains, exists",
    ),
    (
        "{visitor: [vip]}",
        "{chat: hi}",
        "",
        "visitor",
        "'visitor' must map names to values or tests, e.g. {cart_value: {gte: 5000}}",
    ),
    (
        "{all: []}",
        "{chat: hi}",
        "",
        "all",
        "'all' takes a list of conditions, e.g. all: [{page: /cart}, {event: add_to_cart}]",
    ),
    (
        "{any: {page: /}}",
        "{chat: hi}",
        "",
        "any",
        "'any' takes a list of conditions, e.g. any: [{page: /cart}, {event: add_to_cart}]",
    ),
    (
        "{not: [{page: /}]}",
        "{chat: hi}",
        "",
        "not",
        "conditions must be a mapping such as {page: /pricing}, not a list",
    ),
    ("{page: /}", "message", "", "show", "'show' must be a mapping with one of: chat, coupon, message; not text"),
    ("{page: /}", "{chat: {text: [a, b]}}", "", "text", "'text' must be text, not a list"),
    ("{page: /}", "{chat: [hi]}", "", "chat", "'chat' must be a mapping, not a list"),
    (
        "{page: /}",
        "{message: {text: hi, style: popup}}",
        "",
        "style",
        "style 'popup' is not one of: modal, banner, toast",
    ),
    ("{page: /}", "{message: {style: modal}}", "", "message", "'message' needs a 'title' or a 'text'"),
    ("{page: /}", "{coupon: {title: x}}", "", "coupon", "'coupon' needs 'pool'"),
    ("{page: /}", "{chat: {text: hi, button: [ok]}}", "", "button", "'button' must be a mapping with label, url"),
]


@pytest.mark.parametrize("when, show, extra, token, message", WRONG)
def test_a_wrong_type_or_value_is_reported_where_it_was_written(tmp_path, when, show, extra, token, message):
    text = rule(when, show, extra)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


@pytest.mark.parametrize(
    "when, extra, token, message",
    [
        ("{page_views: {at_least: '3'}}", "", "at_least", "at_least must be a whole number, not text"),
        ("{sessions: {at_least: -1}}", "", "at_least", "at_least must be at least 0"),
        ("{events: {name: buy, at_most: many}}", "", "at_most", "at_most must be a whole number, not text"),
        ("{visitor: {cart_value: {gtee: 5000}}}", "", "gtee", "unknown operator 'gtee' (did you mean 'gte'?)"),
        ("{page: /}", "    limit: {per_session: 0}\n", "per_session", "per_session must be at least 1"),
        ("{page: /}", "    limit: {per_session: '1'}\n", "per_session", "per_session must be a whole number, not text"),
    ],
)
def test_one_mistake_is_one_problem_not_a_second_one_saying_the_key_is_missing(tmp_path, when, extra, token, message):
    # The key was written, only wrongly: "needs at_least or at_most", "limit needs per_visitor or
    # per_session" or "no operator given" would send the marketer looking for the wrong thing.
    text = rule(when, extra=extra)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


@pytest.mark.parametrize(
    "text, token, message",
    [
        ("rules:\n  - when: {page: /}\n    show: {chat: hi}\n", "when", "rule needs an 'id'"),
        (
            "rules:\n  - id: 'bad id!'\n    show: {chat: hi}\n",
            "id",
            "rule \"bad id!\": id must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        ),
        (
            "rules:\n  - id: 42\n    show: {chat: hi}\n",
            "id",
            "id must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        ),
        (
            "rules:\n  - id: r\n    when: {page: /}\n",
            "id",
            "rule \"r\": rule needs 'show' with one of: chat, coupon, message",
        ),
    ],
)
def test_a_missing_or_bad_id_or_show(tmp_path, text, token, message):
    assert problems(tmp_path, text) == [f"{at(text, token)}: {message}"]


def test_duplicate_ids_across_two_files_name_the_first_definition(tmp_path):
    lines = problems(
        tmp_path,
        **{
            "a.yaml": "rules:\n  - id: welcome\n    show: {chat: hi}\n",
            "b.yaml": "rules:\n  - id: other\n    show: {chat: hi}\n  - id: welcome\n    show: {chat: hello}\n",
        },
    )
    assert lines == ['shop/b.yaml:4:5: rule "welcome": duplicate rule id (first defined at shop/a.yaml:2:5)']


def test_a_duplicate_id_in_one_file_is_reported_too(tmp_path):
    text = "rules:\n  - {id: r, show: {chat: a}}\n  - {id: r, show: {chat: b}}\n"
    assert problems(tmp_path, text) == [
        'shop/rules.yaml:3:6: rule "r": duplicate rule id (first defined at shop/rules.yaml:2:6)'
    ]


# Durations, patterns, hours, dates

NO_UNIT = "has no unit; write a duration such as"
NOT_A_DURATION = "is not a duration; write a number and a unit, e.g. 30s, 10m, 2h, 7d or 4w"


@pytest.mark.parametrize(
    "when, extra, token, message",
    [
        ("{page_views: {at_least: 2, within: 7}}", "", "within", f"'7' {NO_UNIT} '7s', '7m' or '7d'"),
        ("{idle: 5x}", "", "idle", f"'5x' {NOT_A_DURATION}"),
        ("{time_on_page: 30}", "", "time_on_page", f"'30' {NO_UNIT} '30s', '30m' or '30d'"),
        ("{sessions: {at_least: 2, within: 0d}}", "", "within", "a duration of 0 never passes; use at least 1s"),
        ("{time_on_site: soon}", "", "time_on_site", f"'soon' {NOT_A_DURATION}"),
        ("{page: /}", "    limit: {per_visitor: 1, within: a month}\n", "within", f"'a month' {NOT_A_DURATION}"),
        # A mapping or a list where one duration goes: one line that says what to write, never
        # the parser's insides (it used to print "'{'at_least': Node(value='30s', …)}'").
        (
            "{time_on_page: {at_least: 30s}}",
            "",
            "time_on_page",
            "time_on_page takes one duration, not a mapping: write time_on_page: 30s, which already means at least 30s",
        ),
        (
            "{idle: {at_least: 20s}}",
            "",
            "idle",
            "idle takes one duration, not a mapping: write idle: 20s, which already means at least 20s",
        ),
        (
            "{page_views: {at_least: 2, within: {days: 7}}}",
            "",
            "within",
            "within takes one duration, not a mapping: write within: 7d",
        ),
        (
            "{page: /}",
            "    limit: {per_visitor: 1, within: [7d]}\n",
            "within",
            "within takes one duration, not a list: write within: 7d",
        ),
        (
            "{time_on_site: {soon: yes}}",
            "",
            "time_on_site",
            "time_on_site takes one duration such as 30s, 10m, 2h, 7d or 4w, not a mapping",
        ),
    ],
)
def test_a_bad_duration(tmp_path, when, extra, token, message):
    text = rule(when, extra=extra)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


@pytest.mark.parametrize(
    "when, token, message",
    [
        ("{page: '/a[b'}", "page", "bad glob '/a[b': unbalanced '['"),
        ("{page: 're:('}", "page", "bad regex '(': missing ), unterminated subpattern at position 0"),
        ("{page: pricing}", "page", "page pattern 'pricing' must start with '/' (a URL path) or '*'"),
        ("{page: ''}", "page", "an empty page pattern matches nothing"),
        ("{page: []}", "page", "an empty list of pages matches nothing"),
        ("{page: [/ok, 're:[']}", "'re:['", "bad regex '[': unterminated character set at position 0"),
        ("{page_views: {at_least: 1, page: '/x['}}", "page:", "bad glob '/x[': unbalanced '['"),
        ("{sessions: {at_least: 1, page: 're:)'}}", "page:", "bad regex ')': unbalanced parenthesis at position 0"),
    ],
)
def test_a_bad_glob_or_regex(tmp_path, when, token, message):
    text = rule(when)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


NOT_A_TIME = 'is not a time of day; write it as "HH:MM", e.g. "09:00"'


@pytest.mark.parametrize(
    "when, token, message",
    [
        (
            "{hours: {days: [mon, funday], from: '09:00', to: '18:00'}}",
            "funday",
            "'funday' is not a day; use mon, tue, wed, thu, fri, sat, sun",
        ),
        ("{hours: {from: '25:00', to: '18:00'}}", "from", f"'25:00' {NOT_A_TIME}"),
        ("{hours: {from: '09:00', to: '9pm'}}", "to:", f"'9pm' {NOT_A_TIME}"),
        ("{hours: {from: '09:00', to: '24:30'}}", "to:", f"'24:30' {NOT_A_TIME}"),
        ("{hours: {from: '09:00'}}", "hours", "hours need 'to', e.g. to: \"09:00\""),
        ("{hours: {from: '10:00', to: '10:00'}}", "hours", "'from' and 'to' are the same time, so the hours are empty"),
        ("{hours: weekdays}", "hours", "hours must be a mapping with 'days', 'from' and 'to', not text"),
    ],
)
def test_bad_hours(tmp_path, when, token, message):
    text = rule(when)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


def test_hours_business_needs_business_hours_in_site_yaml(tmp_path):
    text = rule("{hours: business}")
    assert problems(tmp_path, text, site=PLAIN_SITE) == [
        f'{at(text, "hours")}: rule "r": hours: business needs business_hours in site.yaml'
    ]


def test_hours_business_and_hours_past_midnight_load(tmp_path):
    text = rule("{hours: business}") + "  - {id: late, when: {hours: {from: '22:00', to: '02:00'}}, show: {chat: hi}}\n"
    assert len(ruleset(tmp_path, text)) == 2


@pytest.mark.parametrize(
    "when, token, message",
    [
        (
            "{dates: {from: 2026-12-25, until: 2026-12-01}}",
            "dates",
            "'from' is not before 'until', so this can never hold",
        ),
        (
            "{dates: {from: '2026-12-25 18:00', until: '2026-12-25 18:00'}}",
            "dates",
            "'from' is not before 'until', so this can never hold",
        ),
        ("{dates: {from: christmas}}", "from", "'christmas' is not a date; write 2026-12-01 or '2026-12-01 18:00'"),
        ("{dates: {}}", "dates", "dates needs from or until"),
        ("{dates: 2026-12-25}", "dates", "dates takes {from: 2026-12-01, until: 2026-12-25}"),
    ],
)
def test_bad_dates(tmp_path, when, token, message):
    text = rule(when)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


def test_a_one_day_window_is_valid_because_until_includes_its_day(tmp_path):
    assert len(ruleset(tmp_path, rule("{dates: {from: 2026-12-25, until: 2026-12-25}}"))) == 1


def test_at_least_greater_than_at_most_can_never_hold(tmp_path):
    text = rule("{page_views: {at_least: 3, at_most: 2}}")
    assert problems(tmp_path, text) == [
        f'{at(text, "page_views")}: rule "r": at_least (3) is greater than at_most (2), so this can never hold'
    ]


@pytest.mark.parametrize(
    "when, token",
    [
        ("{event: []}", "event"),
        ("{device: []}", "device"),
        ("{language: []}", "language"),
        ("{utm: {}}", "utm"),
    ],
)
def test_an_empty_condition_is_a_mistake_not_one_that_always_holds(tmp_path, when, token):
    # Dropped silently, `event: []` would turn an event rule into one that fires on every page.
    text = rule(when)
    lines = problems(tmp_path, text)
    assert len(lines) == 1 and lines[0].startswith(f'{at(text, token)}: rule "r": ')


@pytest.mark.parametrize(
    "when, message",
    [
        (
            "{properties: {category: tops}}",
            "'properties' tests the current custom event, so the rule also needs 'event: NAME'",
        ),
        (
            "{page: /cart, not: {properties: {category: tops}}}",
            "'properties' tests the current custom event, so the rule also needs 'event: NAME'",
        ),
        (
            "{event: add_to_cart, time_on_page: 30s}",
            "a rule with 'event:' runs when that custom event arrives, never on a client signal; split it into two rules",
        ),
        (
            "{all: [{event: add_to_cart}, {scroll: 50%}]}",
            "a rule with 'event:' runs when that custom event arrives, never on a client signal; split it into two rules",
        ),
    ],
)
def test_a_rule_that_could_never_fire_is_reported(tmp_path, when, message):
    text = rule(when)
    assert problems(tmp_path, text) == [f'{at(text, "when")}: rule "r": {message}']


@pytest.mark.parametrize(
    "when",
    [
        "{event: add_to_cart, properties: {category: tops}}",
        "{any: [{event: add_to_cart}, {page: /cart}], properties: {category: tops}}",
        "{event: add_to_cart, time_on_site: 5m}",  # the server knows the time on site when the event arrives
    ],
)
def test_properties_with_an_event_and_an_event_with_time_on_site_are_fine(tmp_path, when):
    assert len(ruleset(tmp_path, rule(when))) == 1


# Actions: coupons, templates, links


def test_an_unknown_coupon_pool_lists_the_known_ones(tmp_path):
    text = rule(show="{coupon: {pool: autumn}}")
    assert problems(tmp_path, text) == [
        f"{at(text, 'pool')}: rule \"r\": unknown coupon pool 'autumn' (pools: spring10)"
    ]


def test_an_unknown_coupon_pool_on_a_site_without_pools_says_where_to_declare_them(tmp_path):
    text = rule(show="{coupon: {pool: spring10}}")
    assert problems(tmp_path, text, site=PLAIN_SITE) == [
        f"{at(text, 'pool')}: rule \"r\": unknown coupon pool 'spring10' (pools: none; declare pools under 'coupons' in site.yaml)"
    ]


HINT = ", which rule texts do not allow; use {{ value }}, {% if %} and {% set name = value %} (template line 1)"
ALLOWED = "abs, capitalize, count, d, default, first, float, int, join, last, length, lower, round, string, title, trim, truncate, upper, yen"


@pytest.mark.parametrize(
    "show, token, message",
    [
        (
            "{chat: '{{ visitor.name '}",
            "chat",
            "template does not compile: unexpected end of template, expected 'end of print statement'. (template line 1)",
        ),
        (
            "{chat: {text: hi, agent: {name: '{{ }}'}}}",
            "name",
            "template does not compile: Expected an expression, got 'end of print statement' (template line 1)",
        ),
        ("{chat: '{% for p in visitor.items %}{{ p }}{% endfor %}'}", "chat", "template uses loops" + HINT),
        ("{chat: '{% macro m() %}x{% endmacro %}'}", "chat", "template uses macros" + HINT),
        ("{chat: \"{% include 'secrets' %}\"}", "chat", "template uses include" + HINT),
        ("{chat: \"{% import 'x' as y %}\"}", "chat", "template uses import" + HINT),
        ("{chat: \"{% extends 'x' %}\"}", "chat", "template uses extends" + HINT),
        ("{chat: '{% filter upper %}x{% endfilter %}'}", "chat", "template uses filter blocks" + HINT),
        (
            "{message: {title: \"{{ visitor.name | replace('a', 'aa') }}\"}}",
            "title",
            f"template uses filter 'replace', which rule texts do not allow; allowed: {ALLOWED} (template line 1)",
        ),
        (
            "{message: {title: \"{{ visitor | attr('__class__') }}\"}}",
            "title",
            f"template uses filter 'attr', which rule texts do not allow; allowed: {ALLOWED} (template line 1)",
        ),
        ("{chat: " + "あ" * 1001 + "}", "chat", "text over 1000 characters"),
        # The outside probe's template (issue 15, item 8): each line doubles the text.
        (
            "{chat: \"{% set a = 'aaaaaaaaaa' %}" + "{% set a = a ~ a %}" * 44 + '{{ a }}"}',
            "chat",
            "template sets 'a' from 'a', a name the template sets; build each set value from visitor, page, coupon and site, "
            "so no text can double itself (template line 1)",
        ),
        ("{chat: '{% with a = 1 %}{{ a }}{% endwith %}'}", "chat", "template uses with blocks" + HINT),
    ],
)
def test_a_template_that_cannot_be_used(tmp_path, show, token, message):
    text = rule(show=show)
    assert problems(tmp_path, text) == [f'{at(text, token)}: rule "r": {message}']


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,hi",
        "//evil.example/x",
        "ftp://shop.example/x",
        "https:/no-host",
        "vbscript:x",
    ],
)
def test_a_link_that_is_not_http_or_a_site_path_is_refused(tmp_path, url):
    text = rule(show="{message: {text: hi, button: {label: ok, url: 'URL'}}}".replace("URL", url))
    assert problems(tmp_path, text) == [
        f"{at(text, 'url')}: rule \"r\": '{url}' is not an allowed link; use an https:// URL or a path such as /pricing"
    ]


@pytest.mark.parametrize(
    "url", ["/pricing", "/", "https://shop.example/spring?utm_source=irasshai", "http://localhost:8001/x"]
)
def test_https_links_and_site_paths_are_allowed(tmp_path, url):
    rules = ruleset(tmp_path, rule(show="{message: {text: hi, button: {label: ok, url: 'URL'}}}".replace("URL", url)))
    assert rules.by_id["r"].action.render({})["button"] == {"label": "ok", "url": url}


@pytest.mark.parametrize(
    "show, token",
    [
        ("{chat: {text: hi, agent: {name: 花子, avatar: 'javascript:x'}}}", "avatar"),
        ("{message: {text: hi, image: 'javascript:x'}}", "image"),
    ],
)
def test_an_image_or_avatar_must_be_an_allowed_link_too(tmp_path, show, token):
    text = rule(show=show)
    assert problems(tmp_path, text) == [
        f"{at(text, token)}: rule \"r\": 'javascript:x' is not an allowed link; use an https:// URL or a path such as /pricing"
    ]


@pytest.mark.parametrize(
    "show, message",
    [
        ("{chat: hi, message: {text: hi}}", "'show' takes exactly one action; found chat and message"),
        ("{}", "'show' needs one of: chat, coupon, message"),
    ],
)
def test_show_takes_exactly_one_action(tmp_path, show, message):
    text = rule(show=show)
    assert problems(tmp_path, text) == [f'{at(text, "show")}: rule "r": {message}']


# Limits


def test_a_limit_needs_per_visitor_or_per_session(tmp_path):
    text = rule(extra="    limit: {}\n")
    assert problems(tmp_path, text) == [f'{at(text, "limit")}: rule "r": limit needs per_visitor or per_session']


def test_within_goes_with_per_visitor(tmp_path):
    text = rule(extra="    limit: {per_session: 2, within: 7d}\n")
    assert problems(tmp_path, text) == [
        f'{at(text, "within")}: rule "r": within goes with per_visitor (N times per visitor within a period)'
    ]


def test_a_limit_must_be_a_mapping(tmp_path):
    text = rule(extra="    limit: once\n")
    assert problems(tmp_path, text) == [
        f'{at(text, "limit")}: rule "r": limit takes {{per_visitor: 1, within: 30d}} and/or {{per_session: 1}}'
    ]


# All mistakes at once


def test_every_mistake_of_a_file_is_reported_in_order_not_just_the_first(tmp_path):
    text = """\
rules:
  - id: first
    when:
      pagee: /pricing
      page_views: {at_least: 3, at_most: 1}
    show: {chat: hi}
  - id: second
    when: {page: /, dates: {from: 2026-12-25, until: 2026-12-01}}
    show: {message: {text: hi, button: {label: ok, url: "javascript:void(0)"}}}
    limit: {per_visitor: 1, within: 30}
  - id: fine
    show: {chat: hi}
  - id: third
    when: {page: /}
    show: {chat: hi, coupon: {pool: nope}}
"""
    assert problems(tmp_path, text) == [
        f"{at(text, 'pagee')}: rule \"first\": unknown condition 'pagee' (did you mean 'page'?)",
        f'{at(text, "page_views")}: rule "first": at_least (3) is greater than at_most (1), so this can never hold',
        f"{at(text, 'dates')}: rule \"second\": 'from' is not before 'until', so this can never hold",
        f"{at(text, 'url')}: rule \"second\": 'javascript:void(0)' is not an allowed link; use an https:// URL or a path such as /pricing",
        f"{at(text, 'within')}: rule \"second\": '30' has no unit; write a duration such as '30s', '30m' or '30d'",
        "shop/rules.yaml:15:5: rule \"third\": 'show' takes exactly one action; found chat and coupon",
    ]


def test_one_bad_rule_keeps_the_whole_folder_from_loading(tmp_path):
    text = "rules:\n  - {id: good, show: {chat: hi}}\n  - {id: bad, when: {page: nope}, show: {chat: hi}}\n"
    assert len(problems(tmp_path, text)) == 1


# `irasshai rules check`


def rules_check(folder: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IRASSHAI_")}
    return subprocess.run(
        [sys.executable, "-m", "server", "rules", "check", str(folder)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        cwd=ROOT,
    )


def test_rules_check_prints_every_problem_and_exits_1(tmp_path):
    first, second = rule("{pagee: /}"), rule(show="{coupon: {pool: autumn}}").replace("id: r", "id: s")
    write_site(tmp_path, "shop", SITE, **{"a.yaml": first, "b.yaml": second})
    result = rules_check(tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        f"{tmp_path}/{at(first, 'pagee', 'a.yaml')}: rule \"r\": unknown condition 'pagee' (did you mean 'page'?)",
        f"{tmp_path}/{at(second, 'pool', 'b.yaml')}: rule \"s\": unknown coupon pool 'autumn' (pools: spring10)",
    ]
    assert result.stderr.strip() == f"2 problem(s) in {tmp_path}"


def test_rules_check_says_ok_with_the_number_of_rules(tmp_path):
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": rule() + "  - {id: paused, enabled: false, show: {chat: x}}\n"})
    write_site(tmp_path, "other", PLAIN_SITE)
    result = rules_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["ok: 2 site(s) (other: 0 rule(s), shop: 1 rule(s))"]


def test_visitor_verified_takes_true_or_false(tmp_path):
    text = rule("{visitor: {verified: yes please, plan: gold}}")
    assert problems(tmp_path, text) == [f'{at(text, "verified")}: rule "r": verified takes true or false, not text']
    assert ruleset(tmp_path, rule("{visitor: {verified: true}}")).by_id["r"] is not None
