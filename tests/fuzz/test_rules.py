"""Generated rule files, site.yaml, faq.yaml, replies.yaml and rule test files through
`irasshai rules check` and `irasshai rules test` (docs/rules.md).

Contract, whatever the files hold: the command exits 0 or 1, never with a traceback; every
line it prints is a summary or one mistake, `path:line:col: message`, on one line, printable
to a UTF-8 terminal, and never shows Python's insides (a repr of a mapping or of a parser node).
The command runs in-process for the generated examples (fast) and as a real process for a few.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import given, note
from hypothesis import settings as hypothesis_settings

from server.cli import main
from tests.conftest import ROOT
from tests.fuzz.checks import TALLY
from tests.fuzz.rule_docs import DEMO, OTHER_DOCS, RULE_DOCS, TEST_DOCS, files
from tests.fuzz.wire import scaled

SUMMARIES = {
    "check": [r"ok: 1 site\(s\) \(shop: \d+ rule\(s\)\)"],
    "test": [
        r"\d+ passed, \d+ failed",
        r"\d+ problem\(s\) in test files; those files were not run",
        r"no tests found: add tests to .*",
    ],
}
# Python's insides in a message: a parser node, an object, a dict's or a list's repr.
PYTHON_REPR = re.compile(r"Node\(value=|<[\w.]+ object at 0x|[{\[]'[^']*'(: |, |[}\]])")


def rules_folder(tmp_path: Path, with_tests: bool) -> Path:
    """A copy of the demo site as `shop` (its tests only if `with_tests`); returns the rules folder."""
    root = tmp_path / "rules"
    shutil.copytree(DEMO, root / "shop", ignore=None if with_tests else shutil.ignore_patterns("*.test.yaml"))
    return root


DEMO_FILES = {path.name: path.read_bytes() for path in DEMO.iterdir()}


def small_folder(root: Path, name: str, data: bytes, needs: tuple[str, ...]) -> None:
    """`root`/shop afresh: the demo's site.yaml and codes, the files in `needs`, and `data` as `name`."""
    shutil.rmtree(root, ignore_errors=True)
    folder = root / "shop"
    folder.mkdir(parents=True)
    for demo_file in ("site.yaml", "welcome-codes.txt", *needs):
        (folder / demo_file).write_bytes(DEMO_FILES[demo_file])
    (folder / name).write_bytes(data)


def run_in_process(*argv: str) -> tuple[int, list[str], list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as exit:
            code = exit.code
        else:
            code = 0
    return code, out.getvalue().split("\n")[:-1], err.getvalue().split("\n")[:-1]


def check_output(command: str, root: Path, code, out: list[str], err: list[str]) -> None:
    assert code in (0, 1), f"exit {code}: {out[-5:]} {err[-5:]}"
    where = re.compile(re.escape(str(root)) + r"/[^\n]*?:\d+:\d+: \S")
    for line in out:
        assert where.match(line) or any(re.fullmatch(s, line) for s in SUMMARIES[command]), f"not a mistake: {line!r}"
    for line in err:
        assert re.fullmatch(rf"\d+ problem\(s\) in {re.escape(str(root))}", line), f"stderr: {line!r}"
    for line in out + err:
        line.encode("utf-8")  # a lone surrogate would make a real terminal's print raise
        assert "\r" not in line and "Traceback" not in line, line
        assert not PYTHON_REPR.search(line), f"Python's insides: {line}"


def _fuzz(tmp_path: Path, command: str, documents: list, examples: int) -> None:
    root = tmp_path / "rules"

    @hypothesis_settings(max_examples=examples)
    @given(files(documents))
    def run(file: tuple[str, str, bytes, tuple[str, ...]]) -> None:
        name, changes, data, needs = file
        note(f"{name} ({changes}):\n{data[:3000].decode('utf-8', 'replace')}")
        small_folder(root, name, data, needs)
        try:
            code, out, err = run_in_process("rules", command, str(root))
        except BaseException:
            TALLY[f"rules {command}", "traceback"] += 1
            raise
        TALLY[f"rules {command}", f"exit {code}"] += 1
        check_output(command, root, code, out, err)

    run()


def test_generated_rule_files_get_one_line_mistakes_never_a_traceback(tmp_path):
    _fuzz(tmp_path, "check", RULE_DOCS + OTHER_DOCS, scaled(2))


def test_generated_rule_test_files_get_one_line_mistakes_never_a_traceback(tmp_path):
    _fuzz(tmp_path, "test", TEST_DOCS, scaled(1))


def test_the_real_command_on_broken_files_exits_1_without_a_traceback(tmp_path):
    """Some of the generated kinds, through `python -m server` as a marketer runs it: output
    goes to a real pipe, which a lone surrogate could not cross."""
    root = rules_folder(tmp_path, with_tests=False)
    folder = root / "shop"
    deep = b"rules: " + b"[" * 5000 + b"]" * 5000 + b"\n"
    broken = [
        ("check", "fuzz.yaml", b"rules:\n  - id: a\n    when: {page: \xff}\n    show: {chat: hi}\n"),
        ("check", "fuzz.yaml", b'rules:\n  - id: a\n    when: {device: "\\ud800\\n"}\n    show: {chat: "\\udc00"}\n'),
        ("check", "fuzz.yaml", deep),
        ("check", "site.yaml", b"origins: &a [*a]\n"),
        ("test", "fuzz.test.yaml", b"tests:\n  - name: a\n    steps:\n      - page_view: {url: [[[1]]]}\n"),
        ("test", "fuzz.test.yaml", deep),
        ("test", "fuzz.yaml", b"rules: {"),
    ]
    for command, name, data in broken:
        original = (folder / name).read_bytes() if (folder / name).exists() else None
        (folder / name).write_bytes(data)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "server", "rules", command, str(root)], cwd=ROOT, capture_output=True
            )
        finally:
            if original is None:
                (folder / name).unlink()
            else:
                (folder / name).write_bytes(original)
        out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
        assert done.returncode == 1, (command, name, out, err)
        check_output(command, root, done.returncode, out.splitlines(), err.splitlines())
