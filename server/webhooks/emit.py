"""Emitting webhook events: what the event path, the redeem endpoint and the chat call.

:meth:`Webhooks.emit` returns at once, without touching the store, when no endpoint of the site
subscribes to the event's type; otherwise it queues one delivery per subscribed endpoint in one
store write (server/store/webhooks.py) and wakes this process's worker. It never raises into
its caller: a store failure is logged (one line per few seconds) and the event is not sent.
Nothing here talks to a receiver: the worker (server/webhooks/worker.py) does, in the background.

An endpoint a receiver disabled with 410 is skipped while its settings in site.yaml stay the
same (its *fingerprint*); the worker refreshes which endpoints are disabled every round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

import msgspec

from server.ratelog import RateLimitedLog
from server.sites import Site
from server.store.base import Store, StoreUnavailable
from server.store.webhooks import Delivery, delivery_id
from server.webhooks.config import Endpoint
from server.webhooks.events import payload
from server.webhooks.signing import message_id

log = logging.getLogger("irasshai.webhooks")


class Disabled(msgspec.Struct):
    """Why an endpoint is disabled: while `fingerprint` is its fingerprint, it stays so."""

    fingerprint: str
    at: float
    reason: str


class Webhooks:
    def __init__(self, store: Store, sites: Callable[[], Mapping[str, Site]], clock: Callable[[], float] = time.time):
        self.store = store
        self.sites = sites  # the sites in force (swapped whole on reload)
        self.clock = clock
        self.failures = RateLimitedLog(log, clock=clock)
        self.wake = asyncio.Event()  # set when this process queued something: its worker looks at once
        self._disabled: dict[str, dict[str, Disabled]] = {}  # site -> endpoint -> record, as last read

    def endpoints(self, site_key: str) -> dict[str, Endpoint]:
        site = self.sites().get(site_key)
        return site.webhooks if site is not None else {}

    def is_disabled(self, site_key: str, endpoint: Endpoint) -> bool:
        found = self._disabled.get(site_key, {}).get(endpoint.name)
        return found is not None and found.fingerprint == endpoint.fingerprint

    def disabled_record(self, site_key: str, endpoint: Endpoint) -> Disabled | None:
        return self._disabled.get(site_key, {}).get(endpoint.name) if self.is_disabled(site_key, endpoint) else None

    def subscribers(self, site_key: str, type: str) -> list[Endpoint]:
        """The site's endpoints that want `type` and are not disabled. No I/O."""
        return [
            endpoint
            for endpoint in self.endpoints(site_key).values()
            if type in endpoint.events and not self.is_disabled(site_key, endpoint)
        ]

    def wants(self, site_key: str, type: str) -> bool:
        """Whether an event of `type` would be sent; for data that costs something to gather."""
        return bool(self.subscribers(site_key, type))

    async def emit(self, site_key: str, type: str, data: dict, at: float | None = None) -> None:
        """Queue the event (`at`: when it happened, default now) for every endpoint that wants it."""
        await self.emit_many(site_key, [(type, data, at)])

    async def emit_many(self, site_key: str, events: list[tuple[str, dict, float | None]]) -> None:
        """Queue several events of one site in one store write (none when nobody subscribes)."""
        deliveries = []
        now = self.clock()
        for type, data, at in events:
            endpoints = self.subscribers(site_key, type)
            if not endpoints:
                continue
            message, body = message_id(), payload(type, now if at is None else at, data)
            for endpoint in endpoints:
                deliveries.append(
                    Delivery(
                        id=delivery_id(message, endpoint.name),
                        message=message,
                        endpoint=endpoint.name,
                        type=type,
                        body=body,
                        created=now,
                        since=now,
                        next_at=now,
                    )
                )
        if not deliveries:
            return
        try:
            await self.store.webhooks.queue(site_key, deliveries)
        except StoreUnavailable as error:
            self.failures.warning("site %s: webhook events not queued (not sent): %s", site_key, error)
            return
        self.wake.set()

    async def refresh_disabled(self, site_key: str) -> None:
        records = await self.store.webhooks.disabled(site_key)
        decoded = {}
        for name, record in records.items():
            try:
                decoded[name] = msgspec.json.decode(record, type=Disabled)
            except msgspec.DecodeError:
                continue  # written by an incompatible version: not disabled
        self._disabled[site_key] = decoded

    async def disable(self, site_key: str, endpoint: Endpoint, reason: str) -> None:
        record = Disabled(fingerprint=endpoint.fingerprint, at=self.clock(), reason=reason)
        await self.store.webhooks.disable(site_key, endpoint.name, msgspec.json.encode(record))
        self._disabled.setdefault(site_key, {})[endpoint.name] = record
        log.warning("site %s: webhook endpoint %s disabled: %s", site_key, endpoint.name, reason)

    async def enable(self, site_key: str, endpoint: Endpoint) -> bool:
        found = await self.store.webhooks.enable(site_key, endpoint.name)
        self._disabled.get(site_key, {}).pop(endpoint.name, None)
        self.wake.set()
        return found
