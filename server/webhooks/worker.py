"""The webhook worker: one background task per server process, started in the app's lifespan.

It is an :class:`~server.outbox.Outbox` on the webhook queue (the loop LINE's pushes run too):
each round takes, per site and endpoint that is not disabled, the deliveries that are due (at
most PER_ENDPOINT in flight per endpoint in this process, so a slow receiver holds up only
itself) and sends each in a task of its own; the event path and the chat never wait for it.

What an attempt leads to (docs/webhooks.md, Retries):
- 2xx: delivered.
- 410 Gone: failed, and the endpoint is disabled until its settings in site.yaml change or an
  admin enables it again in the console.
- anything else (another status, a timeout, no connection, a refused address): due again after
  ``backoff × 3^tries`` seconds (at most a day, or longer if the receiver's Retry-After says so),
  times a random 0.8–1.2, until RETRY_FOR (3 days) after it was queued or resent; then failed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping

from server.outbox import Outbox
from server.store.webhooks import Delivery
from server.webhooks.config import Endpoint
from server.webhooks.emit import Webhooks
from server.webhooks.send import Answer, Sender
from server.webhooks.signing import headers

log = logging.getLogger("irasshai.webhooks")

PER_ENDPOINT = 4  # deliveries of one endpoint in flight at once, per process
RETRY_FOR = 3 * 86400  # seconds after queueing (or a resend) that a delivery is retried
MAX_DELAY = 86400  # the longest wait between two attempts
GROWTH = 3


def delay(backoff: float, tries: int, retry_after: float = 0.0) -> float:
    """Seconds until the next attempt after `tries` failed ones (1 for the first failure), with jitter."""
    base = min(MAX_DELAY, backoff * GROWTH ** (tries - 1))
    return max(base * random.uniform(0.8, 1.2), min(retry_after, MAX_DELAY))


class Worker(Outbox):
    what = "webhook deliveries"
    channel = "webhook"
    per_endpoint = PER_ENDPOINT

    def __init__(
        self,
        webhooks: Webhooks,
        sender: Sender,
        keys: Mapping[str, tuple[bytes, ...]],
        backoff: float,
        clock: Callable[[], float] = time.time,
    ):
        # taken deliveries are another process's again after the lease: the send's timeout and a margin
        super().__init__(webhooks.store.webhooks, sender.timeout + 30.0, log, clock, webhooks.wake)
        self.webhooks, self.sender, self.keys, self.backoff = webhooks, sender, keys, backoff

    async def targets(self, now: float) -> list[tuple[str, str]]:
        found = []
        for key, site in list(self.webhooks.sites().items()):
            if not site.webhooks:
                continue
            await self.webhooks.refresh_disabled(key)
            found += [
                (key, endpoint.name)
                for endpoint in site.webhooks.values()
                if not self.webhooks.is_disabled(key, endpoint)
            ]
        return found

    async def deliver(self, site: str, delivery: Delivery) -> None:
        endpoint = self.webhooks.endpoints(site).get(delivery.endpoint)
        if endpoint is None or delivery.type not in endpoint.events:
            what = "is no longer in site.yaml" if endpoint is None else f"no longer subscribes to {delivery.type}"
            await self.finish(site, delivery, "failed", 0, f"endpoint {delivery.endpoint} {what}")
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
        now = self.clock()
        if not answer.error:
            await self.finish(site, delivery, "delivered", answer.status, "")
            return
        if answer.status == 410:
            error = f"{answer.error} (410 Gone: the endpoint is disabled)"
            await self.webhooks.disable(site, endpoint, f"{delivery.id} was answered 410 Gone")
            await self.finish(site, delivery, "failed", answer.status, error)
            return
        next_at = now + delay(self.backoff, delivery.tries + 1, answer.retry_after)
        if next_at > delivery.since + RETRY_FOR:
            error = f"{answer.error} (gave up: no success in {RETRY_FOR // 86400} days)"
            await self.finish(site, delivery, "failed", answer.status, error)
            return
        await self.finish(site, delivery, "retry", answer.status, answer.error, next_at)

    def missing_secrets(self) -> list[str]:
        """Every endpoint in force without a signing secret, as "site/endpoint"."""
        return [
            f"{key}/{name}"
            for key, site in self.webhooks.sites().items()
            for name in site.webhooks
            if not self.keys.get(f"{key}/{name}")
        ]

    async def close(self) -> None:
        await super().close()
        await self.sender.close()
