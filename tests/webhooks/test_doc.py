"""docs/webhooks.md shows every event type with an example whose fields are exactly those the
server sends (the builders in server/webhooks/events.py), so a shop's developer can trust it."""

from __future__ import annotations

import json
import re

from server.webhooks import events
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
SENT = {
    events.ENGAGEMENT_CLICKED: events.engagement("demo", "v", "rule", "C-1", True),
    events.COUPON_CLAIMED: events.coupon_claimed("demo", "v", "rule", "pool", "CODE", 0),
    events.COUPON_REDEEMED: events.coupon_redeemed("demo", "pool", "CODE", "v"),
    events.GOAL_CONVERTED: events.goal_converted("demo", "v", "purchase", "rule", 1.0, False, 0.0, "C-1", True),
    events.CONVERSATION_WAITING: events.conversation("demo", "v.1", "v", "waiting", "web"),
    events.MESSAGE_CREATED: events.message("demo", "v.1", "v", "web", "1-0", "visitor", "", "hi"),
}


def examples() -> dict[str, dict]:
    found = {}
    for block in re.findall(r"```json\n(.*?)```", DOC, re.S):
        payload = json.loads(block)
        found[payload["type"]] = payload
    return found


def shape(value):
    return {key: shape(inner) for key, inner in value.items()} if isinstance(value, dict) else None


def test_every_event_type_has_a_heading_in_the_doc():
    for type in events.EVENT_TYPES:
        assert re.search(rf"^### .*\b{re.escape(type)}\b", DOC, re.M), type


def test_each_example_has_the_fields_the_server_sends():
    shown = examples()
    for type, data in SENT.items():
        example = shown[type]
        assert set(example) == {"type", "timestamp", "data"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", example["timestamp"])
        assert shape(example["data"]) == shape(data), type
