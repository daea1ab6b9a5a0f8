"""A delivery queue: deliveries waiting, in flight and done, per site.

Two queues use it, each under keys of its own (server/store/keys.py): outbound webhooks
(``store.webhooks``, one :class:`Delivery` per event and endpoint, docs/webhooks.md) and
operators' replies pushed to LINE (``store.line_pushes``, one per reply, docs/line.md); the
loop that sends them is server/outbox.py.

Queueing is one write (however many endpoints); a worker *takes* the deliveries of an endpoint
that are due, which atomically pushes their due time past a lease, so two processes never send
the same delivery at once, and a process that dies mid-send leaves it to be taken again when
the lease ends (at least once). A process that stops on purpose *releases* what it had taken,
due at once. The worker then *finishes* a delivery: delivered, due again later (a retry), or
failed for good.

A delivery may belong to a *lane* (a LINE user): the deliveries of one lane are sent one after
another, in the order queued. Only a lane's first unfinished delivery is due; finishing it
(delivered or failed) makes the next one due, in the same atomic step. Should a lane's first
delivery be lost (trimmed, expired), the next queueing into that lane skips it.

A site keeps its newest deliveries for the console (``trim``) and a list of endpoints a receiver
disabled with 410. Both stores implement :class:`DeliveryQueue`, checked by one contract test
suite.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

OUTCOMES = ("delivered", "retry", "failed")
STATUSES = ("pending", "delivered", "failed")


class Delivery(msgspec.Struct, kw_only=True):
    id: str  # "<message>.<endpoint>": unique per site
    message: str  # the event's id, sent as webhook-id on every attempt
    endpoint: str
    type: str
    body: bytes  # the payload exactly as signed and sent
    created: float
    lane: str = ""  # deliveries of one lane are sent one after another, in the order queued; "": none
    status: str = "pending"  # one of STATUSES
    attempts: int = 0  # attempts so far, resends included
    tries: int = 0  # attempts since it was queued or resent: the step of the backoff
    since: float = 0.0  # when it was queued or resent; it is retried for a while after that
    next_at: float = 0.0  # when a pending delivery is due
    last_at: float = 0.0  # when the last attempt ended
    last_status: int = 0  # the receiver's HTTP status at the last attempt; 0: none (no answer)
    last_error: str = ""  # one line, empty after a success


def delivery_id(message: str, endpoint: str) -> str:
    return f"{message}.{endpoint}"


def endpoint_of(delivery: str) -> str:
    """The endpoint of a delivery id (endpoint names never hold a '.')."""
    return delivery.rpartition(".")[2]


class DeliveryQueue(Protocol):
    async def queue(self, site: str, deliveries: list[Delivery]) -> None:
        """Add the deliveries, each due at its `next_at` (one in a lane: once it is the lane's
        first); one write, or one per delivery in a lane."""

    async def take(self, site: str, endpoint: str, now: float, lease: float, limit: int) -> list[Delivery]:
        """Up to `limit` deliveries of `endpoint` due at `now`, oldest due first, made due again
        at `now + lease` (taken by no one else until then). Atomic."""

    async def finish(
        self,
        site: str,
        delivery: str,
        outcome: str,
        at: float,
        status: int,
        error: str,
        next_at: float = 0.0,
        lane: str = "",
    ) -> None:
        """Record an attempt that ended at `at`: `outcome` "delivered", "retry" (due again at
        `next_at`) or "failed" (never retried). A delivery already delivered stays delivered;
        one trimmed meanwhile is forgotten. Finished (delivered or failed), it leaves its `lane`
        (the delivery's), whose next delivery is then due at `at`."""

    async def release(self, site: str, delivery: str, now: float) -> None:
        """Hand back a taken delivery (its process is stopping): due at `now` if still pending,
        no attempt counted; nothing if it was finished meanwhile."""

    async def get(self, site: str, delivery: str) -> Delivery | None: ...

    async def recent(self, site: str, limit: int) -> list[Delivery]:
        """The site's newest deliveries, newest first."""

    async def resend(self, site: str, delivery: str, now: float) -> bool:
        """Make a kept delivery pending and due now, its retries counted afresh; False if unknown.
        For deliveries without a lane (the console's Resend of a webhook)."""

    async def trim(self, site: str, keep: int) -> int:
        """Forget all but the newest `keep` deliveries of the site; how many were dropped."""

    async def forget(self, site: str, needle: str) -> int:
        """Delete every kept delivery whose body holds `needle` (a visitor id), or of the lane
        `needle`, whatever its status (docs/privacy.md); a lane's next delivery becomes due. How many."""

    async def disabled(self, site: str) -> dict[str, bytes]:
        """Endpoint name -> why it was disabled (server.webhooks.emit's record), for every disabled one."""

    async def disable(self, site: str, endpoint: str, record: bytes) -> None: ...

    async def enable(self, site: str, endpoint: str) -> bool:
        """Undo `disable`; False if it was not disabled."""
