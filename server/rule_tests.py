"""`irasshai rules test DIR`: every ``*.test.yaml`` of every site, run through the real event path.

Each test gets a fresh in-memory store and a fixed clock that only its steps move. Every
step becomes the batch the widget would send, decoded and handled by
:class:`~server.ingest.Ingest` exactly as a request is, so a test passes only if the
server, not a model of it, shows what the marketer expects. Control groups are off
(``holdouts=False``): a test shows what the visitors who are not held out see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import msgspec

from server.chat.bot import HANDOFF, FaqBot
from server.config import Config
from server.events import BadBatch, Event, Identify, PageView, SetAttributes, Signal, Track, decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest, Reply
from server.oneline import one_line
from server.rule_test_files import RuleTest, Step, find_test_files, parse_test_file
from server.settings import Settings
from server.signals import ON_PAGE
from server.store.memory import MemoryStore
from server.verified_identity import identity_hash
from server.yamlsource import Problems

# Visitor tokens are signed and verified as in production; nothing outside a test ever sees them.
SECRET = "irasshai-rule-tests"
IDENTITY_SECRET = "irasshai-rule-tests-identity"  # proves `visitor: {verified: true}` as a shop's server would
CUSTOMER = "rule-test-customer"


@dataclass(frozen=True)
class Outcome:
    """What one step did: when it happened, the engagement the reply showed (its `show`, texts
    rendered), the FAQ bot's verdict for a say step, or why the widget could not send it."""

    at: float  # seconds since the epoch, on the test's clock
    show: dict | None = None
    said: tuple[str, ...] | None = None
    error: str | None = None


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite its name

    test: RuleTest
    failures: list[str] = field(default_factory=list)  # one line per failed step
    outcomes: list[Outcome] = field(default_factory=list)  # one per step run, in order (the console's preview)

    @property
    def passed(self) -> bool:
        return not self.failures


def collect(rules_dir: Path, config: Config, problems: Problems) -> list[RuleTest]:
    """Every test of every site's test files, in site and file order; files with mistakes give none."""
    tests: list[RuleTest] = []
    for key in sorted(config.sites):
        folder = Path(rules_dir) / key
        for path in find_test_files(folder):
            tests += parse_test_file(path, config.sites[key], config.rules[key], problems, config.faqs.get(key))
    return tests


def run(test: RuleTest, config: Config) -> TestResult:
    return asyncio.run(_Visitor(test, config).run())


def run_tests(rules_dir: Path, config: Config, out: TextIO) -> int:
    """Print every problem and failed step, then `N passed, M failed`; 0 when all passed, else 1."""
    problems = Problems()
    tests = collect(rules_dir, config, problems)
    for line in problems.lines():
        print(line, file=out)
    passed = failed = 0
    for test in tests:
        result = run(test, config)
        for line in result.failures:
            print(one_line(line), file=out)  # a test's name may hold a line break
        passed += result.passed
        failed += not result.passed
    if problems:
        print(f"{len(problems)} problem(s) in test files; those files were not run", file=out)
    elif not tests:
        print(f"no tests found: add tests to {rules_dir}/<site>/*.test.yaml", file=out)
    print(f"{passed} passed, {failed} failed", file=out)
    return 0 if tests and not failed and not problems else 1


class _Visitor:
    """One test's visitor: its clock, its token, the page it is on and the signals reached there."""

    def __init__(self, test: RuleTest, config: Config):
        self.test = test
        self.site = config.sites[test.site]
        self.rules = config.rules[test.site]
        self.bot = FaqBot(self.site, config.faqs.get(test.site))
        self.now = test.start
        # The store (its TTLs) and the server share the test's clock.
        self.ingest = Ingest(
            MemoryStore(clock=self.clock),
            VisitorIds(SECRET),
            Settings().session_timeout,
            clock=self.clock,
            identity_secrets={self.site.key: IDENTITY_SECRET},
            holdouts=False,  # a rule with a holdout shows, as to the visitors not held out
        )
        self.token: str | None = None
        self.url = ""  # of the last page view
        self.opened = self.now  # when it was viewed
        self.reached: dict[str, float] = {}  # signals reached on that page
        self.sent = 0

    async def run(self) -> TestResult:
        result = TestResult(self.test)
        await self.ingest.coupons.seed({self.site.key: self.site})  # as the server does at start-up
        if self.test.verified:
            await self.send(
                [Identify(self.event_id(), self.millis(), CUSTOMER, hash=identity_hash(IDENTITY_SECRET, CUSTOMER))]
            )
        if self.test.attributes:
            await self.send([SetAttributes(self.event_id(), self.millis(), self.test.attributes)])
        for number, step in enumerate(self.test.steps, 1):
            self.now += step.at if step.at is not None else (1 if number > 1 else 0)
            label = f'{step.where}: test "{self.test.name}" step {number}'
            if step.sends == "say":
                got = self.said(step.fields["text"])
                result.outcomes.append(Outcome(self.now, said=got))
                if step.expect is not None and got != _said_expectation(step.expect):
                    result.failures.append(f"{label}: expected {_said(step.expect)}, got {_said(got)}")
                continue
            try:
                reply = await self.send(self.events(step))
            except BadBatch as error:
                result.failures.append(f"{label}: the widget could not send this step: {error}")
                result.outcomes.append(Outcome(self.now, error=str(error)))
                break
            result.outcomes.append(Outcome(self.now, show=reply.show))
            shown = [reply.show["rule"]] if reply.show else []
            if step.expect is not None and shown != list(step.expect):
                result.failures.append(f"{label}: expected {_ids(step.expect)}, got {_ids(shown)}")
        return result

    def said(self, text: str) -> tuple[str, ...]:
        """What the FAQ bot makes of `text`, in the terms a say step's expect uses."""
        verdict = self.bot.decide(text)
        ids = tuple(question.id for question in verdict.questions)
        if verdict.kind == HANDOFF:
            return ("answer", HANDOFF)
        if verdict.kind == "choices":
            return ("choices", *sorted(ids))
        return (verdict.kind, *ids)

    def events(self, step: Step) -> list[Event]:
        fields, ts = step.fields, self.millis()
        if step.sends == "page_view":
            self.url, self.reached, self.opened = fields["url"], {}, self.now
            return [PageView(self.event_id(), ts, fields["url"], referrer=fields["referrer"])]
        if step.sends == "event":
            return [Track(self.event_id(), ts, fields["name"], fields["properties"], url=self.url)]
        if step.sends == "set":
            return [SetAttributes(self.event_id(), ts, fields["attributes"])]
        self.reached.update(fields["signals"])
        # As on a real page, 15 s on it are reported 15 s after it opened at the earliest: the
        # server bounds such claims by its own clock (server.signals).
        waited = [value for name, value in fields["signals"].items() if name in ON_PAGE]
        if waited:
            self.now = max(self.now, self.opened + max(waited))
            ts = self.millis()
        return [
            Signal(self.event_id(), ts, name, self.url, value, dict(self.reached))
            for name, value in fields["signals"].items()
        ]

    async def send(self, events: list[Event]) -> Reply:
        """The batch as the widget posts it, decoded and handled as the event endpoint does."""
        body = msgspec.json.encode({"visitor": self.token, "events": events})
        batch, decoded = decode_batch(body)
        reply = await self.ingest.handle(self.site, self.rules, batch, decoded, self.test.facts)
        self.token = reply.visitor
        return reply

    def clock(self) -> float:
        return self.now

    def event_id(self) -> str:
        self.sent += 1
        return f"rule-test-{self.sent:06d}"

    def millis(self) -> int:
        return int(self.now * 1000)


def _said_expectation(expect: tuple[str, ...]) -> tuple[str, ...]:
    return ("choices", *sorted(expect[1:])) if expect[0] == "choices" else expect


def _said(got: tuple[str, ...]) -> str:
    """A verdict as a say step writes it: answer: shipping, choices: [a, b], understood: false."""
    if got[0] == "none":
        return "understood: false"
    if got[0] == "choices":
        return f"choices: {_ids(got[1:])}"
    return f"answer: {got[1]}"


def _ids(ids: Sequence[str]) -> str:
    return "[" + ", ".join(ids) + "]"
