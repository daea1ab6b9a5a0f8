"""A delivery queue in this process's memory (the in-memory store's two: webhooks, LINE pushes).

The same contract as Redis (server/store/webhooks_redis.py), TTLs included: a site's deliveries
go when nothing was written for the queue's TTL. No method awaits, so each is atomic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from server.store.keys import WEBHOOKS_DISABLED_TTL, WEBHOOKS_TTL
from server.store.webhooks import Delivery, endpoint_of


@dataclass
class _Site:
    expires: float
    deliveries: dict[str, Delivery] = field(default_factory=dict)  # id -> delivery, in order of queueing
    due: dict[str, dict[str, float]] = field(default_factory=dict)  # endpoint -> id -> due second
    lanes: dict[str, list[str]] = field(default_factory=dict)  # lane -> its unfinished ids, in order


class MemoryDeliveryQueue:
    def __init__(self, clock: Callable[[], float] = time.time, ttl: int = WEBHOOKS_TTL):
        self._clock = clock
        self._ttl = ttl
        self._sites: dict[str, _Site] = {}
        self._disabled: dict[str, tuple[float, dict[str, bytes]]] = {}  # site -> (expires, endpoint -> record)

    def _site(self, site: str, write: bool = False) -> _Site:
        now = self._clock()
        found = self._sites.get(site)
        if found is None or found.expires <= now:
            found = _Site(expires=now + self._ttl)
            if write:
                self._sites[site] = found
        if write:
            found.expires = now + self._ttl
        return found

    async def queue(self, site: str, deliveries: list[Delivery]) -> None:
        state = self._site(site, write=True)
        for delivery in deliveries:
            state.deliveries[delivery.id] = msgspec.structs.replace(delivery)
            due = state.due.setdefault(delivery.endpoint, {})
            if not delivery.lane:
                due[delivery.id] = delivery.next_at
                continue
            lane = state.lanes.setdefault(delivery.lane, [])
            if lane and lane[0] not in due:  # its first was lost (trimmed): skip it
                lane.pop(0)
                if lane:
                    due[lane[0]] = delivery.next_at
            lane.append(delivery.id)
            if lane[0] == delivery.id:
                due[delivery.id] = delivery.next_at

    async def take(self, site: str, endpoint: str, now: float, lease: float, limit: int) -> list[Delivery]:
        state = self._site(site)
        due = state.due.get(endpoint, {})
        ready = sorted((at, delivery) for delivery, at in due.items() if at <= now)[:limit]
        taken = []
        for _, delivery in ready:
            found = state.deliveries.get(delivery)
            if found is None:
                del due[delivery]
                continue
            due[delivery] = now + lease
            taken.append(msgspec.structs.replace(found))
        if taken:
            self._site(site, write=True)
        return taken

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
        state = self._site(site)
        found = state.deliveries.get(delivery)
        due = state.due.setdefault(endpoint_of(delivery), {})
        done = True
        if found is None:
            due.pop(delivery, None)
        else:
            found.attempts += 1
            found.tries += 1
            found.last_at, found.last_status, found.last_error = at, status, error
            if outcome == "delivered":
                found.status, found.next_at = "delivered", 0.0
                due.pop(delivery, None)
            elif found.status == "delivered" or (lane and found.status == "failed"):
                due.pop(delivery, None)  # a stale attempt: another process finished it meanwhile
            elif outcome == "retry":
                found.status, found.next_at = "pending", next_at
                due[delivery] = next_at
                done = False
            else:
                found.status, found.next_at = "failed", 0.0
                due.pop(delivery, None)
            self._site(site, write=True)
        waiting = state.lanes.get(lane) if lane else None
        if waiting and done and delivery in waiting:
            first = waiting[0] == delivery
            waiting.remove(delivery)
            if first and waiting:
                due[waiting[0]] = at
            if not waiting:
                del state.lanes[lane]

    async def release(self, site: str, delivery: str, now: float) -> None:
        due = self._site(site).due.get(endpoint_of(delivery), {})
        if delivery in due:
            due[delivery] = now

    async def get(self, site: str, delivery: str) -> Delivery | None:
        found = self._site(site).deliveries.get(delivery)
        return None if found is None else msgspec.structs.replace(found)

    async def recent(self, site: str, limit: int) -> list[Delivery]:
        deliveries = list(self._site(site).deliveries.values())
        newest = sorted(deliveries, key=lambda d: d.created, reverse=True)[:limit]
        return [msgspec.structs.replace(d) for d in newest]

    async def resend(self, site: str, delivery: str, now: float) -> bool:
        state = self._site(site)
        found = state.deliveries.get(delivery)
        if found is None:
            return False
        found.status, found.tries, found.since, found.next_at = "pending", 0, now, now
        state.due.setdefault(found.endpoint, {})[delivery] = now
        self._site(site, write=True)
        return True

    async def trim(self, site: str, keep: int) -> int:
        state = self._site(site)
        oldest = sorted(state.deliveries.values(), key=lambda d: d.created)
        dropped = oldest[: max(0, len(oldest) - keep)]
        for delivery in dropped:
            del state.deliveries[delivery.id]
            state.due.get(delivery.endpoint, {}).pop(delivery.id, None)
        return len(dropped)

    async def forget(self, site: str, needle: str) -> int:
        state, found = self._site(site), needle.encode()
        doomed = [d for d in state.deliveries.values() if found in d.body or (d.lane and d.lane == needle)]
        for delivery in doomed:
            del state.deliveries[delivery.id]
            due = state.due.get(delivery.endpoint, {})
            due.pop(delivery.id, None)
            lane = state.lanes.get(delivery.lane)
            if lane and delivery.id in lane:
                lane.remove(delivery.id)
                if lane and lane[0] not in due:
                    due[lane[0]] = self._clock()
                if not lane:
                    del state.lanes[delivery.lane]
        return len(doomed)

    def _disabled_of(self, site: str) -> dict[str, bytes]:
        entry = self._disabled.get(site)
        return entry[1] if entry is not None and entry[0] > self._clock() else {}

    async def disabled(self, site: str) -> dict[str, bytes]:
        return dict(self._disabled_of(site))

    async def disable(self, site: str, endpoint: str, record: bytes) -> None:
        self._disabled[site] = (self._clock() + WEBHOOKS_DISABLED_TTL, {**self._disabled_of(site), endpoint: record})

    async def enable(self, site: str, endpoint: str) -> bool:
        records = self._disabled_of(site)
        found = records.pop(endpoint, None) is not None
        self._disabled[site] = (self._clock() + WEBHOOKS_DISABLED_TTL, records)
        return found
