"""What Irasshai remembers about one visitor of one site, and its compact encoding.

The whole state is one small MessagePack blob per visitor, so that the event path reads it
in one round trip and writes it back in one (compare-and-set on a version). Every part of it
is capped by count and by size, so a visitor's state stays bounded however long they browse
and whatever a page sends: what would exceed a cap on what the page sends (attributes,
properties, event names) is refused, what the visitor does (paths, sessions) is cut or the
oldest forgotten. MAX_STATE_BYTES is a last guard above the largest state the caps allow
(tests/test_visitor.py builds it).
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_TITLE_CHARS = 120  # a page title kept per path (the wire allows 512: enough to show, not to hoard)
MAX_PATHS = 200  # distinct page paths remembered (least recently viewed are dropped)
MAX_VIEWS_PER_PATH = 50  # timestamps kept per path; `total` keeps counting beyond
MAX_SESSIONS = 50  # session records kept (the count keeps counting)
MAX_SESSION_PATHS = 50  # distinct paths remembered per session
MAX_RECENT_EVENTS = 200  # custom events kept with their properties
MAX_ATTRIBUTES = 100
MAX_SEEN_IDS = 2000  # event ids remembered for de-duplication
MAX_ENGAGEMENTS = 100
MAX_EVENT_NAMES = 100  # distinct custom event names counted; a new name beyond is refused
MAX_ATTRIBUTE_BYTES = 512  # one attribute's value, MessagePack-encoded; a larger one is refused
MAX_PROPERTIES_BYTES = 1024  # one custom event's properties, encoded; larger ones are refused
MAX_PATH_BYTES = 512  # a page path (UTF-8) is cut to this
MAX_SESSION_PATHS_BYTES = 2048  # a session's distinct paths, together: later ones are not listed
MAX_REFERRER_BYTES = 512  # a session's referrer is cut to this
MAX_UTM_BYTES = 200  # each UTM value is cut to this
MAX_ENGAGEMENT_PAGE_BYTES = 120  # the path an engagement was decided on, kept for the page breakdown
MAX_STATE_BYTES = 1024 * 1024  # the whole encoded state: a batch that would exceed it is refused


class PathViews(msgspec.Struct, array_like=True):
    total: int = 0
    recent: list[int] = []  # seconds since the epoch, ascending
    arrived: int = 0  # when the last page view of this path reached the server (server.signals)
    title: str = ""  # the page's title at its last view, cut to MAX_TITLE_CHARS: for templates and operators


class SessionRecord(msgspec.Struct, array_like=True):
    number: int  # 1 for the first session
    start: int
    last: int
    landing: str = ""
    referrer: str = ""
    utm: dict[str, str] = {}
    paths: list[str] = []  # distinct paths viewed in this session
    arrived: int = 0  # when its first event reached the server (server.signals)


class CustomEvent(msgspec.Struct, array_like=True):
    ts: int
    name: str
    properties: dict[str, Any] = {}


class Engagement(msgspec.Struct, array_like=True):
    """One decision of a rule for this visitor (limits are claimed at decision time): shown, or
    held out (its control group, docs/insights.md), and whether the rule's goal followed.
    New fields go at the end, with defaults, so states written before them still decode."""

    ts: int
    rule: str
    session: int
    dismissed: bool = False
    feedback: int = 0  # the kinds of feedback already counted for it (server.tracking.FEEDBACK_BITS)
    held_out: bool = False  # decided but not shown: the visitor is in the rule's control group
    page: str = ""  # the path it was decided on, cut to MAX_ENGAGEMENT_PAGE_BYTES
    converted: bool = False  # the rule's goal event came within its window (server.insights.conversions)
    value: float = 0.0  # the goal values those events carried, added up


class VisitorState(msgspec.Struct, omit_defaults=True):
    first_seen: int = 0
    last_seen: int = 0
    sessions: int = 0
    device: str = ""
    language: str = ""
    attributes: dict[str, Any] = {}
    customer: str = ""  # the shop's customer id, from the last identify (server.events.MAX_CUSTOMER_CHARS)
    verified: bool = False  # whether the shop's server proved `customer` (server.verified_identity)
    page_views: dict[str, PathViews] = {}
    session_log: list[SessionRecord] = []
    event_counts: dict[str, int] = {}
    recent_events: list[CustomEvent] = []
    engagements: list[Engagement] = []
    seen_ids: dict[str, int] = {}  # event id -> second it was stored
    event_window: list[int] = []  # [second the minute began, events stored in it] (server.ratelimits)

    @property
    def session(self) -> SessionRecord | None:
        return self.session_log[-1] if self.session_log else None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(VisitorState)


def encode(state: VisitorState) -> bytes:
    return _encoder.encode(state)


def size(value: Any) -> int:
    """The encoded size of one value (an attribute, a custom event's properties), in bytes."""
    return len(_encoder.encode(value))


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, on a character boundary."""
    if len(text) * 4 <= limit:
        return text
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[:limit].decode(errors="ignore")


def decode(blob: bytes | None) -> VisitorState:
    return VisitorState() if not blob else _decoder.decode(blob)
