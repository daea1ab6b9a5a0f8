"""The delivery worker: one background task per server process, started in the app's lifespan.

Each round it takes, per site and endpoint, the deliveries that are due (at most
PER_ENDPOINT in flight per endpoint in this process, so a slow receiver holds up only itself)
and sends each in a task of its own; the event path and the chat never wait for it. A round
runs when this process queued something and otherwise every POLL seconds, so every process
shares the work and each delivery is taken by one of them (server/store/webhooks.py).

What an attempt leads to (docs/webhooks.md, Retries):
- 2xx: delivered.
- 410 Gone: failed, and the endpoint is disabled until its settings in site.yaml change or an
  admin enables it again in the console.
- anything else (another status, a timeout, no connection, a refused address): due again after
  ``backoff × 3^tries`` seconds (at most a day, or longer if the receiver's Retry-After says so),
  times a random 0.8–1.2, until RETRY_FOR (3 days) after it was queued or resent; then failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping

from server.ratelog import RateLimitedLog
from server.store.base import StoreUnavailable
from server.store.webhooks import Delivery
from server.webhooks.config import Endpoint
from server.webhooks.emit import Webhooks
from server.webhooks.send import Answer, Sender
from server.webhooks.signing import headers

log = logging.getLogger("irasshai.webhooks")

POLL = 1.0  # seconds between rounds when this process queued nothing
PER_ENDPOINT = 4  # deliveries of one endpoint in flight at once, per process
RETRY_FOR = 3 * 86400  # seconds after queueing (or a resend) that a delivery is retried
MAX_DELAY = 86400  # the longest wait between two attempts
GROWTH = 3
KEEP = 10_000  # deliveries kept per site for the console (the newest); trimmed every TRIM_EVERY
TRIM_EVERY = 60.0


def delay(backoff: float, tries: int, retry_after: float = 0.0) -> float:
    """Seconds until the next attempt after `tries` failed ones (1 for the first failure), with jitter."""
    base = min(MAX_DELAY, backoff * GROWTH ** (tries - 1))
    return max(base * random.uniform(0.8, 1.2), min(retry_after, MAX_DELAY))


class Worker:
    def __init__(
        self,
        webhooks: Webhooks,
        sender: Sender,
        keys: Mapping[str, tuple[bytes, ...]],
        backoff: float,
        clock: Callable[[], float] = time.time,
    ):
        self.webhooks, self.sender, self.keys, self.backoff, self.clock = webhooks, sender, keys, backoff, clock
        self.failures = RateLimitedLog(log, clock=clock)
        self.lease = sender.timeout + 30.0  # taken deliveries are another process's again after this
        self._in_flight: dict[tuple[str, str], int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._trimmed: dict[str, float] = {}
        self._next_due = float("inf")  # the earliest retry this process scheduled: a round then, not a POLL later

    async def run(self) -> None:
        while True:
            self.webhooks.wake.clear()
            try:
                await self.round()
            except StoreUnavailable as error:
                self.failures.warning("webhook deliveries not taken: %s", error)
            except Exception:  # a bug in one round must not stop every later delivery (logged with its traceback)
                log.exception("webhook worker round failed; trying again")
            wait = min(POLL, max(0.0, self._next_due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.webhooks.wake.wait(), wait)

    async def round(self) -> None:
        now = self.clock()
        if self._next_due <= now:
            self._next_due = float("inf")
        for key, site in list(self.webhooks.sites().items()):
            if not site.webhooks:
                continue
            await self.webhooks.refresh_disabled(key)
            for endpoint in site.webhooks.values():
                free = PER_ENDPOINT - self._in_flight.get((key, endpoint.name), 0)
                if free <= 0 or self.webhooks.is_disabled(key, endpoint):
                    continue
                for delivery in await self.webhooks.store.webhooks.take(key, endpoint.name, now, self.lease, free):
                    self._start(key, delivery)
            if now - self._trimmed.get(key, 0.0) >= TRIM_EVERY:
                self._trimmed[key] = now
                await self.webhooks.store.webhooks.trim(key, KEEP)

    def _start(self, site: str, delivery: Delivery) -> None:
        slot = (site, delivery.endpoint)
        self._in_flight[slot] = self._in_flight.get(slot, 0) + 1
        task = asyncio.create_task(self._deliver(site, delivery))
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            self._in_flight[slot] -= 1
            if not self._in_flight[slot]:
                del self._in_flight[slot]
            if not finished.cancelled() and finished.exception() is not None:
                self.failures.warning("site %s: webhook delivery %s: %s", site, delivery.id, finished.exception())
            self.webhooks.wake.set()  # a slot is free: its endpoint may have more waiting

        task.add_done_callback(done)

    async def _deliver(self, site: str, delivery: Delivery) -> None:
        queue = self.webhooks.store.webhooks
        endpoint = self.webhooks.endpoints(site).get(delivery.endpoint)
        if endpoint is None or delivery.type not in endpoint.events:
            what = "is no longer in site.yaml" if endpoint is None else f"no longer subscribes to {delivery.type}"
            await queue.finish(site, delivery.id, "failed", self.clock(), 0, f"endpoint {delivery.endpoint} {what}")
            return
        if self.webhooks.is_disabled(site, endpoint):
            return  # disabled since it was taken: due again when its lease ends, taken once re-enabled
        keys = self.keys.get(f"{site}/{endpoint.name}")
        if not keys:
            answer = Answer(0, f"no secret for {site}/{endpoint.name} in IRASSHAI_WEBHOOK_SECRETS; nothing was sent")
        else:
            now = int(self.clock())
            answer = await self.sender.send(
                endpoint, headers(keys, delivery.message, now, delivery.body), delivery.body
            )
        await self._record(site, endpoint, delivery, answer)

    async def _record(self, site: str, endpoint: Endpoint, delivery: Delivery, answer: Answer) -> None:
        queue, now = self.webhooks.store.webhooks, self.clock()
        if not answer.error:
            await queue.finish(site, delivery.id, "delivered", now, answer.status, "")
            return
        if answer.status == 410:
            error = f"{answer.error} (410 Gone: the endpoint is disabled)"
            await self.webhooks.disable(site, endpoint, f"{delivery.id} was answered 410 Gone")
            await queue.finish(site, delivery.id, "failed", now, answer.status, error)
            return
        next_at = now + delay(self.backoff, delivery.tries + 1, answer.retry_after)
        if next_at > delivery.since + RETRY_FOR:
            error = f"{answer.error} (gave up: no success in {RETRY_FOR // 86400} days)"
            await queue.finish(site, delivery.id, "failed", now, answer.status, error)
            return
        await queue.finish(site, delivery.id, "retry", now, answer.status, answer.error, next_at)
        self._next_due = min(self._next_due, next_at)

    def missing_secrets(self) -> list[str]:
        """Every endpoint in force without a signing secret, as "site/endpoint"."""
        return [
            f"{key}/{name}"
            for key, site in self.webhooks.sites().items()
            for name in site.webhooks
            if not self.keys.get(f"{key}/{name}")
        ]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.close()
