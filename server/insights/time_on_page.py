"""Time on page: how long a visitor stayed on a page before the next page of the same visit,
kept as a histogram per path and read back as a median.

A page view's time on page is known only when another page view of the same session follows
it: the seconds between the two. The last page of a visit has none (as in most analytics tools),
and neither has a page view that arrived late, after the visit it belongs to ended.

The histogram's buckets (BOUNDS, in seconds): a bucket holds the times above the bound before
it, up to its own bound (5: 0 to 5 s, 10: over 5 s and up to 10 s, ...), and the last one,
"more", those over 1800 s (half an hour: the default session timeout, so rarely any).
"""

from __future__ import annotations

import bisect

from server.visitor import SessionRecord, VisitorState

BOUNDS = (5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)
KINDS = tuple(f"time_on_page:{bound}" for bound in BOUNDS) + ("time_on_page:more",)  # a store field's kind


def kind_of(seconds: int) -> str:
    """The histogram bucket of a time on page, as a kind of the traffic aggregates."""
    return KINDS[bisect.bisect_left(BOUNDS, seconds)]


def median_of(histogram: dict[str, int]) -> int | None:
    """The median time on page of a histogram (kind -> count), read back to its bucket: the
    upper bound of the bucket that holds it, so half the times were at most this long. None
    without any time; the last bucket ("more") reads as 1800, meaning half an hour or more."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound, kind in zip((*BOUNDS, BOUNDS[-1]), KINDS, strict=True):
        seen += histogram.get(kind, 0)
        if 2 * seen >= total:
            return bound
    return BOUNDS[-1]


def times_before(
    state: VisitorState, session: SessionRecord, views: list[tuple[int, str]]
) -> list[tuple[int, str, int]]:
    """For each new page view (second, path) of `session`, the page view right before it:
    (its second, its path, the seconds it lasted). `state` is the visitor's state with the new
    page views in it: its recent view times per path give the session's page views in order of
    (second, path). A path past the session's caps (server.visitor) has no time."""
    views = [view for view in views if view[0] >= session.start]  # not a late view of an earlier visit
    if len(views) == 1:  # the common case, without sorting the session's page views
        found = _before(state, session, views[0])
        return [] if found is None else [(found[0], found[1], views[0][0] - found[0])]
    if not views:
        return []
    first = min(views)[0]
    timeline = []
    for path in session.paths:
        recent = state.page_views[path].recent if path in state.page_views else []
        # Only what can come right before a new view: from the last one before the first new one.
        start = max(bisect.bisect_left(recent, first) - 1, bisect.bisect_left(recent, session.start))
        timeline += [(second, path) for second in recent[start:]]
    timeline.sort()
    times = []
    matched: dict[tuple[int, str], int] = {}
    for view in views:
        # The same path twice in one second: the first match takes the later entry, the next the one before.
        position = bisect.bisect_right(timeline, view) - 1 - matched.get(view, 0)
        matched[view] = matched.get(view, 0) + 1
        if position >= 1 and timeline[position] == view:  # not the session's first page, nor past its caps
            second, path = timeline[position - 1]
            times.append((second, path, view[0] - second))
    return times


def _before(state: VisitorState, session: SessionRecord, view: tuple[int, str]) -> tuple[int, str] | None:
    """The page view right before `view` in the session, as the timeline of times_before orders
    them, found with one search per path of the session instead of sorting them all."""
    second, path = view
    if path not in session.paths:
        return None  # past the session's caps: not in the timeline either
    best_second, best_path = -1, ""
    for other in session.paths:
        views = state.page_views.get(other)
        if views is None:
            continue
        recent = views.recent
        if recent[-1] < second:  # the usual case: all of this path's views came before
            before = recent[-1]
        else:
            if other == path:
                low = bisect.bisect_left(recent, second)
                # The same path twice in one second: the new view is the later one, right after the other.
                index = low if bisect.bisect_right(recent, second) - low > 1 else low - 1
            else:  # what sorts before (second, path): the same second only for a path sorting before it
                index = (bisect.bisect_right if other < path else bisect.bisect_left)(recent, second) - 1
            if index < 0:
                continue
            before = recent[index]
        if before > best_second or (before == best_second and other > best_path):
            best_second, best_path = before, other
    best = (best_second, best_path) if best_second >= session.start else None
    return best
