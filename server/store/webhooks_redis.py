"""The webhook queue in Redis (docs/webhooks.md): shared by every process, so each delivery is
taken by one of them at a time.

Queueing is one Lua call that runs at once (each delivery's HASH, its endpoint's due ZSET, the
site's recent ZSET, with their TTLs: :class:`~server.store.redis_client.Atomic`, as MULTI would);
taking is one Lua script per endpoint and one pipelined read; finishing and resending are one
Lua script each. Every key of a site's deliveries shares the tag ``{site:webhooks}``, so all of
this touches one slot of a Redis Cluster. Every key comes from :mod:`server.store.keys`, with a TTL.
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


class RedisWebhookQueue:
    def __init__(self, client: redis.Redis, url: str, atomic: Atomic):
        self._client, self.url, self._atomic = client, url, atomic
        self._take = client.register_script(_LUA.joinpath("take_webhooks.lua").read_text())
        self._finish = client.register_script(_LUA.joinpath("finish_webhook.lua").read_text())
        self._resend = client.register_script(_LUA.joinpath("resend_webhook.lua").read_text())

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"Redis at {self.url} is unreachable: {error}")

    async def queue(self, site: str, deliveries: list[Delivery]) -> None:
        recent = keys.webhook_recent(site)
        commands: list[tuple] = []
        for delivery in deliveries:
            key, due = keys.webhook_delivery(site, delivery.id), keys.webhook_due(site, delivery.endpoint)
            fields = [word for pair in _fields(delivery).items() for word in pair]
            commands += [
                ("HSET", key, *fields),
                ("EXPIRE", key, keys.WEBHOOKS_TTL),
                ("ZADD", due, repr(delivery.next_at), delivery.id),
                ("EXPIRE", due, keys.WEBHOOKS_TTL),
                ("ZADD", recent, repr(delivery.created), delivery.id),
            ]
        commands.append(("EXPIRE", recent, keys.WEBHOOKS_TTL))
        try:
            await self._atomic(*commands)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def take(self, site: str, endpoint: str, now: float, lease: float, limit: int) -> list[Delivery]:
        due = keys.webhook_due(site, endpoint)
        try:
            ids = [i.decode() for i in await self._take(keys=[due], args=[now, now + lease, limit, keys.WEBHOOKS_TTL])]
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
            pipe.hgetall(keys.webhook_delivery(site, delivery))
        return [_delivery(i, found) for i, found in zip(ids, await pipe.execute(), strict=True)]

    async def finish(
        self, site: str, delivery: str, outcome: str, at: float, status: int, error: str, next_at: float = 0.0
    ) -> None:
        script_keys = [keys.webhook_delivery(site, delivery), keys.webhook_due(site, endpoint_of(delivery))]
        try:
            await self._finish(
                keys=script_keys,
                args=[delivery, outcome, repr(at), status, error, repr(next_at), keys.WEBHOOKS_TTL],
            )
        except RedisError as failure:
            raise self._unavailable(failure) from None

    async def get(self, site: str, delivery: str) -> Delivery | None:
        try:
            return _delivery(delivery, await self._client.hgetall(keys.webhook_delivery(site, delivery)))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def recent(self, site: str, limit: int) -> list[Delivery]:
        try:
            ids = [i.decode() for i in await self._client.zrevrange(keys.webhook_recent(site), 0, limit - 1)]
            found = await self._read(site, ids) if ids else []
        except RedisError as error:
            raise self._unavailable(error) from None
        return [delivery for delivery in found if delivery is not None]

    async def resend(self, site: str, delivery: str, now: float) -> bool:
        script_keys = [keys.webhook_delivery(site, delivery), keys.webhook_due(site, endpoint_of(delivery))]
        try:
            return bool(await self._resend(keys=script_keys, args=[delivery, repr(now), keys.WEBHOOKS_TTL]))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def trim(self, site: str, keep: int) -> int:
        recent = keys.webhook_recent(site)
        try:
            ids = [i.decode() for i in await self._client.zrange(recent, 0, -(keep + 1))]
            if not ids:
                return 0
            for start in range(0, len(ids), MAX_ARGUMENTS):
                chunk = ids[start : start + MAX_ARGUMENTS]
                await self._atomic(
                    *(("DEL", keys.webhook_delivery(site, delivery)) for delivery in chunk),
                    *(("ZREM", keys.webhook_due(site, endpoint_of(delivery)), delivery) for delivery in chunk),
                    ("ZREM", recent, *chunk),
                )
        except RedisError as error:
            raise self._unavailable(error) from None
        return len(ids)

    async def disabled(self, site: str) -> dict[str, bytes]:
        try:
            found = await self._client.hgetall(keys.webhook_disabled(site))
        except RedisError as error:
            raise self._unavailable(error) from None
        return {name.decode(): record for name, record in found.items()}

    async def disable(self, site: str, endpoint: str, record: bytes) -> None:
        key = keys.webhook_disabled(site)
        try:
            await self._atomic(("HSET", key, endpoint, record), ("EXPIRE", key, keys.WEBHOOKS_DISABLED_TTL))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def enable(self, site: str, endpoint: str) -> bool:
        try:
            return bool(await self._client.hdel(keys.webhook_disabled(site), endpoint))
        except RedisError as error:
            raise self._unavailable(error) from None
