"""The background loop that sends what a delivery queue holds: the webhook worker and LINE's pushes.

One :class:`Outbox` per queue (server/store/webhooks.py) runs in each server process, started in
the app's lifespan. Each round it asks its owner which (site, endpoint) pairs to look at
(``targets``), takes the deliveries that are due there, at most ``per_endpoint`` in flight per
endpoint in this process (so a slow receiver holds up only itself), and hands each to
``deliver`` in a task of its own; nothing on a request's path waits for it. A round runs when
this process queued something (``wake``), when a retry it scheduled falls due, and otherwise
every POLL seconds, so every process shares the work and each delivery is taken by one of them.

``deliver`` ends by calling :meth:`Outbox.finish` (delivered, a retry at some time, or failed).
A process that dies while sending leaves the delivery to be taken again when its lease ends; one
that stops on purpose (``close``) releases what it had taken, due at once for the next process.
Either way a delivery may be attempted again after an attempt whose answer was lost: at least
once; a receiver makes that harmless with the delivery's id (webhook-id, X-Line-Retry-Key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from server import metrics
from server.ratelog import RateLimitedLog
from server.store.base import StoreUnavailable
from server.store.webhooks import Delivery, DeliveryQueue

POLL = 1.0  # seconds between rounds when this process queued nothing
KEEP = 10_000  # deliveries kept per site (the newest); trimmed every TRIM_EVERY
TRIM_EVERY = 60.0


class Outbox:
    what = "deliveries"  # what the log calls them
    channel = "other"  # the label of its attempts in irasshai_deliveries_total
    per_endpoint = 4  # deliveries of one endpoint in flight at once, per process

    def __init__(
        self,
        queue: DeliveryQueue,
        lease: float,
        log: logging.Logger,
        clock: Callable[[], float] = time.time,
        wake: asyncio.Event | None = None,
    ):
        self.queue, self.lease, self.log, self.clock = queue, lease, log, clock
        self.wake = wake or asyncio.Event()  # set when this process queued something: a round at once
        self.failures = RateLimitedLog(log, clock=clock)
        self._in_flight: dict[tuple[str, str], int] = {}
        self._tasks: dict[asyncio.Task, tuple[str, str]] = {}  # task -> (site, delivery id) it sends
        self._trimmed: dict[str, float] = {}
        self._next_due = float("inf")  # the earliest retry this process scheduled: a round then, not a POLL later
        self._runner: asyncio.Task | None = None
        self._closing = False

    # -- what an owner says ---------------------------------------------------------------------

    async def targets(self, now: float) -> list[tuple[str, str]]:
        """The (site, endpoint) pairs to take due deliveries from this round."""
        raise NotImplementedError

    async def deliver(self, site: str, delivery: Delivery) -> None:
        """Attempt `delivery` and record the outcome with :meth:`finish`."""
        raise NotImplementedError

    async def finish(
        self, site: str, delivery: Delivery, outcome: str, status: int, error: str, next_at: float = 0.0
    ) -> None:
        """Record an attempt (server/store/webhooks.py); a retry also makes this process look then."""
        await self.queue.finish(site, delivery.id, outcome, self.clock(), status, error, next_at, delivery.lane)
        metrics.DELIVERIES.labels(self.channel, outcome).inc()
        if outcome == "retry":
            self._next_due = min(self._next_due, next_at)

    # -- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the loop in the background until :meth:`close`."""
        self._runner = asyncio.create_task(self.run())

    async def run(self) -> None:
        while not self._closing:
            self.wake.clear()
            try:
                await self.round()
            except StoreUnavailable as error:
                self.failures.warning("%s not taken: %s", self.what, error)
            except Exception:  # a bug in one round must not stop every later delivery (logged with its traceback)
                self.log.exception("round of %s failed; trying again", self.what)
            wait = min(POLL, max(0.0, self._next_due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait)

    async def round(self) -> None:
        now = self.clock()
        if self._next_due <= now:
            self._next_due = float("inf")
        visited = set()
        for site, endpoint in await self.targets(now):
            visited.add(site)
            free = self.per_endpoint - self._in_flight.get((site, endpoint), 0)
            if free > 0:
                for delivery in await self.queue.take(site, endpoint, now, self.lease, free):
                    self._start(site, delivery)
        for site in visited:
            if now - self._trimmed.get(site, 0.0) >= TRIM_EVERY:
                self._trimmed[site] = now
                await self.queue.trim(site, KEEP)

    def _start(self, site: str, delivery: Delivery) -> None:
        if self._closing:
            return  # taken again when its lease ends
        slot = (site, delivery.endpoint)
        self._in_flight[slot] = self._in_flight.get(slot, 0) + 1
        task = asyncio.create_task(self.deliver(site, delivery))
        self._tasks[task] = (site, delivery.id)

        def done(finished: asyncio.Task) -> None:
            self._tasks.pop(finished, None)
            self._in_flight[slot] -= 1
            if not self._in_flight[slot]:
                del self._in_flight[slot]
            if not finished.cancelled() and finished.exception() is not None:
                self.failures.warning("site %s: %s %s: %s", site, self.what, delivery.id, finished.exception())
            self.wake.set()  # a slot is free: its endpoint may have more waiting

        task.add_done_callback(done)

    async def close(self) -> None:
        """Stop sending: what is in flight is cancelled and released, due at once for another process."""
        self._closing = True  # the loop takes nothing more, even should a cancellation be lost in a wait
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        taken = dict(self._tasks)
        for task in taken:
            task.cancel()
        if taken:
            await asyncio.gather(*taken, return_exceptions=True)
        now = self.clock()
        for site, delivery in taken.values():
            try:
                await self.queue.release(site, delivery, now)
            except StoreUnavailable as error:  # taken again when its lease ends
                self.log.warning("site %s: %s %s not released: %s", site, self.what, delivery, error)
