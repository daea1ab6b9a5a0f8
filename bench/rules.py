"""Rules: the time to evaluate one event against 10, 100 and 1,000 rules, and the same rules in a peer.

The visitor's state is already loaded (as in the server, after the batch was applied):
states are built by replaying realistic journeys of several sessions over two weeks
through server.tracking.apply. Each event of the last batch is one case, timed alone with
time.perf_counter_ns:

- decide:   RuleSet.decide(state, [trigger], …), what every page view and custom event costs;
- watch:    RuleSet.watch(state, path, …), which page views also cost;
- evaluate: both, as the server runs them for one event (the figure held against the target).

The sizes are timed in interleaved blocks, and beside the median and p99 of all timings each
size reports the median over events of each event's fastest time ("least disturbed"), which
other work on a shared machine hardly moves.

The peer is the `rule-engine` package with the same conditions (bench/peer.py) on the same
facts, evaluated the way its users would: every rule in priority order until one matches.
Flattening the state into its facts dict is not timed (to the peer's advantage).
"""

from __future__ import annotations

import gc
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import peer
from bench.synthetic import synthetic_rules, synthetic_site
from bench.visitors import DEVICES, journey, with_ids
from server.config import load_config
from server.engage import triggers_of
from server.events import Event, PageView, SetAttributes, Track
from server.rules.engine import RuleSet, Trigger
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState

SESSION_TIMEOUT = 1800
# "Now" for the cases: weekdays and a weekend, in and out of business hours, in and out of a dated campaign.
NOWS = [
    datetime(2026, 12, day, hour, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
    for day, hour in ((2, 10), (3, 15), (4, 20), (5, 11), (26, 9), (28, 23))
]
_KINDS = {"page_view": PageView, "track": Track, "set": SetAttributes}


@dataclass
class Case:
    state: VisitorState
    trigger: Trigger
    now: float
    visitor_id: str


def _events(batch: list[dict], prefix: str, ts: float) -> list[Event]:
    return [_KINDS[e.pop("type")](**e) for e in with_ids(batch, prefix, int(ts * 1000), "x")]


def build_cases(visitors: int) -> list[Case]:
    """Each visitor: 1 to 4 earlier sessions over two weeks, then a last batch now; one case per trigger."""
    cases = []
    for number in range(visitors):
        sessions = 1 + number % 4
        per_session = 2 + number % 6
        person = journey(number, sessions * per_session + 1, seed=11)
        now = NOWS[number % len(NOWS)]
        state, facts = VisitorState(), RequestFacts(device=DEVICES[person.user_agent], language=person.language.lower())
        for step, batch in enumerate(person.batches[:-1]):
            session = step // per_session
            ts = now - (sessions - session) * 3 * 86400 + (step % per_session) * 40
            apply(state, _events([dict(e) for e in batch], f"h{number}s{step}", ts), ts, facts, SESSION_TIMEOUT)
        last = apply(
            state, _events([dict(e) for e in person.batches[-1]], f"n{number}", now), now, facts, SESSION_TIMEOUT
        )
        for trigger in triggers_of(last.new):
            cases.append(Case(state, trigger, now, f"bench-visitor-{number:06d}"))
    return cases


def _timed(function, cases: list[Case], calls: int, best: list[float]) -> list[int]:
    """`calls` timings going round `cases`; `best` keeps each case's fastest (least disturbed) time."""
    samples, clock = [], time.perf_counter_ns
    for index in range(calls):
        case = cases[index % len(cases)]
        start = clock()
        function(case)
        elapsed = clock() - start
        samples.append(elapsed)
        best[index % len(cases)] = min(best[index % len(cases)], elapsed)
    return samples


def _summary(samples: list[int], best: list[float] | None = None) -> dict:
    ordered = sorted(samples)
    summary = {
        "median_us": statistics.median(ordered) / 1000,
        "mean_us": sum(ordered) / len(ordered) / 1000,
        "p99_us": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000,
        "calls": len(ordered),
    }
    timed = [b for b in best or () if b != math.inf]
    if timed:
        summary["best_median_us"] = statistics.median(timed) / 1000  # other work on the machine hardly moves it
    return summary


def compiled(size: int) -> RuleSet:
    """`size` synthetic rules, through Irasshai's own loader and compiler."""
    with tempfile.TemporaryDirectory(prefix="irasshai-bench-rules-") as folder:
        synthetic_site(Path(folder), size)
        config, problems = load_config(folder)
        if config is None:
            raise RuntimeError("synthetic rules do not compile:\n" + "\n".join(problems.lines()))
    return config.rules["bench"]


def profile_decide(size: int, cases: list[Case], passes: int = 5) -> list[tuple[str, float]]:
    """The functions decide() spends its own time in (cProfile), as shares of the total."""
    import cProfile
    import pstats

    rules = compiled(size)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(passes):
        for case in cases:
            rules.decide(case.state, [case.trigger], case.now, case.visitor_id)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values()) or 1
    ranked = sorted(stats.items(), key=lambda item: -item[1][2])[:8]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return [
        (f"{_qualname(file, line, name)} ({file.replace(root, '')}:{line})", entry[2] / total)
        for (file, line, name), entry in ranked
    ]


def _qualname(file: str, line: int, name: str) -> str:
    """`Class.method` for a method defined at `file`:`line` (cProfile names the function only)."""
    try:
        source = Path(file).read_text(encoding="utf-8").splitlines()[:line]
    except (OSError, UnicodeDecodeError):
        return name
    if not source or not source[-1].startswith((" ", "\t")):
        return name
    owner = next(
        (text.split()[1].split("(")[0].rstrip(":") for text in reversed(source) if text.startswith("class ")), None
    )
    return f"{owner}.{name}" if owner else name


class Ours:
    """Irasshai's RuleSet of `size` synthetic rules, and the three timed calls on one event."""

    def __init__(self, size: int, cases: list[Case]):
        self.rules = compiled(size)
        self.cases = cases
        self.page_views = [c for c in cases if c.trigger.cause == "page_view"]
        self.samples: dict[str, list[int]] = {"decide": [], "watch": [], "evaluate": []}
        self.best = {
            "decide": [math.inf] * len(cases),
            "watch": [math.inf] * len(self.page_views),
            "evaluate": [math.inf] * len(cases),
        }
        self.kinds: list[str] = []  # the kind of event ("page_view", "track") of each evaluate sample

    def decide(self, case: Case):
        return self.rules.decide(case.state, [case.trigger], case.now, case.visitor_id)

    def watch(self, case: Case):
        return self.rules.watch(case.state, case.trigger.path, case.now, case.visitor_id)

    def evaluate(self, case: Case):
        self.decide(case)
        if case.trigger.cause == "page_view":
            self.watch(case)

    def time(self, calls: int) -> None:
        for name, cases in (("decide", self.cases), ("watch", self.page_views), ("evaluate", self.cases)):
            self.samples[name] += _timed(getattr(self, name), cases, calls, self.best[name])
        # _timed goes round the cases from the first: sample i of this block is case i mod len(cases)'s.
        self.kinds += [self.cases[index % len(self.cases)].trigger.cause for index in range(calls)]

    def summary(self) -> dict:
        found = {
            "rules": len(self.rules),
            **{name: _summary(self.samples[name], self.best[name]) for name in self.samples},
        }
        found["best_by_kind"] = {
            kind: statistics.median(
                best for case, best in zip(self.cases, self.best["evaluate"], strict=True) if case.trigger.cause == kind
            )
            / 1000
            for kind in ("page_view", "track")
            if any(c.trigger.cause == kind for c in self.cases)
        }
        # The median of all decide + watch timings of each kind of event (the target is on these).
        found["median_by_kind"] = {
            kind: statistics.median(
                sample for sample, cause in zip(self.samples["evaluate"], self.kinds, strict=True) if cause == kind
            )
            / 1000
            for kind in ("page_view", "track")
            if kind in self.kinds
        }
        return found


def peer_timing(size: int, ours: Ours, cases: list[Case], calls: int, seconds: float) -> dict:
    """The same rules in rule-engine, on the same events: timings and how often both decide alike."""
    import rule_engine

    context = rule_engine.Context(default_value=None)
    ordered = sorted(synthetic_rules(size), key=lambda r: -r["priority"])  # stable: file order breaks ties
    peer_rules = [(r["id"], rule_engine.Rule(peer.expression(r), context=context)) for r in ordered]
    facts = [peer.facts(c.state, c.trigger, c.now, ours.rules.site, c.visitor_id) for c in cases]

    def peer_decide(index: int):
        thing = facts[index]
        for rule_id, rule in peer_rules:
            if rule.matches(thing):
                return rule_id
        return None

    def decided(case: Case) -> str | None:
        found = ours.decide(case)
        return None if found is None else found[0].id

    agree = sum(1 for index, case in enumerate(cases) if peer_decide(index) == decided(case))
    trial = time.perf_counter()
    for index in range(min(20, len(cases))):
        peer_decide(index)
    each = (time.perf_counter() - trial) / min(20, len(cases))
    peer_calls = max(20, min(calls, math.ceil(seconds / max(each, 1e-9))))
    samples, clock = [], time.perf_counter_ns
    for number in range(peer_calls):
        index = number * len(cases) // peer_calls if peer_calls < len(cases) else number % len(cases)  # spread over all
        start = clock()
        peer_decide(index)
        samples.append(clock() - start)
    return {**_summary(samples), "agreement": agree / len(cases)}


def run(
    sizes: tuple[int, ...], visitors: int, calls: int, peer_seconds: float, say, profile: bool = False, blocks: int = 4
) -> dict:
    """Every size, timed in `blocks` interleaved blocks (10, 100, 1000, 10, 100, …) so that a busy
    moment of the machine does not land on one size only; then the peer, size by size."""
    cases = build_cases(visitors)
    kinds = {kind: sum(1 for c in cases if c.trigger.cause == kind) for kind in ("page_view", "track")}
    say(
        f"rules: {len(cases)} events from {visitors} visitors ({kinds['page_view']} page views, {kinds['track']} custom events)"
    )
    clock = time.perf_counter_ns
    overhead = min(second - first for first, second in ((clock(), clock()) for _ in range(1000))) / 1000
    results = {"cases": len(cases), "kinds": kinds, "timer_overhead_us": overhead, "sizes": {}}
    ours = {size: Ours(size, cases) for size in sizes}
    for engine in ours.values():
        for case in cases:  # warm the per-path caches, as a running server has them
            engine.evaluate(case)
    gc.collect()
    for _ in range(blocks):
        for engine in ours.values():
            engine.time(max(1, calls // blocks))
    for size, engine in ours.items():
        found = engine.summary()
        found["peer"] = peer_timing(size, engine, cases, calls, peer_seconds)
        found["agreement"] = found["peer"].pop("agreement")
        found["ratio"] = found["peer"]["median_us"] / found["decide"]["median_us"]
        results["sizes"][size] = found
        say(
            f"  {size} rules: decide median {found['decide']['median_us']:.1f} µs, p99 {found['decide']['p99_us']:.1f} µs; "
            f"evaluate median {found['evaluate']['median_us']:.1f} µs; peer median {found['peer']['median_us']:.0f} µs "
            f"(x{found['ratio']:.0f}); same decision on {found['agreement']:.1%} of events"
        )
    if profile:
        results["profile"] = {"rules": max(sizes), "top": profile_decide(max(sizes), cases)}
    return results
