"""The site overview's traffic figures, per day in the site's timezone: page views, visitors,
sessions, time on page, hours, devices, referrers and UTM sources.

Counted off the event path. After a batch is stored, ingest calls :meth:`Traffic.observe`, which
adds the batch's new page views and sessions to this process's buffer: no I/O, a few µs. A
background task (:meth:`Traffic.run`) writes the buffer to the store every
`traffic_flush_interval` seconds (5 by default), one script call per site, and once more when
the server stops (:meth:`Traffic.close`). A flush the store refuses is kept and tried again with
the next one.

What is counted, per day:

- page views, per path (the day and hour of the page view);
- sessions (visits), per hour they started, device, referrer host and UTM source, and the
  landing path's entrances (the day and hour the session started);
- unique visitors: anyone who viewed a page or started a session that day;
- time on page (:mod:`server.insights.time_on_page`): when a page view follows another in the
  same session, the seconds between them, in a histogram per path of the earlier page, on the
  earlier page view's day.

Bounded: per site and day at most MAX_PAGES paths, MAX_REFERRERS referrer hosts and
MAX_UTM_SOURCES UTM sources, admitted first come (the store enforces it across processes, and
each process's buffer too); anything beyond counts under "(other)". A buffer holds at most
MAX_PENDING_VISITORS visitor ids per site (it is flushed early at a tenth of that).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from traceback import format_exc
from urllib.parse import urlsplit

from server.events import PageView
from server.flusher import Flusher
from server.insights import time_on_page
from server.ratelog import RateLimitedLog
from server.sites import Site
from server.store.base import OTHER, Store, StoreUnavailable
from server.tracking import Applied, event_time, split_url
from server.visitor import SessionRecord, VisitorState

log = logging.getLogger("irasshai.traffic")

MAX_PAGES = 200  # distinct paths per site per day (views, entrances and time on page share them)
MAX_REFERRERS = 100  # distinct referrer hosts per site per day
MAX_UTM_SOURCES = 100  # distinct utm_source values per site per day
MAX_PENDING_VISITORS = 100_000  # visitor ids one process buffers per site; beyond, not counted until a flush
EARLY_FLUSH_VISITORS = MAX_PENDING_VISITORS // 10  # a buffer this full is flushed at once
MAX_ROWS = 100  # rows of the pages, referrers and UTM sources tables, most first

DIRECT = "(direct)"  # a session without a referrer, or referred by the shop's own pages
NO_SOURCE = "(none)"  # a session whose landing URL had no utm_source
UNKNOWN_DEVICE = "(unknown)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# The capped kinds: kind -> (the group whose names it shares, at most how many per day).
CAPS: dict[str, tuple[str, int]] = {
    "views": ("views", MAX_PAGES),
    "entrances": ("views", MAX_PAGES),
    **{kind: ("views", MAX_PAGES) for kind in time_on_page.KINDS},
    "referrer": ("referrer", MAX_REFERRERS),
    "utm_source": ("utm_source", MAX_UTM_SOURCES),
}


@functools.lru_cache(maxsize=4096)
def _quarter_hour(timezone: zoneinfo.ZoneInfo, quarter: int) -> tuple[str, int]:
    moment = datetime.fromtimestamp(quarter * 900, timezone)
    return moment.date().isoformat(), moment.hour


def local_day_hour(timestamp: float, timezone: zoneinfo.ZoneInfo) -> tuple[str, int]:
    """The day ("YYYY-MM-DD") and hour (0..23) of `timestamp` in `timezone`. Every timezone's
    offset is a whole number of quarter hours, so a quarter hour's answer is computed once."""
    return _quarter_hour(timezone, int(timestamp) // 900)


@functools.lru_cache(maxsize=256)
def _own_hosts(origins: frozenset[str]) -> frozenset[str]:
    return frozenset((urlsplit(origin).hostname or "").removeprefix("www.") for origin in origins)


def referrer_host(referrer: str, site: Site) -> str:
    """Where a session came from: the referrer's host without "www.", or DIRECT."""
    try:
        host = (urlsplit(referrer).hostname or "").removeprefix("www.")
    except ValueError:  # e.g. an unbalanced "[" where an IPv6 address would be
        return DIRECT
    return DIRECT if not host or host in _own_hosts(site.origins) else host


@dataclass
class _Buffer:
    """One site's counts since the last flush, capped like the store caps them."""

    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (day, kind, name) -> amount
    names: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (day, group) -> names admitted
    visitors: dict[str, set[str]] = field(default_factory=dict)  # day -> visitor ids
    pending_visitors: int = 0

    def add(self, day: str, kind: str, name: str, amount: int = 1) -> None:
        cap = CAPS.get(kind)
        if cap is not None and name != OTHER:
            group, limit = cap
            admitted = self.names.setdefault((day, group), set())
            if name not in admitted:
                if len(admitted) >= limit:
                    name = OTHER
                else:
                    admitted.add(name)
        key = (day, kind, name)
        self.counts[key] = self.counts.get(key, 0) + amount

    def visitor(self, day: str, visitor_id: str) -> None:
        ids = self.visitors.setdefault(day, set())
        if visitor_id not in ids and self.pending_visitors < MAX_PENDING_VISITORS:
            ids.add(visitor_id)
            self.pending_visitors += 1

    def merge(self, other: _Buffer) -> None:
        for (day, kind, name), amount in other.counts.items():
            self.add(day, kind, name, amount)
        for day, ids in other.visitors.items():
            for visitor_id in ids:
                self.visitor(day, visitor_id)


class Traffic(Flusher):
    """This process's buffer of traffic counts, and the task that writes it to the store."""

    def __init__(self, store: Store, interval: float = 5.0, clock: Callable[[], float] = time.time):
        self.store = store
        super().__init__(interval)
        self.clock = clock
        self._buffers: dict[str, _Buffer] = {}  # site key -> counts since the last flush
        self._failures = RateLimitedLog(log, clock=clock)

    def observe(self, site: Site, visitor_id: str, state: VisitorState, applied: Applied, now: float) -> None:
        """Count a stored batch: its new page views and the sessions it started (no I/O).

        `state` is the visitor's state as stored, `applied` what the batch changed in it, `now`
        the time the batch was applied at. Never raises: the batch is stored, and a figure of
        the overview is not worth refusing it for."""
        try:
            self._observe(site, visitor_id, state, applied, now)
        except Exception:  # noqa: BLE001 -- a bug here must not turn a stored batch into an error the widget retries
            self._failures.warning("site %s: a batch was not counted for the overview:\n%s", site.key, format_exc())

    def _observe(self, site: Site, visitor_id: str, state: VisitorState, applied: Applied, now: float) -> None:
        views = [event for event in applied.new if isinstance(event, PageView)]
        started = state.session_log[len(state.session_log) - min(applied.sessions, len(state.session_log)) :]
        if not views and not started:
            return
        buffer = self._buffers.get(site.key)
        if buffer is None:
            buffer = self._buffers[site.key] = _Buffer()
        device = state.device or UNKNOWN_DEVICE
        days = set()
        for session in started:
            days.add(self._session(buffer, site, session, device))
        placed = []  # (second, path) of each new page view
        for event in views:
            second, path = event_time(event, now), split_url(event.url)[0]
            day, hour = local_day_hour(second, site.timezone)
            days.add(day)
            buffer.add(day, "total", "page_views")
            buffer.add(day, "views", path)
            buffer.add(day, "hour_views", str(hour))
            buffer.add(day, "device_views", device)
            placed.append((second, path))
        if state.session is not None and placed:
            for second, path, seconds in time_on_page.times_before(state, state.session, placed):
                buffer.add(local_day_hour(second, site.timezone)[0], time_on_page.kind_of(seconds), path)
        for day in days:
            buffer.visitor(day, visitor_id)
        if buffer.pending_visitors >= EARLY_FLUSH_VISITORS:
            self.wake()

    @staticmethod
    def _session(buffer: _Buffer, site: Site, session: SessionRecord, device: str) -> str:
        day, hour = local_day_hour(session.start, site.timezone)
        buffer.add(day, "total", "sessions")
        buffer.add(day, "hour", str(hour))
        buffer.add(day, "device", device)
        buffer.add(day, "referrer", referrer_host(session.referrer, site))
        buffer.add(day, "utm_source", session.utm.get("source") or NO_SOURCE)
        if session.landing:
            buffer.add(day, "entrances", session.landing)
        return day

    async def flush(self) -> None:
        """Write every site's buffered counts: one store call per site, all at once."""
        buffers, self._buffers = self._buffers, {}
        await asyncio.gather(*(self._flush(key, buffer) for key, buffer in buffers.items()))

    async def _flush(self, key: str, buffer: _Buffer) -> None:
        try:
            await self.store.add_traffic(key, buffer.counts, buffer.visitors, CAPS)
        except StoreUnavailable as error:
            self._failures.warning("site %s: traffic counts not written, kept for the next flush: %s", key, error)
            newer = self._buffers.get(key)
            if newer is not None:
                buffer.merge(newer)
            self._buffers[key] = buffer
        except Exception:  # a bug here must not stop the flushing of later counts
            log.exception("site %s: traffic counts lost", key)


async def site_overview(store: Store, site: Site | str, days: list[str]) -> dict:
    """The site overview for `days` ("YYYY-MM-DD", oldest first, as server.stats.last_days gives
    them): `totals` and `tables`, each table {"columns": [...], "rows": [[...], ...]}.

    Engagements shown and conversions are the rules' daily counters `shown` and `converted`,
    summed over the rules (server.stats)."""
    key = site if isinstance(site, str) else site.key
    (traffic, visitors, unique), counters = await asyncio.gather(
        store.read_traffic(key, days), store.read_counts(key, days)
    )
    kinds: dict[str, dict[str, int]] = {}  # kind -> name -> count over all days
    daily = []
    for day in days:
        day_totals: dict[str, int] = {}
        for field_name, amount in traffic.get(day, {}).items():
            kind, _, name = field_name.partition("|")
            if kind == "total":
                day_totals[name] = amount
            named = kinds.setdefault(kind, {})
            named[name] = named.get(name, 0) + amount
        rules = counters.get(day, {}).values()
        daily.append(
            [
                day,
                day_totals.get("page_views", 0),
                visitors.get(day, 0),
                day_totals.get("sessions", 0),
                sum(int(counts.get("shown", 0)) for counts in rules),
                sum(int(counts.get("converted", 0)) for counts in rules),
            ]
        )
    weekdays = [[name, 0, 0] for name in WEEKDAYS]
    for day, page_views, _, sessions, _, _ in daily:
        row = weekdays[date.fromisoformat(day).weekday()]
        row[1] += sessions
        row[2] += page_views
    sum_of = functools.partial(_column_sum, daily)
    shown, conversions = sum_of(4), sum_of(5)
    return {
        "site": key,
        "from": days[0] if days else None,
        "to": days[-1] if days else None,
        "totals": {
            "page_views": sum_of(1),
            "visitors": unique,
            "sessions": sum_of(3),
            "engagements_shown": shown,
            "conversions": conversions,
            "conversions_per_engagement_shown": conversions / shown if shown else None,
        },
        "tables": {
            "daily": _table(["day", "page_views", "visitors", "sessions", "engagements_shown", "conversions"], daily),
            "pages": _table(["path", "views", "median_seconds_on_page", "entrances"], _pages(kinds)),
            "hours": _table(["hour", "sessions", "page_views"], _hours(kinds)),
            "weekdays": _table(["weekday", "sessions", "page_views"], weekdays),
            "devices": _table(
                ["device", "sessions", "page_views"],
                _top([kinds.get("device", {}), kinds.get("device_views", {})]),
            ),
            "referrers": _table(["referrer", "sessions"], _top([kinds.get("referrer", {})])),
            "utm_sources": _table(["utm_source", "sessions"], _top([kinds.get("utm_source", {})])),
        },
    }


def _pages(kinds: dict[str, dict[str, int]]) -> list[list]:
    views, entrances = kinds.get("views", {}), kinds.get("entrances", {})
    paths = set(views) | set(entrances)
    for kind in time_on_page.KINDS:
        paths |= set(kinds.get(kind, {}))
    ranked = sorted(paths, key=lambda path: (-views.get(path, 0), -entrances.get(path, 0), path))[:MAX_ROWS]
    return [
        [
            path,
            views.get(path, 0),
            time_on_page.median_of({kind: kinds.get(kind, {}).get(path, 0) for kind in time_on_page.KINDS}),
            entrances.get(path, 0),
        ]
        for path in ranked
    ]


def _hours(kinds: dict[str, dict[str, int]]) -> list[list]:
    sessions, views = kinds.get("hour", {}), kinds.get("hour_views", {})
    return [[hour, sessions.get(str(hour), 0), views.get(str(hour), 0)] for hour in range(24)]


def _top(columns: list[dict[str, int]]) -> list[list]:
    """Rows of (name, one count per column), most in the first column first, at most MAX_ROWS."""
    names = sorted(set().union(*columns), key=lambda name: (-columns[0].get(name, 0), name))[:MAX_ROWS]
    return [[name, *(column.get(name, 0) for column in columns)] for name in names]


def _column_sum(rows: list[list], column: int) -> int:
    return sum(row[column] for row in rows)


def _table(columns: list[str], rows: list[list]) -> dict:
    return {"columns": columns, "rows": rows}
