"""The Redis store (redis-py asyncio with hiredis): production, shared by many processes.

Each process keeps a bounded pool of connections (``max_connections``); when all are busy a
command waits for one up to ``pool_timeout`` seconds, and only then fails as unavailable,
so a burst of requests queues instead of being refused while Redis is healthy.

Reading a visitor is one HMGET; writing is one Lua compare-and-set, which on a conflict
answers what is stored instead (so the event path's retry needs no read; a conversation's record
too: ``save_conversation.lua``, which also moves it in the site's activity index); adding to the daily
counters is one Lua call of HINCRBYs and their EXPIREs (:class:`~server.store.redis_client.Atomic`,
which stands in for MULTI everywhere); adding a flush of traffic aggregates is one Lua
script (its caps need a read before each new name); counting a rate limit's hits is one Lua
script. Every key comes from :mod:`server.store.keys` and gets a TTL.

The same store runs on a Redis Cluster (docs/deployment.md): every script and every
:class:`Atomic` call touches the keys of one hash tag, so of one slot; the wake-ups are sharded
pub/sub there (SPUBLISH, SSUBSCRIBE), see :meth:`RedisStore.subscribe`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from importlib.resources import files

import redis.asyncio as redis
from redis.exceptions import RedisError

from server.redis_urls import redacted
from server.store import keys
from server.store.base import OTHER, StoreUnavailable
from server.store.privacy_redis import RedisPrivacy
from server.store.redis_client import MAX_ARGUMENTS, OUTAGES, Atomic, Cluster, Script, connect
from server.store.webhooks_redis import RedisDeliveryQueue

_LUA = files("server.store").joinpath("lua")
SEED_CHUNK = 1000


def _pairs(fields: dict) -> list:
    return [word for pair in fields.items() for word in pair]


MAX_CONNECTIONS = 50  # the defaults of IRASSHAI_REDIS_MAX_CONNECTIONS, _POOL_TIMEOUT and _TIMEOUT
POOL_TIMEOUT = 5.0
TIMEOUT = 2.0


class RedisStore(RedisPrivacy):
    def __init__(
        self,
        url: str,
        client: redis.Redis | Cluster | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
        pool_timeout: float = POOL_TIMEOUT,
        timeout: float = TIMEOUT,
    ):
        self.url = redacted(url)  # as messages show it: never the password
        if client is None:
            client = connect(url, max_connections=max_connections, pool_timeout=pool_timeout, timeout=timeout)
        self._client = client
        self._cluster = isinstance(client, Cluster)
        self._atomic = Atomic(client)
        self._save_visitor = Script(self._client, "save_visitor.lua")
        self._claim_code = Script(self._client, "claim_code.lua")
        self._seed_codes = Script(self._client, "seed_codes.lua")
        self._redeem_code = Script(self._client, "redeem_code.lua")
        self._hit = Script(self._client, "hit.lua")
        self._add_hits = Script(self._client, "add_hits.lua")
        self._add_feed = Script(self._client, "add_feed.lua")
        self._add_traffic = Script(self._client, "add_traffic.lua")
        self._save_conversation = Script(self._client, "save_conversation.lua")
        self._register_privacy()
        self.webhooks = RedisDeliveryQueue(self._client, self.url, self._atomic)
        self.line_pushes = RedisDeliveryQueue(self._client, self.url, self._atomic, keys.LINE_PUSHES)

    async def load_visitor(self, site: str, visitor_id: str) -> tuple[bytes | None, int]:
        try:
            version, blob = await self._client.hmget(keys.visitor(site, visitor_id), "v", "s")
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return blob, int(version or 0)

    async def save_visitor(self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int) -> bool:
        return (await self.swap_visitor(site, visitor_id, blob, version, ttl))[0]

    async def swap_visitor(
        self, site: str, visitor_id: str, blob: bytes, version: int, ttl: int
    ) -> tuple[bool, bytes | None, int]:
        try:
            found = await self._save_visitor(keys=[keys.visitor(site, visitor_id)], args=[version, blob, ttl])
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        if found[0]:
            return True, blob, int(found[1])
        return False, found[2], int(found[1])

    async def claim_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> str | None:
        return (await self.assign_code(site, pool, visitor_id, kind, code, expires_at))[0]

    async def assign_code(
        self, site: str, pool: str, visitor_id: str, kind: str, code: str, expires_at: int
    ) -> tuple[str | None, bool]:
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
        if isinstance(found, list):
            return found[0].decode(), bool(found[1])
        return (found.decode() if found else None), False

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

    async def visitor_code(self, site: str, pool: str, visitor_id: str) -> tuple[str, int] | None:
        try:
            found = await self._client.hget(keys.pool_visitors(site, pool), visitor_id)
            if found is None:
                return None
            found = found.decode() if isinstance(found, bytes) else found
            redeemed = await self._client.hget(keys.pool_redeemed(site, pool), found.partition("|")[0])
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return found, int(redeemed or 0)

    async def code_owner(self, site: str, pool: str, code: str) -> str | None:
        try:
            found = await self._client.hget(keys.pool_owners(site, pool), code)
        except RedisError as error:
            raise self._unavailable(error) from None
        return (found.decode() or None) if found is not None else None  # "": forgotten (forget_code.lua)

    async def redeem_code(self, site: str, pool: str, code: str, now: int) -> str:
        try:
            result = await self._redeem_code(
                keys=[keys.pool_owners(site, pool), keys.pool_redeemed(site, pool)], args=[code, now, keys.POOL_TTL]
            )
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return result.decode()

    async def add_counts(self, site: str, counts: dict[tuple[str, str, str], int | float]) -> None:
        # At once, so that a counter never exists without its EXPIRE; one round trip.
        commands: list[tuple] = []
        days = set()
        for (day, rule, counter), amount in counts.items():
            command = "HINCRBYFLOAT" if isinstance(amount, float) else "HINCRBY"
            commands.append((command, keys.stats(site, day), f"{rule}|{counter}", amount))
            days.add(day)
        commands += [("EXPIRE", keys.stats(site, day), keys.STATS_TTL) for day in sorted(days)]
        try:
            await self._atomic(*commands)
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None

    async def read_counts(self, site: str, days: list[str]) -> dict[str, dict[str, dict[str, int | float]]]:
        pipe = self._client.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(keys.stats(site, day))
        try:
            found = await pipe.execute()
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        result: dict[str, dict[str, dict[str, int | float]]] = {}
        for day, fields in zip(days, found, strict=True):
            rules: dict[str, dict[str, int | float]] = result.setdefault(day, {})
            for field, amount in fields.items():
                # At the first "|": rule ids never hold one, counters may (a page breakdown).
                rule, _, counter = field.decode().partition("|")
                text = amount.decode()
                rules.setdefault(rule, {})[counter] = int(text) if text.lstrip("-").isdigit() else float(text)
        return result

    async def add_traffic(
        self,
        site: str,
        counts: dict[tuple[str, str, str], int],
        visitors: dict[str, set[str]],
        caps: dict[str, tuple[str, int]],
    ) -> None:
        by_day: dict[str, list] = {}
        for (day, kind, name), amount in counts.items():
            by_day.setdefault(day, []).extend((kind, caps[kind][0] if kind in caps else "", name, amount))
        days = sorted(set(by_day) | {day for day, ids in visitors.items() if ids})
        if not days:
            return
        groups = dict(caps.values())
        script_keys: list[str] = []
        args: list = [keys.TRAFFIC_TTL, OTHER, len(groups)]
        for group, limit in groups.items():
            args += [group, limit]
        for day in days:
            script_keys += [keys.traffic(site, day), keys.traffic_visitors(site, day)]
            fields = by_day.get(day, [])
            ids = visitors.get(day, ())
            args += [len(fields) // 4, *fields, len(ids), *ids]
        try:
            await self._add_traffic(keys=script_keys, args=args)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def read_traffic(self, site: str, days: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int], int]:
        if not days:
            return {}, {}, 0
        pipe = self._client.pipeline(transaction=False)
        # PFCOUNT as a raw command: redis-py's cluster pipeline refuses pfcount(), whose keys
        # could span slots; these share the tag {site:traffic}.
        for day in days:
            pipe.hgetall(keys.traffic(site, day))
            pipe.execute_command("PFCOUNT", keys.traffic_visitors(site, day))
        pipe.execute_command("PFCOUNT", *(keys.traffic_visitors(site, day) for day in days))
        try:
            found = await pipe.execute()
        except RedisError as error:
            raise self._unavailable(error) from None
        counts: dict[str, dict[str, int]] = {}
        visitors: dict[str, int] = {}
        for index, day in enumerate(days):
            fields = found[2 * index]
            counts[day] = {name.decode(): int(amount) for name, amount in fields.items() if not name.startswith(b"#")}
            visitors[day] = int(found[2 * index + 1])
        return counts, visitors, int(found[-1])

    async def hit(self, site: str, counter: str, windows: tuple[int, ...]) -> list[tuple[int, int]]:
        try:
            found = await self._hit(keys=[keys.hits(site, counter, window) for window in windows], args=list(windows))
        except RedisError as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable: {error}") from None
        return [(int(hits), int(ttl)) for hits, ttl in found]

    async def add_hits(self, site: str, counts: dict[str, int], window: int) -> dict[str, tuple[int, int]]:
        if not counts:
            return {}
        counters = list(counts)
        try:
            found = await self._add_hits(
                keys=[keys.shared_hits(site, counter, window) for counter in counters],
                args=[window, *(counts[counter] for counter in counters)],
            )
        except RedisError as error:
            raise self._unavailable(error) from None
        return {counter: (int(hits), int(ttl)) for counter, (hits, ttl) in zip(counters, found, strict=True)}

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"Redis at {self.url} is unreachable: {error}")

    async def add_feed(
        self, site: str, visitor_id: str, kind: str, data: bytes, ttl: int, client_id: str = ""
    ) -> tuple[str, bool]:
        try:
            entry_id, added = await self._add_feed(
                keys=[keys.feed(site, visitor_id), keys.chat_ids(site, visitor_id)],
                args=[kind, data, ttl, client_id, keys.FEED_LENGTH],
            )
        except RedisError as error:
            raise self._unavailable(error) from None
        return entry_id.decode(), bool(added)

    async def read_feed(
        self, site: str, visitor_id: str, after: str = "0", count: int = 200
    ) -> list[tuple[str, str, bytes]]:
        start = "-" if after in ("0", "0-0") else "(" + after
        try:
            found = await self._client.xrange(keys.feed(site, visitor_id), start, "+", count=count)
        except RedisError as error:
            raise self._unavailable(error) from None
        return [(entry_id.decode(), fields[b"t"].decode(), fields[b"d"]) for entry_id, fields in found]

    async def get_chat(self, site: str, visitor_id: str) -> dict[str, str]:
        try:
            found = await self._client.hgetall(keys.chat(site, visitor_id))
        except RedisError as error:
            raise self._unavailable(error) from None
        return {name.decode(): value.decode() for name, value in found.items()}

    async def set_chat(self, site: str, visitor_id: str, fields: dict[str, str], ttl: int) -> None:
        key = keys.chat(site, visitor_id)
        try:  # at once: never a chat record without its TTL
            await self._atomic(("HSET", key, *_pairs(fields)), ("EXPIRE", key, ttl))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def save_conversation(
        self, site: str, conversation_id: str, record: bytes, activity: float, ttl: int, *, version: int
    ) -> bool:
        try:
            stored = await self._save_conversation(
                keys=[keys.conversations(site), keys.conversation_activity(site)],
                args=[conversation_id, version, record, repr(activity), ttl],
            )
        except RedisError as error:
            raise self._unavailable(error) from None
        return bool(stored)

    async def load_conversations(self, site: str, ids: list[str]) -> list[bytes | None]:
        if not ids:
            return []
        try:
            return await self._client.hmget(keys.conversations(site), ids)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def recent_conversations(self, site: str, limit: int = 500) -> list[str]:
        try:
            found = await self._client.zrevrange(keys.conversation_activity(site), 0, limit - 1)
        except RedisError as error:
            raise self._unavailable(error) from None
        return [conversation_id.decode() for conversation_id in found]

    async def publish(self, site: str, visitor_id: str, payload: str = "") -> None:
        message = f"{site}\t{visitor_id}" + (f"\t{payload}" if payload else "")
        try:
            if self._cluster:
                await self._client.spublish(keys.WAKE_CHANNEL, message)
            else:
                await self._client.publish(keys.WAKE_CHANNEL, message)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def subscribe(self, subscribed: Callable[[], None] | None = None) -> AsyncIterator[tuple[str, str, str]]:
        """Every wake-up published by any process. On a Redis Cluster the channel is sharded
        pub/sub (Redis 7): SPUBLISH goes to the shard that owns the channel's slot and every
        process SSUBSCRIBEs there (redis-py follows the slot when it moves), where a plain
        PUBLISH would be copied to every node of the cluster."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            if self._cluster:
                await pubsub.ssubscribe(keys.WAKE_CHANNEL)
            else:
                await pubsub.subscribe(keys.WAKE_CHANNEL)
            if subscribed is not None:  # sent: Redis delivers what is published from now on
                subscribed()
            while True:
                # A timeout lets the connection's health check run while the channel is quiet.
                if self._cluster:
                    message = await pubsub.get_sharded_message(timeout=30.0)
                else:
                    message = await pubsub.get_message(timeout=30.0)
                if message is None:
                    continue
                site, _, rest = message["data"].decode().partition("\t")
                visitor_id, _, payload = rest.partition("\t")
                yield site, visitor_id, payload
        except (RedisError, *OUTAGES, OSError) as error:
            raise self._unavailable(error) from None
        finally:
            await pubsub.aclose()

    async def set_presence(self, site: str, email: str, until: float, ttl: int) -> None:
        key = keys.presence(site)
        try:
            await self._atomic(
                ("ZADD", key, repr(until), email),
                ("ZREMRANGEBYSCORE", key, "-inf", f"({until - ttl!r}"),
                ("EXPIRE", key, ttl),
            )
        except RedisError as error:
            raise self._unavailable(error) from None

    async def read_presence(self, site: str) -> dict[str, float]:
        try:
            found = await self._client.zrange(keys.presence(site), 0, 999, withscores=True)
        except RedisError as error:
            raise self._unavailable(error) from None
        return {email.decode(): until for email, until in found}

    async def add_ops(self, site: str, kind: str, data: bytes) -> str:
        key = keys.ops_feed(site)
        try:
            entry_id, _ = await self._atomic(
                ("XADD", key, "MAXLEN", "~", keys.OPS_FEED_LENGTH, "*", "t", kind, "d", data),
                ("EXPIRE", key, keys.OPS_FEED_TTL),
            )
        except RedisError as error:
            raise self._unavailable(error) from None
        return entry_id.decode()

    async def read_ops(self, site: str, after: str = "0", count: int = 200) -> list[tuple[str, str, bytes]]:
        start = "-" if after in ("0", "0-0") else "(" + after
        try:
            found = await self._client.xrange(keys.ops_feed(site), start, "+", count=count)
        except RedisError as error:
            raise self._unavailable(error) from None
        return [(entry_id.decode(), fields[b"t"].decode(), fields[b"d"]) for entry_id, fields in found]

    async def touch_live(self, site: str, seen: dict[str, float]) -> None:
        if not seen:
            return
        key, scores = keys.live(site), [(repr(second), visitor_id) for visitor_id, second in seen.items()]
        chunk = MAX_ARGUMENTS // 2
        try:
            for start in range(0, len(scores), chunk):
                pairs = [word for pair in scores[start : start + chunk] for word in pair]
                await self._atomic(("ZADD", key, *pairs), ("EXPIRE", key, keys.LIVE_TTL))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def read_live(self, site: str, since: float, limit: int) -> list[tuple[str, float]]:
        key = keys.live(site)
        try:
            _, found = await self._atomic(
                ("ZREMRANGEBYSCORE", key, "-inf", f"({since!r}"), ("ZREVRANGE", key, 0, limit - 1, "WITHSCORES")
            )
        except RedisError as error:
            raise self._unavailable(error) from None
        return [(found[i].decode(), float(found[i + 1])) for i in range(0, len(found), 2)]

    async def operators(self) -> dict[str, bytes]:
        try:
            found = await self._client.hgetall(keys.operator_accounts())
        except RedisError as error:
            raise self._unavailable(error) from None
        return {email.decode(): record for email, record in found.items()}

    async def get_operator(self, email: str) -> bytes | None:
        try:
            return await self._client.hget(keys.operator_accounts(), email)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def put_operator(self, email: str, record: bytes) -> None:
        key = keys.operator_accounts()
        try:
            await self._atomic(("HSET", key, email, record), ("EXPIRE", key, keys.ACCOUNTS_TTL))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def delete_operator(self, email: str) -> bool:
        key = keys.operator_accounts()
        try:
            removed, _ = await self._atomic(("HDEL", key, email), ("EXPIRE", key, keys.ACCOUNTS_TTL))
        except RedisError as error:
            raise self._unavailable(error) from None
        return bool(removed)

    async def put_session(self, session_id: str, record: bytes, ttl: int) -> None:
        try:
            await self._client.set(keys.console_session(session_id), record, ex=ttl)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def touch_session(self, session_id: str, ttl: int) -> bytes | None:
        try:
            return await self._client.getex(keys.console_session(session_id), ex=ttl)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def delete_session(self, session_id: str) -> None:
        try:
            await self._client.delete(keys.console_session(session_id))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def claim(self, site: str, name: str, value: bytes, ttl: int) -> bool:
        try:
            return bool(await self._client.set(keys.claim(site, name), value, ex=ttl, nx=True))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def take(self, site: str, name: str) -> bytes | None:
        try:
            return await self._client.getdel(keys.claim(site, name))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def ping(self) -> None:
        """The store takes a write: a Redis that answers reads but refuses or holds writes (paused
        for a failover, a read-only replica, out of memory) refuses every batch too. A Redis
        Cluster must also say it is ok (every slot served): one that lost a master it cannot
        replace refuses every command, yet still answers."""
        try:
            if self._cluster:
                state = (await self._client.cluster_info()).get("cluster_state")
                if state != "ok":
                    raise StoreUnavailable(f"Redis Cluster at {self.url} is not ok: its cluster_state is {state}")
            await self._client.set(keys.ready(), repr(time.time()), ex=keys.READY_TTL)
        except (RedisError, *OUTAGES, OSError) as error:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable or refuses writes: {error}") from None

    async def close(self) -> None:
        await self._client.aclose()
