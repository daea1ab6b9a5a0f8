"""YAML files parsed with the position of every value kept, and problems collected, not raised.

Marketers and shop owners edit YAML by hand. Every mistake must come back as one line,
``path:line:col: message``, and all mistakes at once, so parsing keeps a tree of
:class:`Node` (value + where it was written) and checks report into :class:`Problems`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from server.oneline import one_line


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value and where it was written (1-based line and column).

    A mapping's ``value`` is ``dict[str, Node]``, a sequence's ``list[Node]``, a scalar's
    the plain Python value. A mapping entry's position is that of its key, because that
    is where a reader looks for "the line of `priority`".
    """

    value: Any
    file: str
    line: int
    col: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value as plain Python data, positions dropped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # file:line:col
    message: str
    rule: str | None = None

    def __str__(self) -> str:
        rule = f'rule "{self.rule}": ' if self.rule else ""
        return one_line(f"{self.where}: {rule}{self.message}")  # what it quotes may hold line breaks

    @property
    def file(self) -> str:
        return self.where.rsplit(":", 2)[0]

    @property
    def position(self) -> tuple[int, int]:
        """(line, column), numbers compared as numbers (line 9 before line 10)."""
        line, col = self.where.rsplit(":", 2)[1:]
        return (int(line), int(col)) if line.isdigit() and col.isdigit() else (0, 0)


@dataclass
class Problems:
    """Collects every problem found in a set of files; `lines()` lists them in file order."""

    items: list[Problem] = field(default_factory=list)

    def add(self, node: Node, message: str, rule: str | None = None) -> None:
        self.items.append(Problem(node.where, message, rule))

    def add_at(self, where: str, message: str, rule: str | None = None) -> None:
        self.items.append(Problem(where, message, rule))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        """Every problem as `path:line:col: message`, file by file in the order the files were read,
        and down each file by line and column, as a marketer reads it (checks find them in
        another order: a rule's unknown keys before its values)."""
        files: dict[str, int] = {}
        for problem in self.items:
            files.setdefault(problem.file, len(files))
        ordered = sorted(self.items, key=lambda problem: (files[problem.file], *problem.position))
        return [str(p) for p in ordered]


# No hand-written file comes near these (the demo's go 8 levels deep and hold at most 216
# values); a file past them is refused before anything walks it: PyYAML composes nesting by
# recursion, and an alias is expanded each time it is used, so ten lines of aliases ten wide
# would make ten billion values.
MAX_DEPTH = 50
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_VALUES = 100_000


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _TooMany(Exception):
    def __init__(self, line: int, col: int):
        super().__init__(line, col)
        self.line, self.col = line, col


class _Loader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(problem="too deep", problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse(text: str, filename: str, problems: Problems) -> Node | None:
    """Parse YAML `text`; on a syntax error report it (with its position) and return None."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except _TooDeep as error:
        mark = error.problem_mark
        problems.add_at(
            f"{filename}:{mark.line + 1}:{mark.column + 1}",
            f"values nest more than {MAX_DEPTH} levels deep here; no rule or test needs that many",
        )
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = error.problem or "not valid YAML"
        problems.add_at(f"{filename}:{line}:{col}", f"YAML syntax error: {what}{_flow_hint(error)}")
        return None
    except yaml.reader.ReaderError as error:  # e.g. a control character pasted in
        before = text[: error.position]
        line, col = before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1
        what = f"unacceptable character #x{error.character:04x}"
        problems.add_at(f"{filename}:{line}:{col}", f"YAML syntax error: {what}")
        return None
    except yaml.YAMLError as error:
        problems.add_at(f"{filename}:1:1", f"YAML syntax error: {str(error).splitlines()[0]}")
        return None
    if root is None:
        return Node(None, filename, 1, 1)
    try:
        return _convert(root, filename, root.start_mark, problems, yaml.SafeLoader(""), set(), [0])
    except _TooMany as error:
        problems.add_at(
            f"{filename}:{error.line}:{error.col}",
            f"more than {MAX_VALUES} values (an alias counts each time it is used); no rule or test needs that many",
        )
        return None


# The parser's context for `{…}` and `[…]`: their brackets, and how to write the text instead.
FLOW = {
    "while parsing a flow mapping": ("{", "}", 'e.g. title: "まだお悩みですか?", or write one key per line'),
    "while parsing a flow sequence": ("[", "]", 'e.g. ["まだお悩みですか?"], or write one item per line'),
}


def _flow_hint(error: yaml.MarkedYAMLError) -> str:
    """The hint for YAML's pitfall inside `{…}` and `[…]`: there, `?` and `: ` mean syntax, so
    `{title: まだお悩みですか?, text: …}` fails where the marketer wrote an ordinary question mark."""
    brackets = FLOW.get(error.context or "")
    if brackets is None or not error.problem or not error.problem.endswith(("got '?'", "got ':'")):
        return ""
    opening, closing, instead = brackets
    opened = error.context_mark
    where = f"the {opening}…{closing} opened on line {opened.line + 1}, column {opened.column + 1}"
    quote = f"put the text in quotes, {instead}"
    if error.problem_mark.line == opened.line:
        return f" inside {where}: a text with '?' or ': ' cannot stand bare there; {quote}"
    return f" inside {where}: if its '{closing}' is missing, close it; if a text holds '?' or ': ', {quote}"


def parse_file(path: str | Path, problems: Problems) -> Node | None:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.add_at(f"{path}:1:1", "file is not UTF-8 text")
        return None
    except OSError as error:
        problems.add_at(f"{path}:1:1", f"cannot read file: {error.strerror}")
        return None
    return parse(text, str(path), problems)


def _convert(
    node: yaml.Node, filename: str, mark, problems: Problems, constructor, open_nodes: set, count: list[int]
) -> Node:
    line, col = mark.line + 1, mark.column + 1
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise _TooMany(line, col)
    if id(node) in open_nodes:  # an anchor used inside itself: `a: &x [*x]`
        problems.add_at(f"{filename}:{line}:{col}", "an alias refers to a value that contains it")
        return Node(None, filename, line, col)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        open_nodes = open_nodes | {id(node)}
    if isinstance(node, yaml.MappingNode):
        entries: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key_where = f"{filename}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.add_at(key_where, "'<<' (YAML's merging of mappings) is not supported; write the keys out")
                continue
            reported = len(problems)
            key = _scalar(key_node, key_where, problems, constructor) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None and len(problems) > reported:
                continue  # it said why
            if key is None or isinstance(key, (list, dict)):
                problems.add_at(key_where, "mapping keys must be plain words")
                continue
            key = str(key) if not isinstance(key, bool) else str(key).lower()
            if key in entries:
                problems.add_at(key_where, f"duplicate key '{key}'")
            entries[key] = _convert(value_node, filename, key_node.start_mark, problems, constructor, open_nodes, count)
        return Node(entries, filename, line, col)
    if isinstance(node, yaml.SequenceNode):
        items = [
            _convert(item, filename, item.start_mark, problems, constructor, open_nodes, count) for item in node.value
        ]
        return Node(items, filename, line, col)
    return Node(_scalar(node, f"{filename}:{line}:{col}", problems, constructor), filename, line, col)


def _scalar(node: yaml.ScalarNode, where: str, problems: Problems, constructor) -> Any:
    """The value of a scalar (a key or a value), or None after reporting why it cannot be read."""
    try:
        value = constructor.construct_object(node)
    except yaml.constructor.ConstructorError as error:
        problems.add_at(where, f"cannot read value: {error.problem}")
        return None
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        # PyYAML builds a date that only looks like one (2026-02-30) and a value tagged !!int,
        # !!bool or !!timestamp without checking it can: it raises whatever its builder raised.
        tag = node.tag.rpartition(":")[2]
        kind = {"timestamp": "a date", "int": "a whole number", "float": "a number", "bool": "true or false"}
        reason = f" ({error})" if tag == "timestamp" and isinstance(error, ValueError) else ""
        problems.add_at(where, f"'{node.value}' is not {kind.get(tag, 'a ' + tag)}{reason}")
        return None
    return _whole_characters(value, where, problems) if isinstance(value, str) else value


def _whole_characters(text: str, where: str, problems: Problems) -> str:
    """`text` with escaped surrogate pairs (``"\\ud83d\\ude00"``) joined into their character. Half
    of one is reported (no UTF-8 output, a reply or a terminal, could carry it) and replaced by
    U+FFFD, so that nothing else reports the value again."""
    if not _SURROGATE.search(text):
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    half = _SURROGATE.search(joined)
    if half is None:
        return joined
    problems.add_at(
        where,
        f"'\\u{ord(half.group(0)):04x}' is half of a UTF-16 surrogate pair, not a character; write the character itself",
    )
    return _SURROGATE.sub("\ufffd", joined)


def written(node: Node, limit: int = 60) -> str:
    """`node`'s value as it reads in YAML (a list or mapping in flow style, ``[a, b]``), cut to
    `limit` characters: what a mistake quotes, never Python's repr of a list, a mapping or nothing."""
    text = _flow(node.plain())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_flow, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def suggest(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(node: Node, allowed, problems: Problems, rule: str | None = None, what: str = "key") -> None:
    """Report every key of mapping `node` that is not in `allowed`, with a suggestion."""
    for key, child in node.value.items():
        if key not in allowed:
            problems.add(child, f"unknown {what} '{key}'{suggest(key, allowed)}", rule)


def type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
