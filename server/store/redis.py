"""The Redis store (redis-py asyncio with hiredis): production, shared by many processes.

Each process keeps a bounded pool of connections (``max_connections``); when all are busy a
command waits for one up to ``pool_timeout`` seconds, and only then fails as unavailable,
so a burst of requests queues instead of being refused while Redis is healthy.

Reading a visitor is one HMGET; writing is one Lua compare-and-set; adding to the daily
counters is one pipelined MULTI of HINCRBYs; counting a rate limit's hits is one Lua script. Every key comes from :mod:`server.store.keys`
and gets a TTL.
"""

from __future__ import annotations

from importlib.resources import files

import redis.asyncio as redis
from redis.exceptions import RedisError

from server.store import keys
from server.store.base import StoreUnavailable

_LUA = files("server.store").joinpath("lua")
SEED_CHUNK = 1000


MAX_CONNECTIONS = 50  # the defaults of IRASSHAI_REDIS_MAX_CONNECTIONS and IRASSHAI_REDIS_POOL_TIMEOUT
POOL_TIMEOUT = 5.0


class RedisStore:
    def __init__(
        self,
        url: str,
        client: redis.Redis | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
        pool_timeout: float = POOL_TIMEOUT,
    ):
        self.url = url
        if client is None:
            # Blocking: redis-py's default pool raises "Too many connections" at once when all
            # are busy, which turned a burst of requests into 503s with a healthy Redis.
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=pool_timeout,
                socket_connect_timeout=2,
                socket_timeout=5,
                health_check_interval=30,
            )
            client = redis.Redis.from_pool(pool)
        self._client = client
        self._save_visitor = self._client.register_script(_LUA.joinpath("save_visitor.lua").read_text())
        self._claim_code = self._client.register_script(_LUA.joinpath("claim_code.lua").read_text())
        self._seed_codes = self._client.register_script(_LUA.joinpath("seed_codes.lua").read_text())
        self._redeem_code = self._client.register_script(_LUA.joinpath("redeem_code.lua").read_text())
        self._hit = self._client.register_script(_LUA.joinpath("hit.lua").read_text())

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

    async def claim_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> str | None:
        pool_keys = [
            keys.pool_available(site, pool),
            keys.pool_owners(site, pool),
            keys.pool_visitors(site, pool),
            keys.pool_loaded(site, pool),
        ]
        try:
            found = await self._claim_code(keys=pool_keys, args=[visitor_id, kind, code, expires_at, keys.POOL_TTL])
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return found.decode() if found else None

    async def seed_codes(self, site: str, pool: str, codes: list[str]) -> int:
        pool_keys = [keys.pool_available(site, pool), keys.pool_owners(site, pool), keys.pool_loaded(site, pool)]
        added = 0
        try:
            for start in range(0, len(codes), SEED_CHUNK):
                added += await self._seed_codes(
                    keys=pool_keys, args=[keys.POOL_TTL, *codes[start : start + SEED_CHUNK]]
                )
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return added

    async def codes_left(self, site: str, pool: str) -> int | None:
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(keys.pool_loaded(site, pool))
        pipe.scard(keys.pool_available(site, pool))
        try:
            loaded, left = await pipe.execute()
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return int(left) if loaded else None

    async def redeem_code(self, site: str, pool: str, code: str, now: int) -> str:
        try:
            result = await self._redeem_code(
                keys=[keys.pool_owners(site, pool), keys.pool_redeemed(site, pool)], args=[code, now, keys.POOL_TTL]
            )
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return result.decode()

    async def add_counts(self, site: str, counts: dict[tuple[str, str, str], int]) -> None:
        # MULTI/EXEC so that a counter never exists without its EXPIRE; still one round trip.
        pipe = self._client.pipeline(transaction=True)
        days = set()
        for (day, rule, counter), amount in counts.items():
            pipe.hincrby(keys.stats(site, day), f"{rule}|{counter}", amount)
            days.add(day)
        for day in sorted(days):
            pipe.expire(keys.stats(site, day), keys.STATS_TTL)
        try:
            await pipe.execute()
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None

    async def read_counts(self, site: str, days: list[str]) -> dict[str, dict[str, dict[str, int]]]:
        pipe = self._client.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(keys.stats(site, day))
        try:
            found = await pipe.execute()
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        result: dict[str, dict[str, dict[str, int]]] = {}
        for day, fields in zip(days, found, strict=True):
            rules: dict[str, dict[str, int]] = result.setdefault(day, {})
            for field, amount in fields.items():
                rule, _, counter = field.decode().rpartition("|")
                rules.setdefault(rule, {})[counter] = int(amount)
        return result

    async def hit(self, site: str, counter: str, windows: tuple[int, ...]) -> list[tuple[int, int]]:
        try:
            found = await self._hit(keys=[keys.hits(site, counter, window) for window in windows], args=list(windows))
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return [(int(hits), int(ttl)) for hits, ttl in found]

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None

    async def close(self) -> None:
        await self._client.aclose()
