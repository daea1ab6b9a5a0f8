"""rules/<site>/replies.yaml (server/console/replies.py): canned replies for the console.

Checked like every rule file: every mistake at once as ``path:line:col:`` with the reply's code
and a hint, unknown keys rejected with a suggestion, no traceback for any input; a folder with a
broken replies.yaml loads no Config, a good one puts the replies in ``Config.replies``, and the
file is not read as a rule file. `irasshai rules check` prints the same lines and exits 1.
"""

from __future__ import annotations

import pytest

from server.config import load_config
from server.console.replies import Reply
from tests.conftest import ROOT
from tests.helpers import write_site
from tests.test_cli import irasshai

GOOD = """\
replies:
  - code: hello
    text:
      ja: こんにちは
      en: Hello
  - code: bye
    text: {ja: またどうぞ}
"""


def problems_of(tmp_path, text: str) -> list[str]:
    write_site(tmp_path, **{"replies.yaml": text})
    config, problems = load_config(tmp_path)
    assert config is None
    return problems.lines()


def test_a_good_file_loads_into_the_config(tmp_path):
    write_site(tmp_path, **{"replies.yaml": GOOD})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    assert config.replies["shop"] == (
        Reply("hello", {"ja": "こんにちは", "en": "Hello"}),
        Reply("bye", {"ja": "またどうぞ"}),
    )
    assert not config.rules["shop"].rules  # not read as a rule file


def test_a_site_without_the_file_has_no_replies(tmp_path):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    assert config is not None and "shop" not in config.replies


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "replies:\n  - code: hello\n    txt: {ja: x}\n",
            [
                "2:5: reply \"hello\": a reply needs 'text'",
                "3:5: reply \"hello\": unknown key 'txt' (did you mean 'text'?)",
            ],
        ),
        ("replies:\n  - code: Hello World\n    text: {ja: x}\n", ["2:5: code must be 1 to 32 lower-case"]),
        ("replies:\n  - text: {ja: x}\n", ["2:5: a reply needs a 'code'"]),
        (
            "replies:\n  - code: a\n    text: {ja: x}\n  - code: a\n    text: {ja: y}\n",
            ["4:5: duplicate reply code 'a' (first defined at"],
        ),
        ("replies:\n  - code: a\n    text: {en: Hi}\n", ["3:5: reply \"a\": the text needs the site's language, 'ja'"]),
        ("replies:\n  - code: a\n    text: {ja: x, fr: y}\n", ["3:19: reply \"a\": unknown language 'fr'"]),
        ("replies:\n  - code: a\n    text: {ja: ''}\n", ['3:12: reply "a": text must be text, not empty']),
        ("replies:\n  - code: a\n    text: {ja: [1]}\n", ['3:12: reply "a": text must be text, not a list']),
        ("replies:\n  - code: a\n", ["2:5: reply \"a\": a reply needs 'text'"]),
        ("replies:\n  - code: a\n    text: hello\n", ["3:5: reply \"a\": 'text' takes a mapping of languages"]),
        ("replies: []\n", ["1:1: 'replies' must be a list"]),
        ("- code: a\n", ["1:1: replies.yaml holds 'replies:'"]),
        ("replies:\n  - hello\n", ["2:5: each reply is a mapping with code and text, not text"]),
        ("replies:\n  - code: a\n    text: {ja: x}\nextra: 1\n", ["4:1: unknown key 'extra'"]),
        ("replies:\n  - {code: a, text: {ja: x}\n", ["replies.yaml:"]),  # YAML syntax: one line, no traceback
    ],
)
def test_each_mistake_is_one_line_with_its_position(tmp_path, text, expected):
    lines = problems_of(tmp_path, text)
    assert len(lines) == len(expected), lines
    for line, part in zip(lines, expected, strict=True):
        assert line.startswith(str(tmp_path / "shop" / "replies.yaml")), line
        assert part in line, line


def test_all_mistakes_come_back_at_once(tmp_path):
    text = "replies:\n  - code: A\n    text: {ja: x}\n  - code: b\n    text: {en: y}\n  - code: c\n    texts: {ja: z}\n"
    lines = problems_of(tmp_path, text)
    assert [line.split(": ", 1)[0].rsplit("replies.yaml:", 1)[1] for line in lines] == ["2:5", "5:5", "6:5", "7:5"]


def test_a_text_longer_than_a_chat_message_is_refused(tmp_path):
    lines = problems_of(tmp_path, "replies:\n  - code: a\n    text: {ja: " + "あ" * 2001 + "}\n")
    assert lines == [
        f'{tmp_path / "shop" / "replies.yaml"}:3:12: reply "a": text is 2001 characters long; the limit is 2000'
    ]


def test_rules_check_prints_the_mistakes_and_exits_1(tmp_path):
    write_site(tmp_path, **{"replies.yaml": "replies:\n  - code: hello\n    txt: {ja: x}\n"})
    result = irasshai("rules", "check", str(tmp_path))
    assert result.returncode == 1
    assert "replies.yaml:3:5: reply \"hello\": unknown key 'txt' (did you mean 'text'?)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_demo_replies_are_good():
    config, problems = load_config(ROOT / "rules")
    assert config is not None, problems.lines()
    assert [reply.code for reply in config.replies["demo"]] == ["greeting", "shipping", "sizes", "thanks"]
    assert all(set(reply.text) == {"ja", "en"} for reply in config.replies["demo"])


def test_the_guides_example_is_good(tmp_path):
    import re

    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    [example] = re.findall(r"^```yml\n(replies:.*?)^```", text, re.M | re.S)
    write_site(tmp_path, **{"replies.yaml": example})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    assert [reply.code for reply in config.replies["shop"]] == ["shipping"]
