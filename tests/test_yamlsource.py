"""YAML with positions (server/yamlsource.py): every mistake is one line, ``path:line:col: message``.

Parsing keeps the 1-based line and column of every value; a mapping entry carries the
position of its key, because that is where a reader looks. Duplicate keys and syntax errors
are reported (never raised) at the place they were written, and all of them at once, listed
file by file and down each file.
Unknown keys are reported with a "did you mean" hint when one is close.
"""

from __future__ import annotations

import pytest

from server.yamlsource import Node, Problem, Problems, check_keys, parse, parse_file, suggest, type_name

SITE = """\
# The demo shop
name: Demo
origins:
  - https://a.example
  - https://b.example
hours: {from: "09:00", to: "18:00"}
nested:
  deeper:
    value: 3
"""


def parsed(text: str, filename: str = "f.yaml") -> tuple[Node | None, list[str]]:
    problems = Problems()
    root = parse(text, filename, problems)
    return root, problems.lines()


def test_values_keep_their_line_and_column():
    root, problems = parsed(SITE)
    assert problems == []
    entries = root.value
    assert entries["name"].value == "Demo"
    assert entries["name"].where == "f.yaml:2:1"
    assert [item.where for item in entries["origins"].value] == ["f.yaml:4:5", "f.yaml:5:5"]
    assert entries["hours"].value["to"].where == "f.yaml:6:24"
    assert entries["nested"].value["deeper"].value["value"].where == "f.yaml:9:5"


def test_a_mapping_entry_is_placed_at_its_key_not_its_value():
    root, _ = parsed("origins:\n  - https://a.example\nlanguage:    en\n")
    assert (root.value["origins"].line, root.value["origins"].col) == (1, 1)
    assert root.value["language"].where == "f.yaml:3:1"


def test_plain_drops_positions():
    root, _ = parsed(SITE)
    assert root.plain() == {
        "name": "Demo",
        "origins": ["https://a.example", "https://b.example"],
        "hours": {"from": "09:00", "to": "18:00"},
        "nested": {"deeper": {"value": 3}},
    }
    assert root.value["origins"].is_list() and root.value["hours"].is_mapping()
    assert not root.value["name"].is_mapping() and not root.value["name"].is_list()


def test_an_empty_file_is_nothing_at_the_top_of_the_file():
    root, problems = parsed("# only a comment\n")
    assert problems == []
    assert root == Node(None, "f.yaml", 1, 1)


def test_keys_that_yaml_reads_as_other_types_become_words():
    root, problems = parsed("yes: 1\n3: three\n")
    assert problems == []
    assert list(root.value) == ["true", "3"]


def test_a_key_that_is_not_a_word_is_reported_and_skipped():
    root, problems = parsed("? [a, b]\n: 1\nok: 2\n")
    assert problems == ["f.yaml:1:3: mapping keys must be plain words"]
    assert root.plain() == {"ok": 2}


def test_duplicate_keys_are_reported_at_the_second_one():
    root, problems = parsed("name: A\nrule:\n  delay: 1\n  delay: 2\nname: B\n")
    assert problems == ["f.yaml:4:3: duplicate key 'delay'", "f.yaml:5:1: duplicate key 'name'"]
    assert root.plain() == {"name": "B", "rule": {"delay": 2}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n b: 2\n", "f.yaml:2:3: YAML syntax error: mapping values are not allowed here"),
        ("a: 1\n\tb: 2\n", "f.yaml:2:1: YAML syntax error: found character '\\t' that cannot start any token"),
        ("a: *nowhere\n", "f.yaml:1:4: YAML syntax error: found undefined alias 'nowhere'"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2:1: YAML syntax error: but found another document"),
    ],
)
def test_syntax_errors_are_reported_where_they_are(text, expected):
    root, problems = parsed(text)
    assert root is None
    assert problems == [expected]


QUOTE_IT = "a text with '?' or ': ' cannot stand bare there; put the text in quotes"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "coupon: {title: まだお悩みですか?, text: 今なら10%オフ。}\n",
            "f.yaml:1:25: YAML syntax error: expected ',' or '}', but got '?' inside the {…} opened on line 1, column 9: "
            f'{QUOTE_IT}, e.g. title: "まだお悩みですか?", or write one key per line',
        ),
        (
            "chat: {text: 受付時間: 10時から}\n",
            "f.yaml:1:18: YAML syntax error: expected ',' or '}', but got ':' inside the {…} opened on line 1, column 7: "
            f'{QUOTE_IT}, e.g. title: "まだお悩みですか?", or write one key per line',
        ),
        (
            "pages: [/faq?, /help]\n",
            "f.yaml:1:13: YAML syntax error: expected ',' or ']', but got '?' inside the […] opened on line 1, column 8: "
            f'{QUOTE_IT}, e.g. ["まだお悩みですか?"], or write one item per line',
        ),
        (
            "a: [1, 2\nb: 3\n",
            "f.yaml:2:2: YAML syntax error: expected ',' or ']', but got ':' inside the […] opened on line 1, column 4: "
            "if its ']' is missing, close it; if a text holds '?' or ': ', put the text in quotes, "
            'e.g. ["まだお悩みですか?"], or write one item per line',
        ),
    ],
    ids=["question mark in {}", "colon and space in {}", "question mark in []", "unclosed ["],
)
def test_a_question_mark_or_colon_inside_brackets_gets_a_hint_with_the_opening_bracket(text, expected):
    root, problems = parsed(text)
    assert root is None
    assert problems == [expected]


def test_quoted_or_in_block_style_the_same_text_is_fine():
    assert parsed('coupon: {title: "まだお悩みですか?", text: 今なら10%オフ。}\n')[1] == []
    root, problems = parsed("coupon:\n  title: まだお悩みですか?\n  text: 今なら10%オフ。\n")
    assert problems == [] and root.plain() == {"coupon": {"title": "まだお悩みですか?", "text": "今なら10%オフ。"}}


def test_a_control_character_is_reported_on_one_line_where_it_is():
    # Text pasted from a spreadsheet can carry invisible control characters.
    root, problems = parsed("name: Demo\nlanguage: ja\x07\n")
    assert root is None
    assert len(problems) == 1
    assert "\n" not in problems[0]
    assert problems[0].startswith("f.yaml:2:13: YAML syntax error: ")
    assert "#x0007" in problems[0]


def test_an_anchor_that_contains_itself_is_reported_not_raised():
    root, problems = parsed("origins: &loop [*loop]\n")
    assert problems and problems[0].startswith("f.yaml:1:")


@pytest.mark.parametrize(
    "text, where",
    [
        ("rules: " + "[" * 1000 + "]" * 1000 + "\n", "f.yaml:1:57"),
        ("rules: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "f.yaml:1:201"),
        ("rules:\n" + "".join("  " * level + "- \n" for level in range(1, 2000)), "f.yaml:51:101"),
    ],
    ids=["a list", "a mapping", "block style"],
)
def test_values_nested_too_deeply_are_one_mistake_where_they_get_too_deep(text, where):
    """Found by tests/fuzz: 1000 nested brackets crashed `irasshai rules check` with RecursionError."""
    root, problems = parsed(text)
    assert root is None
    assert problems == [f"{where}: values nest more than 50 levels deep here; no rule or test needs that many"]


def test_aliases_that_would_expand_past_the_limit_are_refused_without_expanding_them():
    """Found by tests/fuzz: nine lines of aliases nine wide (387 million values) held `irasshai
    rules check` until memory ran out; the server's reload would do the same."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 6)]  # 111,111 values
    root, problems = parsed("\n".join(lines) + "\nrules: *a5\n")
    assert root is None
    assert len(problems) == 1
    assert "more than 100000 values (an alias counts each time it is used)" in problems[0]
    assert parsed("a: &a [x, x]\nb: [*a, *a]\n")[0].plain() == {"a": ["x", "x"], "b": [["x", "x"], ["x", "x"]]}


def test_half_a_surrogate_pair_is_a_mistake_and_a_whole_pair_is_its_character():
    """Found by tests/fuzz: `text: "\\ud83d"` passed the checker, then made every reply showing the
    rule a 500 (no JSON encoder writes half a character), and `rules check` printing a mistake
    that quoted it died with UnicodeEncodeError."""
    root, problems = parsed('text: "hi \\ud83d"\n"k\\udc00": 1\n')
    assert problems == [
        "f.yaml:1:1: '\\ud83d' is half of a UTF-16 surrogate pair, not a character; write the character itself",
        "f.yaml:2:1: '\\udc00' is half of a UTF-16 surrogate pair, not a character; write the character itself",
    ]
    assert root.plain() == {"text": "hi \ufffd", "k\ufffd": 1}
    assert parsed('text: "\\ud83d\\ude00 ok"\n') == (parsed("text: 😀 ok\n")[0], [])


@pytest.mark.parametrize(
    "text, message",
    [
        ("from: 2026-02-30\n", "'2026-02-30' is not a date (day is out of range for month)"),
        ("from: 2026-13-01 10:00:00\n", "'2026-13-01 10:00:00' is not a date (month must be in 1..12)"),
        ("from: !!timestamp 2026-13-45-\n", "'2026-13-45-' is not a date"),
        ("n: !!int abc\n", "'abc' is not a whole number"),
        ("n: !!float x\n", "'x' is not a number"),
        ("n: !!bool x\n", "'x' is not true or false"),
    ],
)
def test_a_date_that_does_not_exist_or_a_wrongly_tagged_value_is_a_mistake_not_a_crash(text, message):
    """Found by tests/fuzz: PyYAML raised ValueError, AttributeError or KeyError building these, and
    `irasshai rules check` (and the server) died; `dates: {from: 2026-02-30}` is an easy typo."""
    root, problems = parsed(text + "b: 2\n")
    assert problems == [f"f.yaml:1:1: {message}"]
    assert root.plain()["b"] == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("<<: \n", "f.yaml:1:1: '<<' (YAML's merging of mappings) is not supported; write the keys out"),
        (
            "a: &d {x: 1}\nb:\n  <<: *d\n",
            "f.yaml:3:3: '<<' (YAML's merging of mappings) is not supported; write the keys out",
        ),
        ("!!int abc: 1\n", "f.yaml:1:1: 'abc' is not a whole number"),
        ("2026-02-30: x\n", "f.yaml:1:1: '2026-02-30' is not a date (day is out of range for month)"),
    ],
)
def test_a_merge_key_or_a_key_that_cannot_be_read_is_one_mistake_not_a_crash(text, message):
    """Found by tests/fuzz (deep profile): `<<:` made `irasshai rules check` die with
    ConstructorError, and keys are built like values, so a bad date or tag as a key raised too."""
    assert parsed(text)[1] == [message]


def test_a_value_that_cannot_be_read_is_reported_and_parsing_goes_on():
    root, problems = parsed("a: !shout hello\nb: 2\n")
    assert problems == ["f.yaml:1:1: cannot read value: could not determine a constructor for the tag '!shout'"]
    assert root.plain() == {"a": None, "b": 2}


def test_parse_file_reports_a_missing_or_non_utf8_file(tmp_path):
    problems = Problems()
    assert parse_file(tmp_path / "nowhere.yaml", problems) is None
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: Caf\xe9\n".encode("latin-1"))
    assert parse_file(latin1, problems) is None
    assert problems.lines() == [
        f"{tmp_path}/nowhere.yaml:1:1: cannot read file: No such file or directory",
        f"{latin1}:1:1: file is not UTF-8 text",
    ]


def test_parse_file_names_the_file_in_positions(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("name: 店\n", encoding="utf-8")
    node = parse_file(path, Problems())
    assert node.value["name"].where == f"{path}:1:1"
    assert node.value["name"].value == "店"


def test_suggest_names_the_closest_choice_or_nothing():
    choices = ("timezone", "language", "origins")
    assert suggest("timezon", choices) == " (did you mean 'timezone'?)"
    assert suggest("origin", choices) == " (did you mean 'origins'?)"
    assert suggest("colour", choices) == ""


def test_check_keys_reports_every_unknown_key_where_it_is_with_a_hint():
    root, _ = parsed("timezon: Asia/Tokyo\norigins: []\ncolour: red\n")
    problems = Problems()
    check_keys(root, ("timezone", "origins"), problems, what="site setting")
    assert problems.lines() == [
        "f.yaml:1:1: unknown site setting 'timezon' (did you mean 'timezone'?)",
        "f.yaml:3:1: unknown site setting 'colour'",
    ]


def test_check_keys_names_the_rule():
    root, _ = parsed("delay_sec: 5\n")
    problems = Problems()
    check_keys(root, ("delay", "message"), problems, rule="exit-offer")
    assert problems.lines() == ["f.yaml:1:1: rule \"exit-offer\": unknown key 'delay_sec' (did you mean 'delay'?)"]


def test_a_problem_reads_as_where_rule_and_message():
    assert str(Problem("rules/demo/cart.yaml:12:5", "unknown key 'x'")) == "rules/demo/cart.yaml:12:5: unknown key 'x'"
    assert (
        str(Problem("rules/demo/cart.yaml:12:5", "unknown key 'x'", rule="exit-offer"))
        == "rules/demo/cart.yaml:12:5: rule \"exit-offer\": unknown key 'x'"
    )


def test_problems_are_collected_and_listed_file_by_file_down_each_file():
    problems = Problems()
    assert not problems and len(problems) == 0
    problems.add(Node(1, "b.yaml", 3, 7), "first file read")
    problems.add_at("a.yaml:1:1", "second file read", rule="r")
    problems.add_at("b.yaml:10:2", "line 10, found first")
    problems.add_at("b.yaml:9:5", "line 9")
    problems.add_at("b.yaml:3:2", "same line, earlier column")
    assert problems and len(problems) == 5
    assert problems.lines() == [
        "b.yaml:3:2: same line, earlier column",
        "b.yaml:3:7: first file read",
        "b.yaml:9:5: line 9",
        "b.yaml:10:2: line 10, found first",
        'a.yaml:1:1: rule "r": second file read',
    ]


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "nothing"),
        (True, "true/false"),
        (3, "a number"),
        (2.5, "a number"),
        ("x", "text"),
        ([1], "a list"),
        ({"a": 1}, "a mapping"),
    ],
)
def test_type_name_describes_values_in_plain_words(value, name):
    assert type_name(value) == name
