"""Events per client address, limited across processes without a round trip per batch.

Every process counts the events it admits per (site, address) in memory, and a background
task adds those counts to the store (:meth:`Store.add_hits`, one call per site) about every
`interval` seconds, or at once when an address's unflushed count passes a share (EARLY_SHARE)
of its limit. The store answers each address's total in its one-minute window, counted by
every process; an address whose total plus what this process has admitted since would pass
the limit is refused here (429, Retry-After: the rest of its window) until the window ends.
So the limit holds across processes to within what they admit between two flushes, and a
batch pays nothing for it but a dictionary update.

A store that cannot be reached loses the counts of that flush (logged once per outage): the
limit guards against floods, and refusing every batch because a counter was not written
would be worse than counting a second short.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from server.flusher import Flusher
from server.ratelog import RateLimitedLog
from server.sites import Site
from server.store.base import Store, StoreUnavailable

log = logging.getLogger("irasshai.limits")
WINDOW = 60  # seconds: the limit is per minute
EARLY_SHARE = 0.1  # flush at once when one address's unflushed events pass this share of its limit
MAX_ADDRESSES = 100_000  # addresses remembered per process; beyond, finished windows are forgotten


class AddressRateLimited(Exception):
    """Raised by :meth:`AddressLimits.admit`; server.ratelimits turns it into its RateLimited."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class AddressLimits(Flusher):
    def __init__(
        self,
        store: Store,
        per_minute: int,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.per_minute = per_minute  # the setting; a site's own limit wins (Site.limits)
        super().__init__(interval)
        self.clock = clock
        self._pending: dict[str, dict[str, int]] = {}  # site -> address -> events admitted, not yet flushed
        self._known: dict[tuple[str, str], tuple[int, float]] = {}  # (site, address) -> (store's total, window end)
        self._failures = RateLimitedLog(log, clock=clock)

    def admit(self, site: Site, address: str, events: int) -> None:
        """Count `events` from `address` for `site`, or raise AddressRateLimited (nothing counted)."""
        limit = site.limits.get("events_per_address_per_minute", self.per_minute)
        if not limit or not address:
            return
        now = self.clock()
        key = (site.key, address)
        total, window_end = self._known.get(key, (0, 0.0))
        if window_end <= now:
            total, window_end = 0, now + WINDOW
            self._known[key] = (0, window_end)
        pending = self._pending.setdefault(site.key, {})
        unflushed = pending.get(address, 0)
        if total + unflushed + events > limit and (total or unflushed):
            retry_after = max(1, math.ceil(window_end - now))
            raise AddressRateLimited(
                f"more than {limit} events from this address in a minute; retry in {retry_after} s", retry_after
            )
        pending[address] = unflushed + events
        if pending[address] >= limit * EARLY_SHARE:
            self.wake()

    async def flush(self) -> None:
        """Add the unflushed counts to the store, one call per site, and learn the totals."""
        pending, self._pending = self._pending, {}
        for site, counts in pending.items():
            try:
                totals = await self.store.add_hits(
                    site, {f"events:{address}": n for address, n in counts.items()}, WINDOW
                )
            except StoreUnavailable as error:
                self._failures.warning("site %s: events per address not counted: %s", site, error)
                continue
            now = self.clock()
            if len(self._known) >= MAX_ADDRESSES:
                self._known = {key: entry for key, entry in self._known.items() if entry[1] > now}
            for counter, (total, ttl) in totals.items():
                address = counter.removeprefix("events:")
                # What was admitted here since this flush began is still pending: not in `total`.
                self._known[site, address] = (total, now + ttl)
