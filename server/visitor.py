"""What Irasshai remembers about one visitor of one site, and its compact encoding.

The whole state is one small MessagePack blob per visitor, so that the event path reads it
in one round trip and writes it back in one (compare-and-set on a version). Every list in it
is capped, so a visitor's state stays bounded however long they browse.
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_PATHS = 200  # distinct page paths remembered (least recently viewed are dropped)
MAX_VIEWS_PER_PATH = 50  # timestamps kept per path; `total` keeps counting beyond
MAX_SESSIONS = 50  # session records kept (the count keeps counting)
MAX_SESSION_PATHS = 50  # distinct paths remembered per session
MAX_RECENT_EVENTS = 200  # custom events kept with their properties
MAX_ATTRIBUTES = 100
MAX_SEEN_IDS = 2000  # event ids remembered for de-duplication
MAX_ENGAGEMENTS = 100


class PathViews(msgspec.Struct, array_like=True):
    total: int = 0
    recent: list[int] = []  # seconds since the epoch, ascending
    arrived: int = 0  # when the last page view of this path reached the server (server.signals)


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
    """One engagement the server decided to show (limits are claimed at decision time)."""

    ts: int
    rule: str
    session: int
    dismissed: bool = False
    feedback: int = 0  # the kinds of feedback already counted for it (server.tracking.FEEDBACK_BITS)


class VisitorState(msgspec.Struct, omit_defaults=True):
    first_seen: int = 0
    last_seen: int = 0
    sessions: int = 0
    device: str = ""
    language: str = ""
    attributes: dict[str, Any] = {}
    page_views: dict[str, PathViews] = {}
    session_log: list[SessionRecord] = []
    event_counts: dict[str, int] = {}
    recent_events: list[CustomEvent] = []
    engagements: list[Engagement] = []
    seen_ids: dict[str, int] = {}  # event id -> second it was stored

    @property
    def session(self) -> SessionRecord | None:
        return self.session_log[-1] if self.session_log else None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(VisitorState)


def encode(state: VisitorState) -> bytes:
    return _encoder.encode(state)


def decode(blob: bytes | None) -> VisitorState:
    return VisitorState() if not blob else _decoder.decode(blob)


def to_profile(state: VisitorState) -> dict[str, Any]:
    """The state as plain JSON-able data, for tests, debugging and (later) data export."""
    return msgspec.to_builtins(state)
