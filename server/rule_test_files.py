"""Rule test files (``rules/<site>/*.test.yaml``) parsed into :class:`RuleTest`, every mistake reported.

A test is one visitor's story on a fixed clock: a list of steps (a page view, a custom
event, attributes set, client signals), each optionally with the rule ids expected to show
at that step. A file with any mistake yields no tests, and every mistake comes back as
``path:line:col: test "name" step N: message``, all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlencode

from server.chat.bot import HANDOFF
from server.chat.faq import Faq
from server.devices import DEVICES
from server.durations import parse_duration
from server.events import SignalName
from server.names import UTM_KEYS, is_event_name, is_language_tag
from server.rules.engine import RuleSet
from server.scalars import read_duration, read_percent
from server.sites import Site
from server.tracking import RequestFacts
from server.yamlsource import Node, Problems, parse_file, suggest, type_name, written

TEST_KEYS = ("name", "visitor", "start", "steps")
SENDS = ("page_view", "event", "set", "signal", "say")  # what a step sends: it has exactly one of these keys
# What a `say` step may expect of the FAQ bot: the question it answers, the questions it offers,
# or `understood: false`. Hand-off requests are answered with `answer: handoff`.
SAY_EXPECTS = ("answer", "choices", "understood")
STEP_KEYS = ("at",) + SENDS + ("expect",)
SIGNALS = get_args(SignalName)
DEFAULT_START = datetime(2026, 3, 2, 10, 0)  # a Monday, 10:00 in the site's timezone
MAX_VALUES = 50  # attributes or properties per event, as server.events.Properties


@dataclass(frozen=True)
class Step:
    where: str  # file:line:col of the step
    sends: str  # one of SENDS
    fields: dict[str, Any]  # page_view: url, referrer; event: name, properties; set: attributes; signal: signals
    at: int | None = None  # seconds after the previous step; None: one second after it
    expect: tuple[str, ...] | None = None  # rule ids expected to show; None: not checked
    # say: ("answer", id), ("choices", id, …) or ("none",) expected of the FAQ bot


@dataclass(frozen=True)
class RuleTest:
    name: str
    site: str  # the site's key
    file: str  # the test file's path
    where: str  # file:line:col of the test
    start: float  # seconds since the epoch
    steps: tuple[Step, ...]
    facts: RequestFacts = RequestFacts()
    attributes: dict[str, Any] | None = None  # set before the first step
    verified: bool = False  # identified with a good hash before the first step (visitor: {verified: true})

    @property
    def id(self) -> str:
        return f"{self.site}/{Path(self.file).name}::{self.name}"


def find_test_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith((".test.yaml", ".test.yml")) and p.is_file())


def parse_test_file(
    path: Path, site: Site, rules: RuleSet, problems: Problems, faq: Faq | None = None
) -> list[RuleTest]:
    """The tests in `path`, or none if it holds any mistake (all reported into `problems`)."""
    before = len(problems)
    root = parse_file(path, problems)
    if root is None or root.value is None:
        return []
    if not root.is_mapping() or "tests" not in root.value:
        problems.add(root, "a test file holds 'tests:', a list of tests")
        return []
    parser = _Parser(problems, site, rules, str(path), faq)
    parser.check_keys(root, ("tests",))
    items = root.value["tests"]
    if not items.is_list() or not items.value:
        problems.add(items, "'tests' must be a list of tests, each with a name and steps")
        return []
    tests = [parser.test(item) for item in items.value]
    return [t for t in tests if t is not None] if len(problems) == before else []


def parse_steps(root: Node, site: Site, rules: RuleSet, problems: Problems, faq: Faq | None = None) -> RuleTest | None:
    """One visitor's steps for the console's preview: `root` is a list of steps, or one test (a
    mapping with steps and, optionally, name, visitor and start). None if it holds any mistake."""
    parser = _Parser(problems, site, rules, root.file, faq)
    before = len(problems)
    visitor = start = None
    steps_node: Node | None = root
    if root.is_mapping():
        parser.check_keys(root, TEST_KEYS)
        steps_node, visitor, start = (root.value.get(key) for key in ("steps", "visitor", "start"))
    elif not root.is_list():
        problems.add(root, "write the steps as a list, e.g. - page_view: /pricing")
        return None
    facts, attributes, verified = parser.visitor(visitor)
    at = parser.start(start)
    steps = parser.steps(steps_node, root)
    if at is None or steps is None or len(problems) > before:
        return None
    return RuleTest("preview", site.key, root.file, root.where, at, steps, facts, attributes, verified)


class _Parser:
    def __init__(self, problems: Problems, site: Site, rules: RuleSet, file: str, faq: Faq | None = None):
        self.problems, self.site, self.rules, self.file, self.faq = problems, site, rules, file, faq
        self.origin = min(site.origins) if site.origins else "https://shop.example"
        self.names: dict[str, str] = {}  # test name -> where it was first defined
        self.name: str | None = None  # of the test being parsed, and the step: they prefix every message
        self.step_number: int | None = None

    def error(self, node: Node, message: str) -> None:
        label = [f'test "{self.name}"'] if self.name else []
        if self.step_number:
            label.append(f"step {self.step_number}")
        self.problems.add(node, f"{' '.join(label)}: {message}" if label else message)

    def check_keys(self, node: Node, allowed: tuple[str, ...], what: str = "key") -> int:
        unknown = [key for key in node.value if key not in allowed]
        for key in unknown:
            self.error(node.value[key], f"unknown {what} '{key}'{suggest(key, allowed)}")
        return len(unknown)

    def test(self, node: Node) -> RuleTest | None:
        self.name = self.step_number = None
        if not node.is_mapping():
            self.error(node, f"each test must be a mapping with name and steps, not {type_name(node.value)}")
            return None
        name_node = node.value.get("name")
        name = name_node.value if name_node is not None else None
        if name_node is None:
            self.error(node, "a test needs a 'name', e.g. name: coupon on the second pricing view")
        elif not isinstance(name, str) or not name.strip():
            self.error(name_node, f"a test's name must be text, not {type_name(name)}")
        elif name in self.names:
            self.error(name_node, f'duplicate test name "{name}" (first defined at {self.names[name]})')
        else:
            self.names[name] = name_node.where
        self.name = name if isinstance(name, str) else None
        self.check_keys(node, TEST_KEYS)
        facts, attributes, verified = self.visitor(node.value.get("visitor"))
        start = self.start(node.value.get("start"))
        steps = self.steps(node.value.get("steps"), node)
        if not isinstance(name, str) or start is None or steps is None:
            return None
        return RuleTest(
            name=name,
            site=self.site.key,
            file=self.file,
            where=node.where,
            start=start,
            steps=steps,
            facts=facts,
            attributes=attributes,
            verified=verified,
        )

    def visitor(self, node: Node | None) -> tuple[RequestFacts, dict[str, Any] | None, bool]:
        """`language` and `device` are what the request says, `verified` whether the shop proved who
        the visitor is; every other key is an attribute."""
        language, device, verified = self.site.language, "desktop", False  # a desktop browser in the site's language
        if node is None:
            return RequestFacts(device, language), None, verified
        if not node.is_mapping():
            self.error(
                node, f"visitor takes a mapping such as {{language: ja, device: mobile}}, not {type_name(node.value)}"
            )
            return RequestFacts(device, language), None, verified
        entries = dict(node.value)
        if "verified" in entries:
            item = entries.pop("verified")
            if isinstance(item.value, bool):
                verified = item.value
            else:
                self.error(item, f"verified takes true or false, not {type_name(item.value)}")
        if "language" in entries:
            item = entries.pop("language")
            if is_language_tag(item.value):
                language = item.value.lower()
            else:
                self.error(item, f"'{written(item)}' is not a language tag such as ja or en-US")
        if "device" in entries:
            item = entries.pop("device")
            if item.value in DEVICES:
                device = item.value
            else:
                self.error(item, f"device '{written(item)}' is not one of: {', '.join(DEVICES)}")
        return RequestFacts(device, language), self.values(entries, node, "visitor") if entries else None, verified

    def start(self, node: Node | None) -> float | None:
        """Seconds since the epoch; a date-time without an offset is in the site's timezone."""
        value = DEFAULT_START if node is None else node.value
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            try:
                value = datetime.fromisoformat(written(node, limit=100))
            except ValueError:
                self.error(
                    node,
                    f"start '{written(node)}' is not a date-time; write e.g. \"2026-03-02 10:00\" (in the site's timezone)",
                )
                return None
        return (value if value.tzinfo else value.replace(tzinfo=self.site.timezone)).timestamp()

    def steps(self, node: Node | None, test: Node) -> tuple[Step, ...] | None:
        if node is None:
            self.error(test, "a test needs 'steps', e.g. steps: [{page_view: /pricing, expect: []}]")
            return None
        if not node.is_list() or not node.value:
            self.error(node, "'steps' must be a list of steps, e.g. [{page_view: /pricing, expect: []}]")
            return None
        steps, after_page_view = [], False
        for number, item in enumerate(node.value, 1):
            self.step_number = number
            steps.append(self.step(item, after_page_view))
            after_page_view = after_page_view or (item.is_mapping() and "page_view" in item.value)
        self.step_number = None
        return None if None in steps else tuple(steps)

    def step(self, node: Node, after_page_view: bool) -> Step | None:
        if not node.is_mapping():
            self.error(
                node, f"a step is a mapping such as {{page_view: /pricing, expect: []}}, not {type_name(node.value)}"
            )
            return None
        unknown = self.check_keys(node, STEP_KEYS)
        sends = [key for key in SENDS if key in node.value]
        if len(sends) > 1:
            self.error(
                node.value[sends[1]],
                f"a step does one thing, but this one has {' and '.join(sends)}; split it in steps",
            )
        elif not sends and not unknown:
            self.error(node, f"a step needs one of: {', '.join(SENDS)}")
        elif sends == ["signal"] and not after_page_view:
            self.error(node.value["signal"], "signals come from a page: put a page_view step before this one")
        at = self.at(node.value.get("at"))
        if "expect" not in node.value:
            expect = None
        elif sends == ["say"]:
            expect = self.say_expect(node.value["expect"])
        else:
            expect = self.expect(node.value["expect"])
        fields = getattr(self, sends[0])(node.value[sends[0]]) if len(sends) == 1 else None
        if fields is None or at is False or expect is False:
            return None
        return Step(node.where, sends[0], fields, at, expect)

    def at(self, node: Node | None) -> int | None | bool:
        if node is None:
            return None
        if not isinstance(node.value, str) or not node.value.startswith("+"):
            self.error(
                node,
                f"at takes the time since the previous step, written with '+', e.g. +30s, +10m, +2h, +7d; not '{written(node)}'",
            )
            return False
        try:
            return parse_duration(node.value[1:])
        except ValueError as error:
            self.error(node, str(error))
            return False

    def expect(self, node: Node) -> tuple[str, ...] | bool:
        items = node.value if node.is_list() else [node]
        ids = tuple(item.value for item in items)
        ok = True
        for item in items:
            if not isinstance(item.value, str):
                self.error(item, f"expect takes a list of rule ids ([] for none), not {type_name(item.value)}")
                ok = False
            elif item.value not in self.rules.by_id:
                self.error(
                    item,
                    f"unknown rule id '{item.value}'{suggest(item.value, self.rules.by_id)};"
                    " a rule with enabled: false never shows, so it cannot be expected",
                )
                ok = False
        if len(ids) > 1:
            self.error(node, "at most one engagement shows at a time; expect one rule id, or [] for none")
            ok = False
        return ids if ok else False

    def say(self, node: Node) -> dict[str, Any] | None:
        """What the visitor types to the FAQ bot (rules/<site>/faq.yaml)."""
        if self.faq is None:
            self.error(node, f"a say step talks to the FAQ bot, but site '{self.site.key}' has no faq.yaml")
            return None
        if not isinstance(node.value, str) or not node.value.strip():
            self.error(node, f"say takes the visitor's text, e.g. say: 送料はいくら?; not {type_name(node.value)}")
            return None
        return {"text": node.value}

    def say_expect(self, node: Node) -> tuple[str, ...] | bool:
        hint = "e.g. expect: {answer: shipping}, {choices: [shipping, returns]} or {understood: false}"
        if not node.is_mapping() or len(node.value) != 1:
            self.error(node, f"a say step expects one of {', '.join(SAY_EXPECTS)}, {hint}")
            return False
        if self.check_keys(node, SAY_EXPECTS, what="expectation"):
            return False
        (kind, child), known = next(iter(node.value.items())), self.faq.by_id if self.faq else {}
        if kind == "understood":
            if child.value is not False:
                self.error(
                    child, "understood takes false (the bot did not understand); to expect an answer, use answer: ID"
                )
                return False
            return ("none",)
        items = child.value if child.is_list() else [child]
        if kind == "answer" and child.is_list():
            self.error(child, f"answer takes one question id, {hint}")
            return False
        if kind == "choices" and not 1 <= len(items) <= 3:
            self.error(child, "choices lists the 1 to 3 question ids the bot offers (not handoff, always offered)")
            return False
        ok = True
        for item in items:
            if (
                not isinstance(item.value, str)
                or item.value not in known
                and not (kind == "answer" and item.value == HANDOFF)
            ):
                self.error(item, f"unknown question id '{written(item)}'{suggest(written(item), known)} in faq.yaml")
                ok = False
        return (kind, *(item.value for item in items)) if ok else False

    def page_view(self, node: Node) -> dict[str, Any] | None:
        url_node, referrer, utm = node, None, None
        if node.is_mapping():
            self.check_keys(node, ("url", "referrer", "utm"))
            url_node, referrer, utm = (node.value.get(key) for key in ("url", "referrer", "utm"))
            if url_node is None:
                self.error(node, "page_view needs 'url', e.g. {url: /pricing, referrer: 'https://www.google.com/'}")
                return None
        url = url_node.value
        if not isinstance(url, str) or not url.startswith(("/", "http://", "https://")):
            self.error(url_node, f"page_view takes a path such as /pricing or a full URL, not '{written(url_node)}'")
            return None
        if url.startswith("/"):
            url = self.origin + url
        if referrer is not None and not isinstance(referrer.value, str):
            self.error(referrer, f"referrer must be a URL, not {type_name(referrer.value)}")
            return None
        if utm is not None:
            query = self.utm(utm)
            if query is None:
                return None
            url += ("&" if "?" in url else "?") + query
        return {"url": url, "referrer": referrer.value if referrer is not None else ""}

    def utm(self, node: Node) -> str | None:
        if not node.is_mapping() or not node.value:
            self.error(node, "utm takes a mapping such as {source: line, medium: social, campaign: spring}")
            return None
        if self.check_keys(node, UTM_KEYS):
            return None
        return urlencode({f"utm_{key}": str(child.value) for key, child in node.value.items()})

    def event(self, node: Node) -> dict[str, Any] | None:
        name_node, properties = node, None
        if node.is_mapping():
            self.check_keys(node, ("name", "properties"))
            name_node, properties = node.value.get("name"), node.value.get("properties")
            if name_node is None:
                self.error(node, "event needs 'name', e.g. {name: add_to_cart, properties: {price: 4800}}")
                return None
        if not is_event_name(name_node.value):
            self.error(name_node, f"'{written(name_node)}' is not an event name (letters, digits, '_', '.', ':', '-')")
            return None
        values = {} if properties is None else self.values(properties.value, properties, "properties")
        return None if values is None else {"name": name_node.value, "properties": values}

    def set(self, node: Node) -> dict[str, Any] | None:
        attributes = self.values(node.value, node, "set")
        return None if attributes is None else {"attributes": attributes}

    def values(self, entries: Any, node: Node, key: str) -> dict[str, Any] | None:
        """Attributes or properties: names mapped to text, numbers, true/false, null or lists of those."""
        if not isinstance(entries, dict) or not entries:
            self.error(node, f"{key} takes a mapping of names to values, e.g. {{cart_value: 5000}}")
            return None
        ok = len(entries) <= MAX_VALUES
        if not ok:
            self.error(node, f"{key} has {len(entries)} values; the limit is {MAX_VALUES}")
        for name, child in entries.items():
            value = child.plain()
            if not is_event_name(name):
                self.error(child, f"'{name}' is not a valid name (letters, digits, '_', '.', ':', '-')")
                ok = False
            elif not _scalar(value) and not (isinstance(value, list) and all(_scalar(v) for v in value)):
                self.error(
                    child,
                    f"'{name}' must be text, a number, true/false, null or a list of those, not {type_name(value)}",
                )
                ok = False
        return {name: child.plain() for name, child in entries.items()} if ok else None

    def signal(self, node: Node) -> dict[str, Any] | None:
        if not node.is_mapping() or not node.value:
            self.error(node, "signal takes a mapping such as {time_on_page: 45s}, {scroll: 50%} or {exit_intent: true}")
            return None
        if self.check_keys(node, SIGNALS, what="signal"):
            return None
        signals = {name: self.signal_value(name, child) for name, child in node.value.items()}
        return None if None in signals.values() else {"signals": signals}

    def signal_value(self, name: str, node: Node) -> float | None:
        value = node.value
        if name == "exit_intent":
            if value is not True:
                self.error(node, "exit_intent takes true")
                return None
            return 1.0
        if name == "scroll":
            return read_percent(node, self.error, "scroll")
        seconds = read_duration(node, self.error, name=name)
        return None if seconds is None else float(seconds)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
