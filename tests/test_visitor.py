"""The visitor state's encoding and its caps (server/visitor.py).

Every part of the state is capped by count and by size, so the largest state any sequence of
events can build — every cap reached at once, every text at its longest — encodes to less
than MAX_STATE_BYTES, the last guard the event path checks before it writes. The state
round-trips through its encoding unchanged.
"""

from __future__ import annotations

import msgspec

from server.events import PageView, SetAttributes, Track
from server.tracking import RequestFacts, apply
from server.visitor import (
    MAX_ATTRIBUTE_BYTES,
    MAX_ATTRIBUTES,
    MAX_ENGAGEMENT_PAGE_BYTES,
    MAX_ENGAGEMENTS,
    MAX_EVENT_NAMES,
    MAX_PATH_BYTES,
    MAX_PATHS,
    MAX_PROPERTIES_BYTES,
    MAX_RECENT_EVENTS,
    MAX_SEEN_IDS,
    MAX_SESSION_PATHS_BYTES,
    MAX_SESSIONS,
    MAX_STATE_BYTES,
    MAX_TITLE_CHARS,
    MAX_VIEWS_PER_PATH,
    Engagement,
    VisitorState,
    clip,
    decode,
    encode,
    size,
)

T = 1_700_000_000
TIMEOUT = 30 * 60
SHOP = "https://shop.example"
NAME = 64  # the longest event name, attribute or property key, rule id and event id


class Ids:
    def __init__(self):
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"{self.count:0>{NAME}}"


def longest(limit: int) -> str:
    """The longest text whose encoding as a value fits in `limit` bytes."""
    text = "x" * limit
    while size(text) > limit:
        text = text[:-1]
    return text


def name(n: int) -> str:
    return f"{n:0>{NAME}}"


def build_the_largest_state() -> VisitorState:
    state, new_id = VisitorState(), Ids()
    paths = [f"/{n:03d}" + "p" * (MAX_PATH_BYTES - 4) for n in range(MAX_PATHS)]
    utm = "&".join(f"utm_{key}={'u' * 500}" for key in ("source", "medium", "campaign", "term", "content"))
    properties = {name(0)[:-1] + "t": longest(MAX_PROPERTIES_BYTES - 1 - 2 - NAME)}
    assert size(properties) == MAX_PROPERTIES_BYTES
    value = longest(MAX_ATTRIBUTE_BYTES)
    views = 0
    for session in range(MAX_SESSIONS + 2):
        start = T + session * (TIMEOUT + 1000)
        ms = lambda second, start=start: (start + second) * 1000  # noqa: E731
        events = [
            PageView(
                new_id(),
                ms(0),
                f"{SHOP}{paths[views % MAX_PATHS]}?{utm}",
                referrer="https://referrer.example/" + "r" * 3000,
            )
        ]
        for second in range(1, 220):  # page views: every path, each MAX_VIEWS_PER_PATH times in all
            views += 1
            events.append(PageView(new_id(), ms(second), SHOP + paths[views % MAX_PATHS], title="題" * 512))
        events += [Track(new_id(), ms(300 + n), name(n % MAX_EVENT_NAMES), properties) for n in range(120)]
        events += [SetAttributes(new_id(), ms(500), {name(n): value for n in range(MAX_ATTRIBUTES)})]
        apply(state, events, start + 600, RequestFacts(device="desktop", language="x" * 35), TIMEOUT)
    page = "/" + "ペ" * ((MAX_ENGAGEMENT_PAGE_BYTES - 1) // 3)
    state.engagements = [
        Engagement(T, name(n), n, True, 15, held_out=True, page=page, converted=True, value=123456789.123)
        for n in range(MAX_ENGAGEMENTS)
    ]
    return state


def test_the_largest_state_the_caps_allow_is_under_the_ceiling():
    state = build_the_largest_state()
    # Every part is at its cap: this is the worst case, not a typical visitor.
    assert len(state.page_views) == MAX_PATHS
    assert all(len(views.recent) == MAX_VIEWS_PER_PATH for views in state.page_views.values())
    assert all(len(path.encode()) == MAX_PATH_BYTES for path in state.page_views)
    assert all(len(views.title) == MAX_TITLE_CHARS for views in state.page_views.values())
    assert len(state.session_log) == MAX_SESSIONS
    assert all(sum(len(p) for p in s.paths) > MAX_SESSION_PATHS_BYTES - MAX_PATH_BYTES for s in state.session_log)
    assert len(state.recent_events) == MAX_RECENT_EVENTS and len(state.event_counts) == MAX_EVENT_NAMES
    assert len(state.attributes) == MAX_ATTRIBUTES and len(state.seen_ids) == MAX_SEEN_IDS
    encoded = encode(state)
    print(f"largest state: {len(encoded)} bytes; ceiling {MAX_STATE_BYTES}")
    assert len(encoded) <= MAX_STATE_BYTES
    assert decode(encoded) == state


def test_a_state_written_before_engagements_had_their_newer_fields_still_decodes():
    """Engagement fields are added at the end with defaults: a visitor's old record keeps its history."""
    old = msgspec.msgpack.encode({"sessions": 2, "engagements": [[T, "welcome", 2, True, 3]]})
    (engagement,) = decode(old).engagements
    assert engagement == Engagement(T, "welcome", 2, dismissed=True, feedback=3)
    assert (engagement.held_out, engagement.page, engagement.converted, engagement.value) == (False, "", False, 0.0)


def test_clip_cuts_on_a_character_boundary():
    assert clip("abc", 2) == "ab" and clip("ああ", 4) == "あ" and clip("😀x", 3) == ""
    assert clip("short", 512) == "short"
