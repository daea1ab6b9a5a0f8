"""The console's preview (server/rule_preview.py): pasted steps replayed on the live rules.

Contract: the steps are a list, or one test (visitor, start, steps); each step comes back with
what it sent, when on the preview's clock, and the rule the reply showed (with its title) or
none, and whether an `expect:` came true. Mistakes are `preview:line:col: …` lines, all of
them; more than MAX_STEPS steps, more than MAX_BYTES bytes or a YAML alias are refused before
anything runs.
"""

from __future__ import annotations

import asyncio

from server.config import load_config
from server.rule_preview import MAX_STEPS, preview
from tests.console.insights_helpers import HELP, PRICING
from tests.helpers import write_site


def run_preview(tmp_path, text: str):
    write_site(tmp_path, "shop", **{"pricing.yaml": PRICING, "help.yaml": HELP})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    return asyncio.run(preview(text, "shop", config))


def test_one_test_with_its_start_and_visitor(tmp_path):
    text = """\
start: "2026-05-01 09:30"
visitor: {device: mobile, cart_value: 5000}
steps:
  - page_view: {url: /cart, utm: {source: line}}
  - signal: {time_on_page: 30s}
    expect: [cart-help]
  - event: {name: add_to_cart, properties: {price: 4800}}
    expect: [cart-help]
"""
    result = run_preview(tmp_path, text)
    assert result.problems == ()
    first, second, third = result.steps
    assert (first.sends, first.does, first.at, first.shown) == (
        "page_view",
        "/cart?utm_source=line",
        "2026-05-01 09:30:00",
        None,
    )
    assert (second.does, second.at, second.shown, second.title, second.matched) == (
        "time_on_page: 30s",
        "2026-05-01 09:30:30",
        "cart-help",
        "お手伝いしましょうか？",
        True,
    )
    assert (third.does, third.shown, third.expect, third.matched) == (
        "add_to_cart {price: 4800}",
        None,
        ("cart-help",),
        False,
    )


def test_too_many_steps_are_refused_before_anything_runs(tmp_path):
    text = "steps:\n" + "  - page_view: /\n" * (MAX_STEPS + 1)
    assert run_preview(tmp_path, text).problems == (
        f"preview:1:1: {MAX_STEPS + 1} steps; a preview runs at most {MAX_STEPS}",
    )


def test_every_mistake_is_a_line(tmp_path):
    result = run_preview(tmp_path, "stepz: []\nvisitor: {device: phone}\n")
    assert result.problems == (
        "preview:1:1: unknown key 'stepz' (did you mean 'steps'?)",
        "preview:1:1: a test needs 'steps', e.g. steps: [{page_view: /pricing, expect: []}]",
        "preview:2:11: device 'phone' is not one of: mobile, tablet, desktop",
    )
    assert run_preview(tmp_path, "just text").problems == (
        "preview:1:1: write the steps as a list, e.g. - page_view: /pricing",
    )
    assert run_preview(tmp_path, "  \n").problems == (
        "preview:1:1: nothing to run; write steps such as - page_view: /pricing",
    )
