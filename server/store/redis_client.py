"""The redis-py asyncio client for a Redis URL: one server, or a Redis Cluster (docs/deployment.md).

One server: a blocking pool of at most ``max_connections`` connections, as before.

A Redis Cluster (``redis+cluster://host:port,host:port``, :mod:`server.redis_urls`): redis-py's
``RedisCluster``, which learns the other nodes from those named and routes each command by its
key's slot. Two things it does differently are made to behave like the single server here:

- Its per-node pools raise "Too many connections" at once when all are busy; :class:`Cluster`
  puts a gate of ``max_connections`` in front of every command and pipeline, so a burst waits up
  to ``pool_timeout`` for a free one instead (each waiting operation holds at most one
  connection per node, so no node's pool overflows).
- Its transactions (``pipeline(transaction=True)``) resolve each queued command's slot on a
  thread of its own, which cost about 2.5 ms of CPU per six-command MULTI when measured, so
  the store never uses them: what must happen at once runs as one Lua call (:class:`Atomic`),
  on one server and on a cluster alike. :meth:`Cluster.pipeline` refuses a transaction.

A cluster that cannot be reached raises redis-py's ``RedisClusterUnreachableError`` (or
``SlotNotCoveredError``), which is not a ``RedisError``; :class:`Cluster` raises those as
``ConnectionError``, so the store's ``except RedisError`` answers them as unavailable like any
other outage.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
from importlib.resources import files

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.exceptions import (
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
)

from server import redis_urls

_LUA = files("server.store").joinpath("lua")
SPARE = 2  # connections per node beyond the gate: the wake-up subscription holds one
MAX_ARGUMENTS = 4000  # per command of an Atomic call: Lua's unpack() stops at about 8,000


def connect(url: str, *, max_connections: int, pool_timeout: float, timeout: float = 2.0) -> redis.Redis | Cluster:
    """A client for `url`: a Redis Cluster for redis+cluster://, else one server.

    `timeout` bounds each command's reply and each connection attempt (IRASSHAI_REDIS_TIMEOUT).
    redis-py drops a connection whose read timed out (or was cancelled) rather than returning it
    to the pool, so a late reply is never read as the answer to the next command; and its pool
    connections retry nothing, so a command takes at most `timeout` once it has a connection."""
    if redis_urls.is_cluster(url):
        found = redis_urls.parse_cluster(url)
        return Cluster(
            startup_nodes=[ClusterNode(host, port) for host, port in found.nodes],
            username=found.username,
            password=found.password,
            ssl=found.tls,
            gate=max_connections,
            pool_timeout=pool_timeout,
            max_connections=max_connections + SPARE,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            health_check_interval=30,
        )
    # Blocking: redis-py's default pool raises "Too many connections" at once when all are
    # busy, which turned a burst of requests into 503s with a healthy Redis.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=30,
    )
    return redis.Redis.from_pool(pool)


_INSIDE = contextvars.ContextVar("irasshai_inside_gate", default=False)
# What redis-py's cluster client raises for an outage, not as a RedisError: no node answers, or
# a slot has no master. Its other RedisClusterExceptions (keys across slots) are our bugs: they
# stay what they are, never a 503 that would look like an outage.
OUTAGES = (RedisClusterUnreachableError, SlotNotCoveredError)


class Cluster(RedisCluster):
    """``RedisCluster`` with a gate: at most `gate` operations in flight, the others wait."""

    def __init__(self, *, gate: int, pool_timeout: float, **kwargs):
        super().__init__(**kwargs)
        self.gate = asyncio.Semaphore(gate)
        self.pool_timeout = pool_timeout

    async def wait_for_gate(self) -> None:
        """Wait for a place at the gate, for up to `pool_timeout` (only when all are taken: a
        timeout costs a timer)."""
        try:
            async with asyncio.timeout(self.pool_timeout):
                await self.gate.acquire()
        except TimeoutError:
            raise ConnectionError(f"no free Redis connection within {self.pool_timeout:g} s") from None

    async def execute_command(self, *args, **kwargs):
        # Inline rather than a shared helper: this runs for every command (a few µs a layer).
        if _INSIDE.get():  # redis-py calling itself (a retry): the caller holds the gate already
            return await super().execute_command(*args, **kwargs)
        await (self.wait_for_gate() if self.gate.locked() else self.gate.acquire())
        token = _INSIDE.set(True)
        try:
            return await super().execute_command(*args, **kwargs)
        except OUTAGES as error:
            raise ConnectionError(str(error)) from error
        finally:
            _INSIDE.reset(token)
            self.gate.release()

    def pipeline(self, transaction=None, shard_hint=None) -> ClusterPipeline:
        if transaction:
            raise RedisClusterException("the store runs what must happen at once as one Lua call (Atomic), not MULTI")
        return _GatedPipeline(self, False)


class _GatedPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list:
        client = self.cluster_client
        if _INSIDE.get():
            return await super().execute(raise_on_error, allow_redirections)
        await (client.wait_for_gate() if client.gate.locked() else client.gate.acquire())
        token = _INSIDE.set(True)
        try:
            return await super().execute(raise_on_error, allow_redirections)
        except OUTAGES as error:
            raise ConnectionError(str(error)) from error
        finally:
            _INSIDE.reset(token)
            client.gate.release()


class Script:
    """A Lua script of server/store/lua/, called by its SHA1 (EVALSHA) and loaded when Redis does
    not know it yet (NOSCRIPT), as redis-py's ``register_script`` does, minus what that one
    checks on every call for pipelines (two imports and isinstance tests against Protocol
    classes: a few µs per call, on the event path's one round trip)."""

    def __init__(self, client: redis.Redis | Cluster, name: str):
        self.client = client
        self.text = _LUA.joinpath(name).read_text()
        self.sha = hashlib.sha1(self.text.encode()).hexdigest()

    async def __call__(self, keys: list, args: list):
        try:
            return await self.client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.sha = await self.client.script_load(self.text)
            return await self.client.evalsha(self.sha, len(keys), *keys, *args)


class Atomic:
    """Several commands on the keys of one slot, run at once as MULTI/EXEC would: one Lua call
    (``atomic.lua``), which one server and a Redis Cluster run alike.

    Each command is ``(name, key, *arguments)``; the reply is the list of their replies (Lua's:
    a float is a string, a list of scores is flat)."""

    def __init__(self, client: redis.Redis | Cluster):
        self._script = Script(client, "atomic.lua")

    async def __call__(self, *commands: tuple) -> list:
        keys: dict[str, int] = {}
        args: list = []
        for name, key, *rest in commands:
            if len(rest) > MAX_ARGUMENTS:
                raise ValueError(f"{name} with {len(rest)} arguments in one Atomic call; split it")
            args += [len(rest), name, keys.setdefault(key, len(keys) + 1), *rest]
        return await self._script(keys=list(keys), args=args)
