"""The in-memory store: the embedded default for the demo and single-process installs.

Everything lives in this process's memory and is gone on restart. It honours the same
contract as Redis (versions, TTLs), checked by the same tests. Compare-and-set needs no
lock: the event loop never switches tasks inside a method that does not await.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from server.store.base import OTHER
from server.store.keys import (
    ACCOUNTS_TTL,
    FEED_LENGTH,
    LIVE_TTL,
    OPS_FEED_LENGTH,
    OPS_FEED_TTL,
    STATS_TTL,
    TRAFFIC_TTL,
)
from server.store.privacy_memory import MemoryPrivacy
from server.store.webhooks_memory import MemoryDeliveryQueue


class MemoryStore(MemoryPrivacy):
    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._visitors: dict[tuple[str, str], tuple[int, bytes, float]] = {}
        self._writes = 0
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._counts: dict[tuple[str, str], tuple[float, dict[tuple[str, str], int | float]]] = {}  # (site, day)
        self._traffic: dict[tuple[str, str], _TrafficDay] = {}  # (site, day)
        self._hits: dict[tuple[str, str, int], list] = {}  # (site, counter, window) -> [hits, ends at]
        self._feeds: dict[tuple[str, str], _Feed] = {}  # (site, visitor)
        self._chats: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}  # -> (expires, fields)
        self._conversations: dict[str, tuple[float, dict[str, tuple[bytes, float]]]] = {}  # site -> (expires, records)
        self._subscribers: list[asyncio.Queue] = []
        self._presence: dict[str, tuple[float, dict[str, float]]] = {}  # site -> (expires, email -> until)
        self._ops: dict[str, _Feed] = {}  # site -> the operators' feed
        self._live: dict[str, tuple[float, dict[str, float]]] = {}  # site -> (expires, visitor -> second)
        self._accounts: tuple[float, dict[str, bytes]] = (0.0, {})  # (expires, email -> record)
        self._sessions: dict[str, tuple[float, bytes]] = {}  # id -> (expires, record)
        self.webhooks = MemoryDeliveryQueue(clock)
        self.line_pushes = MemoryDeliveryQueue(clock)
        self._claims: dict[tuple[str, str], tuple[float, bytes]] = {}  # (site, name) -> (expires, value)
        self._customers: dict[tuple[str, str], tuple[float, set[str]]] = {}  # (site, customer) -> (expires, visitors)

    async def load_visitor(self, site: str, visitor_id: str) -> tuple[bytes | None, int]:
        entry = self._visitors.get((site, visitor_id))
        if entry is None or entry[2] <= self._clock():
            return None, 0
        return entry[1], entry[0]

    async def save_visitor(self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int) -> bool:
        return (await self.swap_visitor(site, visitor_id, blob, version, ttl))[0]

    async def swap_visitor(
        self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int
    ) -> tuple[bool, bytes | None, int]:
        key = (site, visitor_id)
        now = self._clock()
        entry = self._visitors.get(key)
        if entry is not None and entry[2] <= now:
            entry = None
        current = entry[0] if entry is not None else 0
        if current != version:
            return False, (entry[1] if entry is not None else None), current
        self._writes += 1
        # A new key starts above every version any key has had (each write adds at most 1), so
        # a version never repeats for a key, even after it expired (as on Redis).
        new_version = version + 1 if version else self._writes
        self._visitors[key] = (new_version, blob, now + ttl)
        if self._writes % 1024 == 0:
            self._sweep(now)
        return True, blob, new_version

    def _sweep(self, now: float) -> None:
        """Drop expired visitors so that memory follows the retention period."""
        expired = [key for key, entry in self._visitors.items() if entry[2] <= now]
        for key in expired:
            del self._visitors[key]

    def _pool(self, site: str, pool: str) -> _Pool:
        return self._pools.setdefault((site, pool), _Pool())

    async def claim_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> str | None:
        return (await self.assign_code(site, pool, visitor_id, kind, code, expires_at))[0]

    async def assign_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> tuple[str | None, bool]:
        state = self._pool(site, pool)
        if visitor_id in state.visitors:
            return state.visitors[visitor_id], False
        if kind == "list":
            if not state.available:
                return (None if state.loaded else "unseeded"), False
            code = state.available.pop(0)
        elif kind == "generated":
            if code in state.owners:
                return "taken", False
        if kind != "shared":
            state.owners[code] = visitor_id
        assignment = state.visitors[visitor_id] = f"{code}|{expires_at}"
        return assignment, True

    async def seed_codes(self, site: str, pool: str, codes: list[str]) -> int:
        state = self._pool(site, pool)
        new = [code for code in codes if code not in state.owners and code not in state.available]
        state.available.extend(new)
        state.loaded = True
        return len(new)

    async def codes_left(self, site: str, pool: str) -> int | None:
        state = self._pools.get((site, pool))
        return len(state.available) if state is not None and state.loaded else None

    async def visitor_code(self, site: str, pool: str, visitor_id: str) -> tuple[str, int] | None:
        state = self._pools.get((site, pool))
        found = state.visitors.get(visitor_id) if state is not None else None
        return None if found is None else (found, state.redeemed.get(found.partition("|")[0], 0))

    async def code_owner(self, site: str, pool: str, code: str) -> str | None:
        state = self._pools.get((site, pool))
        return (state.owners.get(code) or None) if state is not None else None

    async def redeem_code(self, site: str, pool: str, code: str, now: int) -> str:
        state = self._pool(site, pool)
        if code not in state.owners:
            return "unknown"
        if code in state.redeemed:
            return "redeemed"
        state.redeemed[code] = now
        return "ok"

    async def add_counts(self, site: str, counts: dict[tuple[str, str, str], int | float]) -> None:
        expires = self._clock() + STATS_TTL
        for (day, rule, counter), amount in counts.items():
            day_counts = self._day_counts(site, day)
            day_counts[rule, counter] = day_counts.get((rule, counter), 0) + amount
            self._counts[site, day] = (expires, day_counts)

    async def read_counts(self, site: str, days: list[str]) -> dict[str, dict[str, dict[str, int | float]]]:
        result: dict[str, dict[str, dict[str, int | float]]] = {}
        for day in days:
            rules: dict[str, dict[str, int | float]] = result.setdefault(day, {})
            for (rule, counter), amount in self._day_counts(site, day).items():
                # As Redis answers: a whole number reads back as an int, whichever way it was added.
                whole = isinstance(amount, float) and amount.is_integer() and abs(amount) < 2**53
                rules.setdefault(rule, {})[counter] = int(amount) if whole else amount
        return result

    def _day_counts(self, site: str, day: str) -> dict[tuple[str, str], int | float]:
        """The day's counters, a new empty dict once they expired."""
        entry = self._counts.get((site, day))
        return entry[1] if entry is not None and entry[0] > self._clock() else {}

    async def add_traffic(
        self,
        site: str,
        counts: dict[tuple[str, str, str], int],
        visitors: dict[str, set[str]],
        caps: dict[str, tuple[str, int]],
    ) -> None:
        expires = self._clock() + TRAFFIC_TTL
        for (day, kind, name), amount in counts.items():
            entry = self._traffic_day(site, day)
            cap = caps.get(kind)
            if cap is not None and name != OTHER:
                group, limit = cap
                admitted = entry.admitted.setdefault(group, set())
                if name not in admitted:
                    if len(admitted) < limit:
                        admitted.add(name)
                        entry.counts.setdefault(f"{group}|{name}", 0)
                    else:
                        name = OTHER
            field = f"{kind}|{name}"
            entry.counts[field] = entry.counts.get(field, 0) + amount
            entry.expires = expires
        for day, ids in visitors.items():
            if ids:
                entry = self._traffic_day(site, day)
                entry.visitors.update(ids)
                entry.expires = expires

    async def read_traffic(self, site: str, days: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int], int]:
        now = self._clock()
        found = {day: self._traffic.get((site, day)) for day in days}
        found = {
            day: entry if entry is not None and entry.expires > now else _TrafficDay() for day, entry in found.items()
        }
        everyone: set[str] = set().union(*(entry.visitors for entry in found.values()))
        return (
            {day: dict(entry.counts) for day, entry in found.items()},
            {day: len(entry.visitors) for day, entry in found.items()},
            len(everyone),
        )

    def _traffic_day(self, site: str, day: str) -> _TrafficDay:
        entry = self._traffic.get((site, day))
        if entry is None or entry.expires <= self._clock():
            entry = self._traffic[site, day] = _TrafficDay()
        return entry

    async def hit(self, site: str, counter: str, windows: tuple[int, ...]) -> list[tuple[int, int]]:
        now = self._clock()
        if len(self._hits) >= 10_000:  # counters from many addresses: drop the finished windows
            self._hits = {key: entry for key, entry in self._hits.items() if entry[1] > now}
        result = []
        for window in windows:
            entry = self._hits.get((site, counter, window))
            if entry is None or entry[1] <= now:
                entry = self._hits[site, counter, window] = [0, now + window]
            entry[0] += 1
            result.append((entry[0], max(1, int(entry[1] - now + 0.999))))
        return result

    async def add_hits(self, site: str, counts: dict[str, int], window: int) -> dict[str, tuple[int, int]]:
        now = self._clock()
        if len(self._hits) >= 10_000:
            self._hits = {key: entry for key, entry in self._hits.items() if entry[1] > now}
        result = {}
        for counter, hits in counts.items():
            key = (site, "shared|" + counter, window)  # apart from hit()'s counters, as on Redis
            entry = self._hits.get(key)
            if entry is None or entry[1] <= now:
                entry = self._hits[key] = [0, now + window]
            entry[0] += hits
            result[counter] = (entry[0], max(1, int(entry[1] - now + 0.999)))
        return result

    def _feed(self, site: str, visitor_id: str) -> _Feed:
        feed = self._feeds.get((site, visitor_id))
        if feed is None or feed.expires <= self._clock():
            feed = self._feeds[site, visitor_id] = _Feed()
        return feed

    async def add_feed(
        self, site: str, visitor_id: str, kind: str, data: bytes, ttl: int, client_id: str = ""
    ) -> tuple[str, bool]:
        feed = self._feed(site, visitor_id)
        if client_id and client_id in feed.client_ids:
            return feed.client_ids[client_id], False
        return self._add_entry(feed, kind, data, ttl, FEED_LENGTH, client_id), True

    def _add_entry(self, feed: _Feed, kind: str, data: bytes, ttl: int, length: int, client_id: str = "") -> str:
        now = self._clock()
        millisecond = int(now * 1000)
        last = feed.entries[-1][0] if feed.entries else feed.trimmed
        key = (millisecond, 0) if millisecond > last[0] else (last[0], last[1] + 1)  # strictly increasing, as XADD
        entry_id = f"{key[0]}-{key[1]}"
        feed.entries.append((key, entry_id, kind, data))
        if len(feed.entries) > length:
            feed.trimmed = feed.entries.pop(0)[0]
        if client_id:
            feed.client_ids[client_id] = entry_id
        feed.expires = now + ttl
        return entry_id

    async def read_feed(
        self, site: str, visitor_id: str, after: str = "0", count: int = 200
    ) -> list[tuple[str, str, bytes]]:
        return _after(self._feed(site, visitor_id), after, count)

    async def set_presence(self, site: str, email: str, until: float, ttl: int) -> None:
        now = self._clock()
        entry = self._presence.get(site)
        remembered = entry[1] if entry is not None and entry[0] > now else {}
        remembered[email] = until
        remembered = {e: u for e, u in remembered.items() if u > until - ttl}
        self._presence[site] = (now + ttl, remembered)

    async def read_presence(self, site: str) -> dict[str, float]:
        entry = self._presence.get(site)
        return dict(entry[1]) if entry is not None and entry[0] > self._clock() else {}

    async def add_ops(self, site: str, kind: str, data: bytes) -> str:
        feed = self._ops.get(site)
        if feed is None or feed.expires <= self._clock():
            feed = self._ops[site] = _Feed()
        return self._add_entry(feed, kind, data, OPS_FEED_TTL, OPS_FEED_LENGTH)

    async def read_ops(self, site: str, after: str = "0", count: int = 200) -> list[tuple[str, str, bytes]]:
        feed = self._ops.get(site)
        return _after(feed, after, count) if feed is not None and feed.expires > self._clock() else []

    async def touch_live(self, site: str, seen: dict[str, float]) -> None:
        now = self._clock()
        entry = self._live.get(site)
        visitors = entry[1] if entry is not None and entry[0] > now else {}
        visitors.update(seen)
        self._live[site] = (now + LIVE_TTL, visitors)

    async def read_live(self, site: str, since: float, limit: int) -> list[tuple[str, float]]:
        entry = self._live.get(site)
        if entry is None or entry[0] <= self._clock():
            return []
        visitors = {v: second for v, second in entry[1].items() if second >= since}
        self._live[site] = (entry[0], visitors)
        return sorted(visitors.items(), key=lambda item: (item[1], item[0]), reverse=True)[:limit]

    async def get_chat(self, site: str, visitor_id: str) -> dict[str, str]:
        entry = self._chats.get((site, visitor_id))
        return dict(entry[1]) if entry is not None and entry[0] > self._clock() else {}

    async def set_chat(self, site: str, visitor_id: str, fields: dict[str, str], ttl: int) -> None:
        current = await self.get_chat(site, visitor_id)
        self._chats[site, visitor_id] = (self._clock() + ttl, {**current, **fields})

    def _index(self, site: str) -> dict[str, tuple[bytes, float]]:
        entry = self._conversations.get(site)
        return entry[1] if entry is not None and entry[0] > self._clock() else {}

    async def save_conversation(
        self, site: str, conversation_id: str, record: bytes, activity: float, ttl: int, *, version: int
    ) -> bool:
        index = self._index(site)
        stored = index.get(conversation_id)
        if (_record_version(stored[0]) if stored is not None else 0) != version:
            return False
        index[conversation_id] = (record, activity)
        self._conversations[site] = (self._clock() + ttl, index)
        return True

    async def load_conversations(self, site: str, ids: list[str]) -> list[bytes | None]:
        index = self._index(site)
        return [index[i][0] if i in index else None for i in ids]

    async def recent_conversations(self, site: str, limit: int = 500) -> list[str]:
        index = self._index(site)
        return sorted(index, key=lambda i: (index[i][1], i), reverse=True)[:limit]

    async def publish(self, site: str, visitor_id: str, payload: str = "") -> None:
        for queue in self._subscribers:
            queue.put_nowait((site, visitor_id, payload))

    async def subscribe(self, subscribed: Callable[[], None] | None = None) -> AsyncIterator[tuple[str, str, str]]:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers.append(queue)
        if subscribed is not None:
            subscribed()
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    def _account_records(self) -> dict[str, bytes]:
        expires, records = self._accounts
        return records if expires > self._clock() else {}

    async def operators(self) -> dict[str, bytes]:
        return dict(self._account_records())

    async def get_operator(self, email: str) -> bytes | None:
        return self._account_records().get(email)

    async def put_operator(self, email: str, record: bytes) -> None:
        self._accounts = (self._clock() + ACCOUNTS_TTL, {**self._account_records(), email: record})

    async def delete_operator(self, email: str) -> bool:
        records = self._account_records()
        found = records.pop(email, None) is not None
        self._accounts = (self._clock() + ACCOUNTS_TTL, records)
        return found

    async def put_session(self, session_id: str, record: bytes, ttl: int) -> None:
        now = self._clock()
        self._sessions = {key: entry for key, entry in self._sessions.items() if entry[0] > now}  # few: operators
        self._sessions[session_id] = (now + ttl, record)

    async def touch_session(self, session_id: str, ttl: int) -> bytes | None:
        now = self._clock()
        entry = self._sessions.get(session_id)
        if entry is None or entry[0] <= now:
            return None
        self._sessions[session_id] = (now + ttl, entry[1])
        return entry[1]

    async def delete_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def claim(self, site: str, name: str, value: bytes, ttl: int) -> bool:
        now = self._clock()
        held = self._claims.get((site, name))
        if held is not None and held[0] > now:
            return False
        if len(self._claims) % 1024 == 0:
            for key in [key for key, (expires, _) in self._claims.items() if expires <= now]:
                del self._claims[key]
        self._claims[(site, name)] = (now + ttl, value)
        return True

    async def take(self, site: str, name: str) -> bytes | None:
        held = self._claims.pop((site, name), None)
        return held[1] if held is not None and held[0] > self._clock() else None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass
class _Pool:
    available: list[str] = field(default_factory=list)  # unique codes not given out, in file order
    owners: dict[str, str] = field(default_factory=dict)  # code -> visitor id
    visitors: dict[str, str] = field(default_factory=dict)  # visitor id -> "code|expires_at"
    redeemed: dict[str, int] = field(default_factory=dict)
    loaded: bool = False  # seed_codes ran: an empty `available` is exhausted, not unseeded


@dataclass
class _TrafficDay:
    counts: dict[str, int] = field(default_factory=dict)  # "kind|name" -> count
    admitted: dict[str, set[str]] = field(default_factory=dict)  # group -> names admitted (add_traffic's caps)
    visitors: set[str] = field(default_factory=set)  # exact, where Redis keeps a HyperLogLog
    expires: float = float("inf")


@dataclass
class _Feed:
    entries: list[tuple[tuple[int, int], str, str, bytes]] = field(default_factory=list)  # (key, id, kind, data)
    client_ids: dict[str, str] = field(default_factory=dict)
    trimmed: tuple[int, int] = (0, 0)  # the last entry dropped by the cap: new ids stay above it
    expires: float = float("inf")


def _after(feed: _Feed, after: str, count: int) -> list[tuple[str, str, bytes]]:
    start = entry_key(after)
    return [(entry_id, kind, data) for key, entry_id, kind, data in feed.entries if key > start][:count]


def entry_key(entry_id: str) -> tuple[int, int]:
    """A feed entry id ("1733300000000-0", or "0" for before the first) as comparable numbers."""
    millisecond, _, sequence = entry_id.partition("-")
    return int(millisecond), int(sequence or 0)


def _record_version(record: bytes) -> float:
    """A conversation record's JSON "version"; 0 when it has none or is not JSON (as save_conversation.lua)."""
    try:
        found = json.loads(record)
    except ValueError:
        return 0
    version = found.get("version") if isinstance(found, dict) else None
    return version if isinstance(version, int | float) and not isinstance(version, bool) else 0
