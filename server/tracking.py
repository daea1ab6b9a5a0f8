"""Applying a batch of events to a visitor's state: sessions, page views, custom events, attributes.

A pure function of (state, events, time): no I/O, so every store and the rule tests share it.
Duplicated event ids are skipped, so a retried batch is counted once. An event that would take
the state past one of its caps (server/visitor.py) is refused with BadBatch (422) naming it.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from server.events import Event, Feedback, Identify, PageView, SetAttributes, Signal, Track, bad_event
from server.names import UTM_KEYS
from server.signals import bound
from server.visitor import (
    MAX_ATTRIBUTE_BYTES,
    MAX_ATTRIBUTES,
    MAX_EVENT_NAMES,
    MAX_PATH_BYTES,
    MAX_PATHS,
    MAX_PROPERTIES_BYTES,
    MAX_RECENT_EVENTS,
    MAX_REFERRER_BYTES,
    MAX_SEEN_IDS,
    MAX_SESSION_PATHS,
    MAX_SESSION_PATHS_BYTES,
    MAX_SESSIONS,
    MAX_TITLE_CHARS,
    MAX_UTM_BYTES,
    MAX_VIEWS_PER_PATH,
    CustomEvent,
    Engagement,
    PathViews,
    SessionRecord,
    VisitorState,
    clip,
    size,
)

VERIFIED = "verified"  # not an attribute: rules read `visitor: {verified: true}` from the state
DEDUP_WINDOW = 48 * 3600  # event ids are remembered this long after they were stored
MAX_EVENT_AGE = 24 * 3600  # older events are acknowledged but dropped: their ids may be forgotten


@dataclass(frozen=True)
class RequestFacts:
    """What the request says about the visitor right now (not part of any one event)."""

    device: str = ""
    language: str = ""
    address: str = ""  # the client address rate limits count (server.web.address); never stored


@dataclass
class Applied:
    """Which events of a batch were new, which were retries, which were too old."""

    new: list[Event]
    duplicates: int = 0
    expired: int = 0
    # The new feedback that counts (server.insights.counters), each with the engagement it is about.
    feedback: list[tuple[Feedback, Engagement]] = field(default_factory=list)
    sessions: int = 0  # sessions the batch started: the last ones of the state's session log


@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> tuple[str, dict[str, str]]:
    """The path of `url` (no query) and its UTM parameters (shared between calls: copy to keep)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    utm = {}
    if parts.query:
        for key, value in parse_qsl(parts.query):
            if key.startswith("utm_") and key[4:] in UTM_KEYS and value:
                utm[key[4:]] = clip(value, MAX_UTM_BYTES)
    return clip(path, MAX_PATH_BYTES), utm


def event_time(event: Event, now: float) -> int:
    """The event's time in whole seconds, never in the future (client clocks drift)."""
    return int(min(event.ts / 1000, now))


def apply(
    state: VisitorState,
    events: list[Event],
    now: float,
    facts: RequestFacts,
    session_timeout: int,
    proven: frozenset[str] = frozenset(),
) -> Applied:
    """Apply `events` to `state` in place, in time order, skipping ids already seen.

    `proven` holds the ids of the identify events whose hash or JWT the server verified
    (server.ingest checks them: this function knows no secrets).

    Raises BadBatch when an event would exceed a cap; `state` is then half-applied: discard it.
    """
    applied = Applied(new=[])
    stored_at = int(now)
    sessions_before = state.sessions
    _forget_old_ids(state, stored_at)
    for event in sorted(events, key=lambda e: e.ts):
        if event.id in state.seen_ids:
            applied.duplicates += 1
            continue
        ts = event_time(event, now)
        if ts < now - MAX_EVENT_AGE:
            applied.expired += 1
            continue
        state.seen_ids[event.id] = stored_at
        applied.new.append(event)
        current = _touch(state, ts, event, session_timeout, stored_at)
        if isinstance(event, PageView):
            _page_view(state, ts, event, current, stored_at)
        elif isinstance(event, Signal):
            bounded = bound(event, split_url(event.url)[0], state, now)
            if bounded is not event:
                applied.new[-1] = bounded
        elif isinstance(event, Track):
            _refuse_if(_over_caps(state, event), events, event)
            _track(state, ts, event)
        elif isinstance(event, SetAttributes):
            _refuse_if(_over_caps(state, event), events, event)
            _set(state, event)
        elif isinstance(event, Identify):
            _refuse_if(_over_caps(state, event), events, event)
            _identify(state, event, event.id in proven)
        elif isinstance(event, Feedback):
            if event.action == "dismissed":
                _dismissed(state, event.rule)
            engagement = first_feedback(state, event)
            if engagement is not None:
                applied.feedback.append((event, engagement))
        # Signals change no profile data: the rules look at them (bounded) as they arrive.
    applied.sessions = state.sessions - sessions_before
    if applied.new:
        if facts.device:
            state.device = facts.device
        if facts.language:
            state.language = facts.language
    if len(state.seen_ids) > MAX_SEEN_IDS:
        for key in list(state.seen_ids)[: len(state.seen_ids) - MAX_SEEN_IDS]:
            del state.seen_ids[key]
    return applied


def _forget_old_ids(state: VisitorState, now: int) -> None:
    cutoff = now - DEDUP_WINDOW
    if state.seen_ids and next(iter(state.seen_ids.values())) < cutoff:
        state.seen_ids = {k: t for k, t in state.seen_ids.items() if t >= cutoff}


def _touch(state: VisitorState, ts: int, event: Event, session_timeout: int, stored_at: int) -> bool:
    """Start a new session after `session_timeout` of inactivity; update first/last seen.

    Returns whether the event belongs to the current session (a late event from before it
    does not: it counts as a page view, but not as part of today's visit).
    """
    state.first_seen = min(state.first_seen, ts) if state.first_seen else ts
    session = state.session
    if session is not None and ts < session.start:
        return False
    if session is None or ts - session.last > session_timeout:
        state.sessions += 1
        landing, utm, referrer = "", {}, ""
        if isinstance(event, PageView):
            landing, utm = split_url(event.url)
            utm = dict(utm)
            referrer = clip(event.referrer, MAX_REFERRER_BYTES)
        state.session_log.append(SessionRecord(state.sessions, ts, ts, landing, referrer, utm, arrived=stored_at))
        del state.session_log[:-MAX_SESSIONS]
    else:
        session.last = max(session.last, ts)
    state.last_seen = max(state.last_seen, ts)
    return True


def _page_view(state: VisitorState, ts: int, event: PageView, current_session: bool, stored_at: int) -> None:
    path, _ = split_url(event.url)
    views = state.page_views.pop(path, None) or PathViews()
    state.page_views[path] = views  # re-inserted last: dict order is recency of viewing
    views.total += 1
    views.arrived = stored_at
    if event.title:
        views.title = event.title[:MAX_TITLE_CHARS]
    bisect.insort(views.recent, ts)
    del views.recent[:-MAX_VIEWS_PER_PATH]
    if len(state.page_views) > MAX_PATHS:
        del state.page_views[next(iter(state.page_views))]
    session = state.session
    if (
        current_session
        and session is not None
        and path not in session.paths
        and len(session.paths) < MAX_SESSION_PATHS
        and sum(len(p.encode()) for p in session.paths) + len(path.encode()) <= MAX_SESSION_PATHS_BYTES
    ):
        session.paths.append(path)


def _track(state: VisitorState, ts: int, event: Track) -> None:
    state.event_counts[event.name] = state.event_counts.get(event.name, 0) + 1
    state.recent_events.append(CustomEvent(ts, event.name, dict(event.properties)))
    del state.recent_events[:-MAX_RECENT_EVENTS]


def _set(state: VisitorState, event: SetAttributes | Identify) -> None:
    for key, value in event.attributes.items():
        if value is None:
            state.attributes.pop(key, None)
        else:
            state.attributes[key] = value


def _identify(state: VisitorState, event: Identify, proven: bool) -> None:
    # An unproven identify of the customer already proven keeps the proof (a shop may send the
    # hash at login only); any other customer starts unproven.
    state.verified = proven or (state.verified and state.customer == event.customer)
    state.customer = event.customer
    _set(state, event)


def _over_caps(state: VisitorState, event: Track | SetAttributes | Identify) -> str:
    """Which cap `event` would exceed (one line), or ""."""
    if isinstance(event, Track):
        if event.properties and (n := size(event.properties)) > MAX_PROPERTIES_BYTES:
            return f"properties are {n} bytes; at most {MAX_PROPERTIES_BYTES} are kept per custom event"
        if event.name not in state.event_counts and len(state.event_counts) >= MAX_EVENT_NAMES:
            return f"the visitor already has {MAX_EVENT_NAMES} distinct event names, the most kept; '{event.name}' is not counted"
        return ""
    attributes, new = state.attributes, 0
    for key, value in event.attributes.items():
        if key == VERIFIED:
            return (
                f"attribute '{VERIFIED}' is the server's to set: it says whether identify's hash or jwt proved the id"
            )
        if value is None:
            new -= key in attributes
            continue
        if (n := size(value)) > MAX_ATTRIBUTE_BYTES:
            return f"attribute '{key}' is {n} bytes; at most {MAX_ATTRIBUTE_BYTES} are kept per attribute"
        new += key not in attributes
    if len(attributes) + new > MAX_ATTRIBUTES:
        return f"the visitor would have {len(attributes) + new} attributes; at most {MAX_ATTRIBUTES} are kept"
    return ""


def _refuse_if(problem: str, events: list[Event], event: Event) -> None:
    if problem:
        index = next(i for i, e in enumerate(events) if e is event)
        raise bad_event(index, event.id, problem, status=422)


FEEDBACK_BITS = {"shown": 1, "clicked": 2, "dismissed": 4, "copied": 8}


def first_feedback(state: VisitorState, event: Feedback) -> Engagement | None:
    """The engagement `event` counts for (marked so), or None: feedback is a claim, counted only
    for what the server showed this visitor (the last shown engagement of its rule; never a
    held-out one, which the widget never saw), each kind once per decision."""
    for engagement in reversed(state.engagements):
        if engagement.rule == event.rule and not engagement.held_out:
            bit = FEEDBACK_BITS[event.action]
            if engagement.feedback & bit:
                return None
            engagement.feedback |= bit
            return engagement
    return None


def _dismissed(state: VisitorState, rule: str) -> None:
    """A dismissed engagement does not come back in this session (see the rules' limits)."""
    for engagement in reversed(state.engagements):
        if engagement.rule == rule and engagement.session == state.sessions and not engagement.held_out:
            engagement.dismissed = True
            return
