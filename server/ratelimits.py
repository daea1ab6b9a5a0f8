"""Rate limits per client address, counted in the store so that every process shares them.

The widget's requests carry no credential a script could not make up, so what one client
address may do is bounded: how many new visitors it creates per minute and per hour (beyond
that its batches without a token get 429 and a Retry-After, and the widget retries later, so
nothing is lost), and how many coupon codes of unique or generated pools it is handed per day
(beyond that a coupon rule gets no code, as from an empty pool, and the next rule is tried).
A returning visitor pays nothing for this: only a batch that creates a visitor, or a rule
that hands out a code, counts. A limit of 0 turns that limit off.

Events per visitor are counted inside the visitor's own state, which the event path reads
and writes (compare-and-set) anyway: no round trip of their own. Events per client address
are counted by :mod:`server.address_limits`, in memory and flushed to the store about once a
second. Every limit is the setting of the same name unless the site sets its own in
site.yaml's ``limits`` (server/site_limits.py).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from server import metrics
from server.address_limits import AddressLimits, AddressRateLimited
from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.engage import Coupons
from server.sites import Site
from server.store.base import Store
from server.visitor import VisitorState

log = logging.getLogger("irasshai.limits")
MINUTE, HOUR, DAY = 60, 3600, 86400


class RateLimited(Exception):
    """A limit is reached; `str(error)` is one line, `retry_after` the seconds until it resets,
    `limit` which one (a label of the irasshai_rate_limited metric)."""

    def __init__(self, message: str, retry_after: int, limit: str = "other"):
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


@dataclass(frozen=True)
class RateLimits:
    """The settings' limits (each overridden by a site's own, see :meth:`limit`)."""

    store: Store
    new_visitors_per_minute: int = 0
    new_visitors_per_hour: int = 0
    codes_per_day: int = 0
    events_per_visitor_per_minute: int = 0
    addresses: AddressLimits | None = None  # events per client address (none: no such limit)

    def limit(self, site: Site, name: str) -> int:
        """The limit `name` for `site`: its own from site.yaml, else the setting's; 0 is off."""
        return site.limits.get(name, getattr(self, name))

    def events_from(self, site: Site, address: str, events: int) -> None:
        """Admit a batch of `events` from `address`, or raise RateLimited (no I/O: see server.address_limits)."""
        if self.addresses is not None:
            try:
                self.addresses.admit(site, address, events)
            except AddressRateLimited as error:
                raise RateLimited(str(error), error.retry_after) from None

    def visitor_events(self, site: Site, state: VisitorState, events: int, now: float) -> None:
        """Count `events` new events in the visitor's `state` (written with it); RateLimited when the
        visitor already sent events this minute and these would take them past the site's limit.
        The first batch of a minute is always let in, so that a batch larger than the limit is not
        refused forever (the widget sends at most 50 events at a time)."""
        limit = self.limit(site, "events_per_visitor_per_minute")
        if not limit or not events:
            return
        start, counted = state.event_window or (0, 0)
        if now >= start + MINUTE:
            start, counted = int(now), 0
        if counted and counted + events > limit:
            retry_after = max(1, math.ceil(start + MINUTE - now))
            raise RateLimited(
                f"more than {limit} events from this visitor in a minute; retry in {retry_after} s", retry_after
            )
        state.event_window = [start, counted + events]

    def counts_new_visitors(self, address: str) -> bool:
        """Whether a new visitor from `address` is counted (costs a round trip)."""
        return bool(address and (self.new_visitors_per_minute or self.new_visitors_per_hour))

    async def new_visitor(self, site: Site, address: str) -> None:
        """Count a new visitor from `address`; raise RateLimited when over a limit."""
        limits = [
            (window, limit)
            for window, limit in (
                (MINUTE, self.limit(site, "new_visitors_per_minute")),
                (HOUR, self.limit(site, "new_visitors_per_hour")),
            )
            if limit
        ]
        if not address or not limits:
            return
        counted = await self.store.hit(site.key, f"new-visitors:{address}", tuple(window for window, _ in limits))
        waits = [ttl for (hits, ttl), (_, limit) in zip(counted, limits, strict=True) if hits > limit]
        if waits:
            raise RateLimited(
                f"too many new visitors from this address; retry in {max(waits)} s", max(waits), "new_visitors"
            )

    def coupons(self, coupons: Coupons, address: str) -> Coupons:
        """`coupons`, handing out at most `codes_per_day` (the site's) unique or generated codes to `address`."""
        if not address:
            return coupons
        return _LimitedCoupons(coupons, self, address)


class _LimitedCoupons:
    def __init__(self, coupons: Coupons, limits: RateLimits, address: str):
        self.coupons, self.limits, self.address = coupons, limits, address

    async def code_for(self, site: Site, pool: CouponPool, visitor_id: str, now: float) -> Coupon | None:
        limit = self.limits.limit(site, "codes_per_day")
        if limit and pool.kind != "shared":  # one shared code cannot be drained
            # Counted before the claim, so that a code over the limit is never taken from the
            # pool; a visitor shown their own code again counts again (one more round trip
            # would be needed to tell), which only a very busy shared address will notice.
            [(hits, _)] = await self.limits.store.hit(site.key, f"codes:{self.address}", (DAY,))
            if hits > limit:
                metrics.RATE_LIMITED.labels("codes_per_day").inc()
                log.warning(
                    "site %s: coupon pool %s: no code for visitor %s: their address was handed "
                    "%d codes today (limit %d)",
                    site.key,
                    pool.name,
                    visitor_id,
                    hits - 1,
                    limit,
                )
                return None
        return await self.coupons.code_for(site, pool, visitor_id, now)
