"""The property index of custom events (server/rules/event_index.py) never changes what is decided.

A custom event is matched only against the rules whose `properties:` tests can hold on its
properties. Here generated rule sets and events are decided twice, by the indexed RuleSet
and by one that tests every rule naming the event in full, and every decision, and the
whole order in which rules would be offered, must be the same. A table of tricky values
(true is not 1, 1 is 1.0, lists, absent properties) is checked on its own too.
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from server.config import load_config
from server.events import Track
from server.rules.engine import RuleSet, Trigger
from server.tracking import RequestFacts, apply
from server.visitor import VisitorState
from tests.helpers import SHOP, write_site

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
SITE = f"""\
origins: [{SHOP}]
timezone: Asia/Tokyo
engagement_gap: 0s
"""
EVENTS = ("view_product", "add_to_cart", "purchase")
KEYS = ("category", "price", "size", "sale")
VALUES = ("tops", "bottoms", "1", "", 0, 1, 1.0, 2, 8000, 12000, 2.5, True, False, None)
_ids = itertools.count()


def _value_test(rng: random.Random):
    roll = rng.randrange(10)
    value = rng.choice(VALUES)
    if roll < 4:
        return value  # equality
    if roll == 4:
        return rng.sample(VALUES, rng.randint(1, 3))  # in
    if roll == 5:
        return {"eq": value, "exists": True} if rng.random() < 0.5 else {"eq": value, "ne": rng.choice(VALUES)}
    if roll == 6:
        return {rng.choice(("gt", "gte", "lt", "lte")): rng.choice((1, 2.5, 8000, 12000, "m", "tops"))}
    if roll == 7:
        return {"ne": value}
    if roll == 8:
        return {"exists": rng.random() < 0.5} if rng.random() < 0.7 else {"eq": value, "exists": False}
    return {"contains": rng.choice(("o", "tops", 1))}


def _properties(rng: random.Random) -> dict:
    return {key: _value_test(rng) for key in rng.sample(KEYS, rng.randint(1, 2))}


def _when(rng: random.Random) -> dict:
    roll = rng.randrange(8)
    event = rng.choice(EVENTS) if rng.random() < 0.8 else rng.sample(EVENTS, 2)
    if roll == 0:
        return {"event": event}
    if roll == 1:  # properties under all:, beside the event
        return {"event": event, "all": [{"properties": _properties(rng)}, {"page": rng.choice(("/", "/cart*"))}]}
    if roll == 2:  # an event under any: runs on every custom event
        return {"any": [{"event": event, "properties": _properties(rng)}, {"page": "/sale"}]}
    if roll == 3:
        return {"event": event, "properties": _properties(rng), "not": {"properties": _properties(rng)}}
    if roll == 4:  # counts the visitor's recent events, as many rules do
        return {
            "event": event,
            "properties": _properties(rng),
            "events": {"name": rng.choice(EVENTS), "where": _properties(rng), "at_least": rng.randint(0, 2)},
        }
    return {"event": event, "properties": _properties(rng)}


def _rules(rng: random.Random, count: int) -> str:
    rules = [
        {"id": f"r{number}", "priority": rng.randint(0, 3), "when": _when(rng), "show": {"chat": "hi"}}
        for number in range(count)
    ]
    return yaml.safe_dump({"rules": rules}, sort_keys=False)


def _event_properties(rng: random.Random) -> dict:
    found = {}
    for key in KEYS:
        roll = rng.random()
        if roll < 0.7:
            found[key] = rng.choice(VALUES)
        elif roll < 0.8:
            found[key] = rng.sample(["tops", "bottoms", 1, True], 2)  # a list of scalars
    return found


def _compiled(tmp_path, text: str) -> tuple[RuleSet, RuleSet]:
    write_site(tmp_path, "shop", SITE, **{"rules.yaml": text})
    config, problems = load_config(tmp_path)
    assert config is not None, problems.lines()
    indexed = config.rules["shop"]
    return indexed, RuleSet(indexed.site, indexed.rules, index_properties=False)


def _order(rules: RuleSet, state: VisitorState, triggers: list[Trigger]) -> list[str]:
    """Every rule the batch would show, best first: what is decided, then again without it, …"""
    shown: list[str] = []
    while (best := rules.decide(state, triggers, NOW, "visitor-1", frozenset(shown))) is not None:
        shown.append(best[0].id)
    return shown


def _visitor(rng: random.Random) -> VisitorState:
    """A visitor with a few custom events in its history, for the rules that count them."""
    state = VisitorState()
    history = [
        Track(
            id=f"index-{next(_ids):08d}",
            ts=int((NOW - 3600) * 1000),
            name=rng.choice(EVENTS),
            properties={k: v for k, v in _event_properties(rng).items() if not isinstance(v, list)},
            url=SHOP + "/",
        )
        for _ in range(rng.randint(0, 4))
    ]
    apply(state, history, NOW - 3600, RequestFacts("desktop", "ja"), 1800)
    return state


@pytest.mark.parametrize("seed", range(12))
def test_the_index_decides_as_testing_every_rule_does(tmp_path, seed):
    rng = random.Random(seed)
    indexed, every = _compiled(tmp_path, _rules(rng, 40))
    decided = 0
    for _ in range(60):
        state = _visitor(rng)
        triggers = [
            Trigger("track", rng.choice(("/", "/cart", "/sale")), rng.choice(EVENTS), _event_properties(rng))
            for _ in range(rng.randint(1, 3))
        ]
        expected = _order(every, state, triggers)
        assert _order(indexed, state, triggers) == expected, (triggers, expected)
        decided += bool(expected)
    assert decided > 10  # the generated rules do fire: the comparison is not of empty answers


def test_the_index_matches_values_as_the_rules_compare_them(tmp_path):
    text = """\
    rules:
      - {id: one, when: {event: e, properties: {n: 1}}, show: {chat: a}}
      - {id: is-true, when: {event: e, properties: {n: true}}, show: {chat: a}}
      - {id: tops-or-two, when: {event: e, properties: {n: {in: [tops, 2]}}}, show: {chat: a}}
      - {id: not-one, when: {event: e, properties: {n: {ne: 1}}}, show: {chat: a}}
      - {id: big, when: {event: e, properties: {n: {gte: 2}}}, show: {chat: a}}
      - {id: absent, when: {event: e, properties: {n: {exists: false}}}, show: {chat: a}}
      - {id: never, when: {event: e, properties: {n: {eq: 2, gte: 3}}}, show: {chat: a}}
    """
    indexed, every = _compiled(tmp_path, text)
    table = [
        ({"n": 1}, ["one"]),
        ({"n": 1.0}, ["one"]),
        ({"n": True}, ["is-true", "not-one"]),
        ({"n": "tops"}, ["tops-or-two", "not-one"]),
        ({"n": 2}, ["tops-or-two", "not-one", "big"]),
        ({"n": [1]}, ["not-one"]),
        ({}, ["not-one", "absent"]),
    ]
    for properties, shown in table:
        trigger = Trigger("track", "/", "e", properties)
        assert _order(indexed, VisitorState(), [trigger]) == shown, properties
        assert _order(every, VisitorState(), [trigger]) == shown, properties


def test_a_custom_event_is_tested_only_against_rules_its_properties_can_match(tmp_path):
    text = """\
    rules:
      - {id: tops, when: {event: view_product, properties: {category: tops}}, show: {chat: a}}
      - {id: bottoms, when: {event: view_product, properties: {category: bottoms}}, show: {chat: a}}
      - {id: pricey, when: {event: view_product, properties: {price: {gte: 8000}}}, show: {chat: a}}
      - {id: any-view, when: {event: view_product}, show: {chat: a}}
    """
    indexed, _ = _compiled(tmp_path, text)
    candidates = indexed.candidates_for(Trigger("track", "/", "view_product", {"category": "tops", "price": 500}))
    assert [rule.id for rule in candidates] == ["tops", "any-view"]
    candidates = indexed.candidates_for(Trigger("track", "/", "view_product", {"category": "x", "price": 9000}))
    assert [rule.id for rule in candidates] == ["pricey", "any-view"]
