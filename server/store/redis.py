"""The Redis store (redis-py asyncio with hiredis): production, shared by many processes.

Reading a visitor is one HMGET; writing is one Lua compare-and-set. Every key comes from
:mod:`server.store.keys` and gets a TTL.
"""

from __future__ import annotations

from importlib.resources import files

import redis.asyncio as redis
from redis.exceptions import RedisError

from server.store import keys
from server.store.base import StoreUnavailable

_SAVE_VISITOR = files("server.store").joinpath("lua/save_visitor.lua").read_text()


class RedisStore:
    def __init__(self, url: str, client: redis.Redis | None = None):
        self.url = url
        self._client = client or redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        self._save_visitor = self._client.register_script(_SAVE_VISITOR)

    async def load_visitor(self, site: str, visitor_id: str) -> tuple[bytes | None, int]:
        try:
            version, blob = await self._client.hmget(keys.visitor(site, visitor_id), "v", "s")
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return blob, int(version or 0)

    async def save_visitor(self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int) -> bool:
        try:
            stored = await self._save_visitor(keys=[keys.visitor(site, visitor_id)], args=[version, blob, ttl])
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return bool(stored)

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None

    async def close(self) -> None:
        await self._client.aclose()
