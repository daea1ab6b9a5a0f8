"""Control groups (server/insights/holdout.py, server/engage.py): who is held out of a rule.

Assignment is stable per site, rule and visitor, and independent between rules; over 10,000
visitors a 20% holdout holds out 19-21% of them, through the real event path as well as the
function. 0% holds out nobody. The rule tests (`irasshai rules test`) run with holdouts off.
"""

from __future__ import annotations

import io
import zoneinfo
from datetime import datetime

import pytest

from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.insights.holdout import held_out
from server.rule_tests import run_tests
from server.store.memory import MemoryStore
from server.tracking import RequestFacts
from tests.helpers import SECRET, SHOP, batch, page_view, write_site

VISITORS = [f"visitor-{n:05d}" for n in range(10_000)]
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")).timestamp()


def test_a_20_percent_holdout_holds_out_19_to_21_percent_and_always_the_same_visitors():
    first = [held_out("shop", "cart-coupon", visitor, 0.2) for visitor in VISITORS]
    assert 0.19 <= sum(first) / len(VISITORS) <= 0.21
    assert [held_out("shop", "cart-coupon", visitor, 0.2) for visitor in VISITORS] == first


def test_groups_are_independent_between_rules_and_sites_and_grow_with_the_share():
    ten = {v for v in VISITORS if held_out("shop", "a", v, 0.1)}
    twenty = {v for v in VISITORS if held_out("shop", "a", v, 0.2)}
    assert ten < twenty  # raising the share keeps everyone already held out
    other_rule = {v for v in VISITORS if held_out("shop", "b", v, 0.2)}
    other_site = {v for v in VISITORS if held_out("shop2", "a", v, 0.2)}
    # Independent groups overlap by about 20% of 20%, i.e. 4% of the visitors (400), not 2,000.
    assert 300 < len(twenty & other_rule) < 500
    assert 300 < len(twenty & other_site) < 500
    assert not any(held_out("shop", "a", v, 0.0) for v in VISITORS)


@pytest.mark.anyio
async def test_over_10000_visitors_through_the_event_path_the_held_out_share_is_19_to_21_percent(tmp_path):
    """Each visitor views /pricing: every one is decided, a fifth held out, and again the same ones."""
    write_site(
        tmp_path,
        "shop",
        f"origins: [{SHOP}]\ntimezone: Asia/Tokyo\n",
        **{"rules.yaml": "rules:\n  - id: help\n    when: {page: /pricing}\n    show: {chat: hi}\n    holdout: 20%\n"},
    )
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    store = MemoryStore(clock=lambda: NOW)
    ingest = Ingest(store, ids, 1800, clock=lambda: NOW)
    control = set()
    for visitor in VISITORS:
        parsed, events = decode_batch(batch(page_view("/pricing", ts=NOW), visitor=ids.sign("shop", visitor)))
        reply = await ingest.handle(site, rules, parsed, events, RequestFacts(device="desktop"))
        if reply.show is None:
            control.add(visitor)
    day = (await store.read_counts("shop", ["2026-11-22"]))["2026-11-22"]["help"]
    assert day["decided"] == 10_000 and day["held_out"] == len(control)
    assert 0.19 <= len(control) / 10_000 <= 0.21
    assert control == {v for v in VISITORS if held_out("shop", "help", v, 0.2)}  # stable: the function's answer


def test_rule_tests_show_what_the_visitors_not_held_out_see(tmp_path):
    """A rule held out for 90% of visitors still shows in its rule test, for every visitor."""
    write_site(
        tmp_path,
        "shop",
        f"origins: [{SHOP}]\nholdout: 90%\n",
        **{
            "rules.yaml": "rules:\n  - id: help\n    when: {page: /pricing}\n    show: {chat: hi}\n",
            "help.test.yaml": "tests:\n"
            + "".join(
                f"  - name: visitor {n}\n    steps:\n      - {{page_view: /pricing, expect: [help]}}\n"
                for n in range(20)
            ),
        },
    )
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    out = io.StringIO()
    assert run_tests(tmp_path, config, out) == 0, out.getvalue()
    assert out.getvalue().strip().endswith("20 passed, 0 failed")
