"""Live visitors: who is on the shop now, for the console's list and side panel.

The event path calls :meth:`LiveVisitors.seen` after each batch; it writes the visitor's last
event second to ``irs:{site:live}`` (a ZSET) at most once per WRITE_EVERY (30) s per visitor per
process, so most batches pay a dictionary look-up and no round trip. The local cache is bounded
(CACHE_SIZE): when full it forgets the entries older than WRITE_EVERY, or all of them, which
costs at most one extra write per visitor. A read keeps those seen within LIVE_FOR (5 min), the
newest LIMIT (200), and reads each one's state for what an operator wants to see.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec

from server.store.base import Store
from server.visitor import VisitorState, decode

WRITE_EVERY = 30  # seconds between two writes for one visitor in one process
LIVE_FOR = 300  # seconds since their last event for a visitor to be live
LIMIT = 200  # visitors listed at most, newest first
CACHE_SIZE = 50_000  # visitors this process remembers writing


class LiveVisitor(msgspec.Struct, kw_only=True):
    visitor: str
    last_seen: float
    page: str = ""  # the path of their latest page view
    title: str = ""
    time_on_site: int = 0  # seconds since their current session started
    device: str = ""
    cart_value: float | int | str | None = None  # the attribute `cart_value`, as the shop sends it
    returning: bool = False  # more than one session
    name: str = ""  # the shop's customer id, only when the shop's server proved it


class LiveVisitors:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock
        self._written: dict[tuple[str, str], float] = {}  # (site, visitor) -> second last written

    def due(self, site: str, visitor_id: str, now: float) -> bool:
        """Whether this process should write the visitor's presence now (no I/O)."""
        return now - self._written.get((site, visitor_id), -WRITE_EVERY) >= WRITE_EVERY

    async def seen(self, site: str, visitor_id: str) -> None:
        """The visitor sent events just now: recorded at most once per WRITE_EVERY seconds."""
        now = self.clock()
        if not self.due(site, visitor_id, now):
            return
        if len(self._written) >= CACHE_SIZE:
            self._written = {key: second for key, second in self._written.items() if now - second < WRITE_EVERY}
            if len(self._written) >= CACHE_SIZE:
                self._written.clear()
        self._written[site, visitor_id] = now
        await self.store.touch_live(site, {visitor_id: now})

    async def live(self, site: str, now: float | None = None) -> list[LiveVisitor]:
        """The site's visitors seen within LIVE_FOR seconds, newest first, at most LIMIT."""
        now = self.clock() if now is None else now
        found = await self.store.read_live(site, now - LIVE_FOR, LIMIT)
        blobs = await asyncio.gather(*(self.store.load_visitor(site, visitor_id) for visitor_id, _ in found))
        pairs = zip(found, blobs, strict=True)
        return [_describe(visitor_id, second, blob, now) for (visitor_id, second), (blob, _) in pairs]


def _describe(visitor_id: str, last_seen: float, blob: bytes | None, now: float) -> LiveVisitor:
    try:
        state = decode(blob) if blob is not None else VisitorState()
    except msgspec.DecodeError:
        state = VisitorState()  # written by an incompatible version: listed without details
    latest = max(state.page_views.items(), key=lambda item: item[1].recent[-1] if item[1].recent else 0, default=None)
    session = state.session
    cart = state.attributes.get("cart_value")
    return LiveVisitor(
        visitor=visitor_id,
        last_seen=last_seen,
        page=latest[0] if latest else "",
        title=latest[1].title if latest else "",
        time_on_site=max(0, int(now - session.start)) if session is not None else 0,
        device=state.device,
        cart_value=cart if isinstance(cart, (int, float, str)) and not isinstance(cart, bool) else None,
        returning=state.sessions > 1,
        name=state.customer if state.verified else "",
    )
