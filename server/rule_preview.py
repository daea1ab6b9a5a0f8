"""The console's preview: a visitor's steps, written as in a rule test, replayed on the live rules.

The steps are parsed by :func:`server.rule_test_files.parse_steps` and run by
:func:`server.rule_tests.run`, the machinery of ``irasshai rules test``: a fresh in-memory
store and a fixed clock, so no real visitor, counter or coupon code is touched. What comes
back says, for each step, what it did and which rule the reply showed.

Pasted text is bounded: at most MAX_BYTES bytes and MAX_STEPS steps, and no YAML aliases
(``*name``), whose expansion could make a few kilobytes of text into millions of values.
Mistakes come back as ``preview:line:col: message`` lines, all of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import yaml

from server.config import Config
from server.rule_test_files import Step, parse_steps
from server.rule_tests import Outcome, run
from server.yamlsource import Problems, parse

MAX_BYTES = 16 * 1024
MAX_STEPS = 100
FILE = "preview"  # the name mistakes are reported under: preview:3:5: …
TEXT_CLIP = 80  # characters of a value shown in a step's description


@dataclass(frozen=True)
class PreviewStep:
    number: int
    line: int  # where the step starts in the pasted text
    sends: str  # page_view, event, set, signal or say
    does: str  # what it sends, in one line: "/pricing", "add_to_cart {price: 4800}"
    at: str  # when, on the preview's clock, in the site's timezone: "2026-03-02 11:00:05"
    shown: str | None  # the rule the reply showed, or None
    title: str  # the shown engagement's title (or chat text), "" if none
    expect: tuple[str, ...] | None  # what the step expected, if it said
    matched: bool | None  # the outcome equals `expect`; None when nothing was expected
    said: str  # a say step: the bot's verdict ("answer: shipping"); else ""
    error: str  # why the widget could not send this step; else ""


@dataclass(frozen=True)
class Preview:
    steps: tuple[PreviewStep, ...] = ()
    problems: tuple[str, ...] = ()  # preview:line:col: message, every one


async def preview(text: str, site_key: str, config: Config) -> Preview:
    """Run `text`'s steps on `config`'s rules of site `site_key` (which must exist)."""
    problems = Problems()
    size = len(text.encode())
    if size > MAX_BYTES:
        return Preview(problems=(f"{FILE}:1:1: the steps are {size} bytes long; the limit is {MAX_BYTES}",))
    if not text.strip():
        return Preview(problems=(f"{FILE}:1:1: nothing to run; write steps such as - page_view: /pricing",))
    alias = _first_alias(text)
    if alias is not None:
        return Preview(problems=(f"{FILE}:{alias[0]}:{alias[1]}: aliases (*name) are not allowed here; write it out",))
    root = parse(text, FILE, problems)
    if root is None:
        return Preview(problems=tuple(problems.lines()))
    steps_node = root.value.get("steps") if root.is_mapping() else root
    if steps_node is not None and steps_node.is_list() and len(steps_node.value) > MAX_STEPS:
        where = f"{steps_node.file}:{steps_node.line}:{steps_node.col}"
        count = len(steps_node.value)
        return Preview(problems=(f"{where}: {count} steps; a preview runs at most {MAX_STEPS}",))
    site = config.sites[site_key]
    test = parse_steps(root, site, config.rules[site_key], problems, config.faqs.get(site_key))
    if test is None:
        return Preview(problems=tuple(problems.lines()))
    # In a thread: the replay runs its own event loop (as `irasshai rules test` does), and the
    # server's loop keeps serving meanwhile.
    result = await asyncio.to_thread(run, test, config)
    return Preview(
        steps=tuple(
            _step(number, step, outcome, site.timezone)
            for number, (step, outcome) in enumerate(zip(test.steps, result.outcomes, strict=False), 1)
        )
    )


def _first_alias(text: str) -> tuple[int, int] | None:
    """(line, column) of the first alias in `text`; None when there is none (or the text does
    not scan: the parser then reports where)."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                return token.start_mark.line + 1, token.start_mark.column + 1
    except yaml.YAMLError:
        return None
    return None


def _step(number: int, step: Step, outcome: Outcome, timezone) -> PreviewStep:
    show = outcome.show or {}
    shown = show.get("rule")
    said = ""
    if outcome.said is not None:
        kind, *ids = outcome.said
        said = "understood: false" if kind == "none" else f"{kind}: {', '.join(ids)}"
    matched = None
    if step.expect is not None and step.sends != "say":
        matched = list(step.expect) == ([shown] if shown else [])
    return PreviewStep(
        number=number,
        line=int(step.where.rsplit(":", 2)[1]),
        sends=step.sends,
        does=_describe(step),
        at=datetime.fromtimestamp(outcome.at, timezone).strftime("%Y-%m-%d %H:%M:%S"),
        shown=shown,
        title=_clip(str(show.get("title") or show.get("text") or "")) if shown else "",
        expect=step.expect if step.sends != "say" else None,
        matched=matched,
        said=said,
        error=outcome.error or "",
    )


def _describe(step: Step) -> str:
    fields = step.fields
    if step.sends == "page_view":
        url = fields["url"]
        path = url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url.lstrip("/")
        return _clip("/" + path)
    if step.sends == "event":
        return _clip(f"{fields['name']} {_values(fields['properties'])}".strip())
    if step.sends == "set":
        return _clip(_values(fields["attributes"]))
    if step.sends == "signal":
        return _clip(", ".join(_signal(name, value) for name, value in fields["signals"].items()))
    return _clip(fields["text"])


def _values(values: dict) -> str:
    if not values:
        return ""
    return "{" + ", ".join(f"{name}: {value}" for name, value in values.items()) + "}"


def _signal(name: str, value: float) -> str:
    """As a test file writes it: exit_intent, scroll: 50%, time_on_page: 45s."""
    if name == "exit_intent":
        return name
    number = int(value) if float(value).is_integer() else value
    return f"{name}: {number}{'%' if name == 'scroll' else 's'}"


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_CLIP else text[: TEXT_CLIP - 1] + "…"
