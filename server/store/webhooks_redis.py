"""A delivery queue in Redis (server/store/webhooks.py): shared by every process, so each delivery
is taken by one of them at a time. The store has two: webhooks and LINE pushes.

Queueing is one Lua call that runs at once (each delivery's HASH, its endpoint's due ZSET, the
site's recent ZSET, with their TTLs: :class:`~server.store.redis_client.Atomic`, as MULTI would),
or one Lua script per delivery in a lane (it also joins the lane's LIST); taking is one Lua
script per endpoint and one pipelined read; finishing and resending are one Lua script each,
releasing one ZADD. Every key of a site's queue shares the tag ``{site:<queue>}``, so all of this
touches one slot of a Redis Cluster. Every key comes from :mod:`server.store.keys`, with a TTL.
"""

from __future__ import annotations

from importlib.resources import files

import redis.asyncio as redis
from redis.exceptions import RedisError

from server.store import keys
from server.store.base import StoreUnavailable
from server.store.redis_client import MAX_ARGUMENTS, Atomic
from server.store.webhooks import Delivery, endpoint_of

_LUA = files("server.store").joinpath("lua")
_FLOATS = ("created", "since", "next_at", "last_at")
_INTEGERS = ("attempts", "tries", "last_status")


def _fields(delivery: Delivery) -> dict[str, bytes | str]:
    return {
        "message": delivery.message,
        "endpoint": delivery.endpoint,
        "type": delivery.type,
        "body": delivery.body,
        "lane": delivery.lane,
        "created": repr(delivery.created),
        "status": delivery.status,
        "attempts": str(delivery.attempts),
        "tries": str(delivery.tries),
        "since": repr(delivery.since),
        "next_at": repr(delivery.next_at),
        "last_at": repr(delivery.last_at),
        "last_status": str(delivery.last_status),
        "last_error": delivery.last_error,
    }


def _delivery(delivery: str, found: dict[bytes, bytes]) -> Delivery | None:
    """The delivery from its HASH; None when it is gone (or not whole)."""
    if b"body" not in found:
        return None
    values: dict = {name.decode(): value.decode() for name, value in found.items() if name != b"body"}
    values.update({name: float(values.get(name) or 0) for name in _FLOATS})
    values.update({name: int(values.get(name) or 0) for name in _INTEGERS})
    return Delivery(id=delivery, body=found[b"body"], **values)


class RedisDeliveryQueue:
    def __init__(
        self, client: redis.Redis, url: str, atomic: Atomic, name: str = keys.WEBHOOKS, ttl: int = keys.WEBHOOKS_TTL
    ):
        self._client, self.url, self._atomic, self.name, self.ttl = client, url, atomic, name, ttl
        self._take = client.register_script(_LUA.joinpath("take_webhooks.lua").read_text())
        self._finish = client.register_script(_LUA.joinpath("finish_webhook.lua").read_text())
        self._resend = client.register_script(_LUA.joinpath("resend_webhook.lua").read_text())
        self._queue_lane = client.register_script(_LUA.joinpath("queue_lane.lua").read_text())

    def _delivery_key(self, site: str, delivery: str) -> str:
        return keys.queue_delivery(site, delivery, self.name)

    def _due(self, site: str, endpoint: str) -> str:
        return keys.queue_due(site, endpoint, self.name)

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"Redis at {self.url} is unreachable: {error}")

    async def queue(self, site: str, deliveries: list[Delivery]) -> None:
        plain = [delivery for delivery in deliveries if not delivery.lane]
        try:
            if plain:
                await self._queue_plain(site, plain)
            for delivery in deliveries:
                if delivery.lane:
                    await self._queue_in_lane(site, delivery)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def _queue_plain(self, site: str, deliveries: list[Delivery]) -> None:
        recent = keys.queue_recent(site, self.name)
        commands: list[tuple] = []
        for delivery in deliveries:
            key, due = self._delivery_key(site, delivery.id), self._due(site, delivery.endpoint)
            fields = [word for pair in _fields(delivery).items() for word in pair]
            commands += [
                ("HSET", key, *fields),
                ("EXPIRE", key, self.ttl),
                ("ZADD", due, repr(delivery.next_at), delivery.id),
                ("EXPIRE", due, self.ttl),
                ("ZADD", recent, repr(delivery.created), delivery.id),
            ]
        commands.append(("EXPIRE", recent, self.ttl))
        await self._atomic(*commands)

    async def _queue_in_lane(self, site: str, delivery: Delivery) -> None:
        script_keys = [
            self._delivery_key(site, delivery.id),
            self._due(site, delivery.endpoint),
            keys.queue_recent(site, self.name),
            keys.queue_lane(site, delivery.lane, self.name),
        ]
        fields = [item for pair in _fields(delivery).items() for item in pair]
        await self._queue_lane(
            keys=script_keys, args=[delivery.id, repr(delivery.created), repr(delivery.next_at), self.ttl, *fields]
        )

    async def take(self, site: str, endpoint: str, now: float, lease: float, limit: int) -> list[Delivery]:
        due = self._due(site, endpoint)
        try:
            ids = [i.decode() for i in await self._take(keys=[due], args=[now, now + lease, limit, self.ttl])]
            if not ids:
                return []
            found = await self._read(site, ids)
            gone = [i for i, delivery in zip(ids, found, strict=True) if delivery is None]
            if gone:  # trimmed or expired while due: nothing to send
                await self._client.zrem(due, *gone)
        except RedisError as error:
            raise self._unavailable(error) from None
        return [delivery for delivery in found if delivery is not None]

    async def _read(self, site: str, ids: list[str]) -> list[Delivery | None]:
        pipe = self._client.pipeline(transaction=False)
        for delivery in ids:
            pipe.hgetall(self._delivery_key(site, delivery))
        return [_delivery(i, found) for i, found in zip(ids, await pipe.execute(), strict=True)]

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
        script_keys = [self._delivery_key(site, delivery), self._due(site, endpoint_of(delivery))]
        if lane:
            script_keys.append(keys.queue_lane(site, lane, self.name))
        try:
            await self._finish(
                keys=script_keys,
                args=[delivery, outcome, repr(at), status, error, repr(next_at), self.ttl],
            )
        except RedisError as failure:
            raise self._unavailable(failure) from None

    async def release(self, site: str, delivery: str, now: float) -> None:
        try:  # XX: only one still due (a finished one has left the due list)
            await self._client.zadd(self._due(site, endpoint_of(delivery)), {delivery: now}, xx=True)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def get(self, site: str, delivery: str) -> Delivery | None:
        try:
            return _delivery(delivery, await self._client.hgetall(self._delivery_key(site, delivery)))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def recent(self, site: str, limit: int) -> list[Delivery]:
        try:
            ids = [i.decode() for i in await self._client.zrevrange(keys.queue_recent(site, self.name), 0, limit - 1)]
            found = await self._read(site, ids) if ids else []
        except RedisError as error:
            raise self._unavailable(error) from None
        return [delivery for delivery in found if delivery is not None]

    async def resend(self, site: str, delivery: str, now: float) -> bool:
        script_keys = [self._delivery_key(site, delivery), self._due(site, endpoint_of(delivery))]
        try:
            return bool(await self._resend(keys=script_keys, args=[delivery, repr(now), self.ttl]))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def trim(self, site: str, keep: int) -> int:
        recent = keys.queue_recent(site, self.name)
        try:
            ids = [i.decode() for i in await self._client.zrange(recent, 0, -(keep + 1))]
            if not ids:
                return 0
            for start in range(0, len(ids), MAX_ARGUMENTS):
                chunk = ids[start : start + MAX_ARGUMENTS]
                await self._atomic(
                    *(("DEL", self._delivery_key(site, delivery)) for delivery in chunk),
                    *(("ZREM", self._due(site, endpoint_of(delivery)), delivery) for delivery in chunk),
                    ("ZREM", recent, *chunk),
                )
        except RedisError as error:
            raise self._unavailable(error) from None
        return len(ids)

    async def forget(self, site: str, needle: str) -> int:
        recent, found = keys.queue_recent(site, self.name), needle.encode()
        try:
            ids = [i.decode() for i in await self._client.zrange(recent, 0, -1)]
            doomed: list[tuple[str, str]] = []  # (delivery, lane)
            for start in range(0, len(ids), MAX_ARGUMENTS):
                pipe = self._client.pipeline(transaction=False)
                for delivery in ids[start : start + MAX_ARGUMENTS]:
                    pipe.hmget(self._delivery_key(site, delivery), "body", "lane")
                for delivery, (body, lane) in zip(ids[start:], await pipe.execute(), strict=False):
                    if body is not None and (found in body or (lane and lane == found)):
                        doomed.append((delivery, (lane or b"").decode()))
            for delivery, lane in doomed:  # one call each: few, and each whole
                commands = [
                    ("DEL", self._delivery_key(site, delivery)),
                    ("ZREM", self._due(site, endpoint_of(delivery)), delivery),
                    ("ZREM", recent, delivery),
                ]
                if lane:
                    commands.append(("LREM", keys.queue_lane(site, lane, self.name), 0, delivery))
                await self._atomic(*commands)
                if lane:  # the lane's next reply, if any, is due now (as finish_webhook.lua makes it)
                    first = await self._client.lindex(keys.queue_lane(site, lane, self.name), 0)
                    if first is not None:
                        await self._client.zadd(self._due(site, endpoint_of(first.decode())), {first: 0}, nx=True)
        except RedisError as error:
            raise self._unavailable(error) from None
        return len(doomed)

    async def disabled(self, site: str) -> dict[str, bytes]:
        try:
            found = await self._client.hgetall(keys.queue_disabled(site, self.name))
        except RedisError as error:
            raise self._unavailable(error) from None
        return {name.decode(): record for name, record in found.items()}

    async def disable(self, site: str, endpoint: str, record: bytes) -> None:
        key = keys.queue_disabled(site, self.name)
        try:
            await self._atomic(("HSET", key, endpoint, record), ("EXPIRE", key, keys.WEBHOOKS_DISABLED_TTL))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def enable(self, site: str, endpoint: str) -> bool:
        try:
            return bool(await self._client.hdel(keys.queue_disabled(site, self.name), endpoint))
        except RedisError as error:
            raise self._unavailable(error) from None
