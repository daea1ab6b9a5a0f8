"""What happened, as webhook events: the event types and the payload of each (docs/webhooks.md).

A payload follows the Standard Webhooks shape, ``{"type", "timestamp", "data"}``: `type` is one
of :data:`EVENT_TYPES`, `timestamp` when it happened (ISO 8601, UTC), and `data` is built here
and nowhere else, so that each type always has the same fields. Pure: no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

ENGAGEMENT_SHOWN = "engagement.shown"
ENGAGEMENT_CLICKED = "engagement.clicked"
ENGAGEMENT_DISMISSED = "engagement.dismissed"
GOAL_CONVERTED = "goal.converted"
COUPON_CLAIMED = "coupon.claimed"
COUPON_REDEEMED = "coupon.redeemed"
CONVERSATION_STARTED = "conversation.started"
CONVERSATION_WAITING = "conversation.waiting"
CONVERSATION_RESOLVED = "conversation.resolved"
MESSAGE_CREATED = "message.created"

EVENT_TYPES = (
    ENGAGEMENT_SHOWN,
    ENGAGEMENT_CLICKED,
    ENGAGEMENT_DISMISSED,
    GOAL_CONVERTED,
    COUPON_CLAIMED,
    COUPON_REDEEMED,
    CONVERSATION_STARTED,
    CONVERSATION_WAITING,
    CONVERSATION_RESOLVED,
    MESSAGE_CREATED,
)
# The widget's feedback kinds that are events ("copied" is counted, not sent).
FEEDBACK_EVENTS = {"shown": ENGAGEMENT_SHOWN, "clicked": ENGAGEMENT_CLICKED, "dismissed": ENGAGEMENT_DISMISSED}
CONVERSATION_EVENTS = {"waiting": CONVERSATION_WAITING, "resolved": CONVERSATION_RESOLVED}

_json = msgspec.json.Encoder()


def timestamp(at: float) -> str:
    """`at` (seconds since the epoch) as ISO 8601 in UTC with milliseconds: 2026-11-22T03:04:05.678Z."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(type: str, at: float, data: dict) -> bytes:
    """The body sent to every endpoint, compact JSON; the bytes signed are exactly these."""
    return _json.encode({"type": type, "timestamp": timestamp(at), "data": data})


def _visitor(site: str, visitor: str, customer: str = "", verified: bool = False) -> dict:
    data: dict = {"site": site, "visitor": visitor}
    data["customer"] = {"id": customer, "verified": verified} if customer else None
    return data


def engagement(site: str, visitor: str, rule: str, customer: str = "", verified: bool = False) -> dict:
    """engagement.shown|clicked|dismissed: the visitor saw, clicked or closed the rule's popup."""
    return {**_visitor(site, visitor, customer, verified), "rule": rule}


def coupon_claimed(
    site: str,
    visitor: str,
    rule: str,
    pool: str,
    code: str,
    expires_at: int,
    customer: str = "",
    verified: bool = False,
) -> dict:
    """coupon.claimed: a code of `pool` was handed to the visitor for the first time."""
    return {
        **_visitor(site, visitor, customer, verified),
        "rule": rule,
        "pool": pool,
        "code": code,
        "expires_at": timestamp(expires_at) if expires_at else None,
    }


def coupon_redeemed(site: str, pool: str, code: str, visitor: str | None) -> dict:
    """coupon.redeemed: the shop's backend redeemed `code` (visitor: its owner; None for a shared code)."""
    return {"site": site, "visitor": visitor, "pool": pool, "code": code}


def goal_converted(
    site: str,
    visitor: str,
    goal: str,
    rule: str,
    value: float,
    held_out: bool,
    decided_at: float,
    customer: str = "",
    verified: bool = False,
) -> dict:
    """goal.converted: a goal event arrived within the goal's window after `rule` was decided for
    the visitor, the first time that decision converts (server/webhooks/visits.py; docs/webhooks.md)."""
    return {
        **_visitor(site, visitor, customer, verified),
        "goal": goal,
        "rule": rule,
        "value": value,
        "held_out": held_out,
        "decided_at": timestamp(decided_at),
    }


def conversation(
    site: str, conversation_id: str, visitor: str, status: str, channel: str, assignee: str = "", rule: str = ""
) -> dict:
    """conversation.started|waiting|resolved: the conversation as it is now."""
    return {
        "site": site,
        "visitor": visitor,
        "conversation": conversation_id,
        "channel": channel or "web",
        "status": status,
        "assignee": assignee or None,
        "rule": rule or None,
    }


def message(
    site: str, conversation_id: str, visitor: str, channel: str, message_id: str, author: str, name: str, text: str
) -> dict:
    """message.created: a message by the visitor, an operator, the bot or the system (a note)."""
    return {
        "site": site,
        "visitor": visitor,
        "conversation": conversation_id,
        "channel": channel or "web",
        "message": {"id": message_id, "author": author, "name": name or None, "text": text},
    }
