"""Client signals are claims: the server bounds them by what it saw itself.

The widget reports time on page, idle time, scroll depth and exit intent, and a script can
report anything. Time is the one claim the server can check: a visitor cannot have been on a
page (or idle on it) for longer than since that page's view arrived at the server, nor on
the site for longer than since their session's first event arrived. A claim beyond that is
clamped to it (plus TOLERANCE, for the time the page view took to reach the server and for
clocks of several servers that differ a little), so a rule waiting for 30 s on a page fires
only when 30 s have passed by the server's clock. Scroll depth and exit intent cannot be
checked and are taken as sent.
"""

from __future__ import annotations

import msgspec

from server.events import Signal
from server.visitor import SessionRecord, VisitorState

TOLERANCE = 5  # seconds
ON_PAGE = ("time_on_page", "idle")  # signals that measure time since the page was opened


def on_page(state: VisitorState, path: str, now: float) -> float:
    """The longest the visitor can have been on `path`, by the server's record (the page viewed
    last if `path` was never viewed: an address changed by history.replaceState)."""
    views = state.page_views.get(path)
    if views is None:
        if not state.page_views:
            return 0.0
        views = state.page_views[next(reversed(state.page_views))]
    since = views.arrived or (views.recent[-1] if views.recent else 0)  # before arrival times were kept
    return max(0.0, now - since) + TOLERANCE


def bound(signal: Signal, path: str, state: VisitorState, now: float) -> Signal:
    """`signal` with its time claims clamped to :func:`on_page` (the same object when within)."""
    claims = [signal.value] if signal.signal in ON_PAGE else []
    claims += [signal.reached[name] for name in ON_PAGE if name in signal.reached]
    if not claims:
        return signal
    limit = on_page(state, path, now)
    if max(claims) <= limit:
        return signal
    value = min(signal.value, limit) if signal.signal in ON_PAGE else signal.value
    reached = {name: min(reached, limit) if name in ON_PAGE else reached for name, reached in signal.reached.items()}
    return msgspec.structs.replace(signal, value=value, reached=reached)


def on_site(session: SessionRecord, now: float) -> float:
    """Time since the session started: from its first event's time, but never more than since
    that event arrived at the server (a page view can claim any time up to a day back)."""
    start = session.start if not session.arrived else max(session.start, session.arrived - TOLERANCE)
    return now - start
