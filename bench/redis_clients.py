"""Which Redis client: CPU time per operation of redis-py (as the server has it, and tuned),
coredis and valkey-glide on the event path's Redis operations, 32 requests at once.

One request of the event path, as RedisStore does it today, is three round trips:

- the visitor read: HMGET of the state hash's version and blob (``load_visitor``);
- the compare-and-set: EVALSHA of ``server/store/lua/save_visitor.lua``, one key, the version read,
  a 2 KB blob and a TTL (``save_visitor``);
- a counter write: HINCRBY, HINCRBY, EXPIRE of one day's counters in one pipeline.

32 asyncio tasks on uvloop each run requests on keys of their own (so every compare-and-set
stores), and the figure is this process's CPU time (``time.process_time``: every thread, so
valkey-glide's Rust threads are counted too) per operation. The clients are measured in
interleaved rounds, each client opened anew per round and warmed before it is timed.

Run by bench/main.py as a process of its own on the server core, against a private
redis-server on the load core:

    python -m bench.redis_clients --port PORT [--rounds 5] [--requests 2000]

prints one JSON object: per client, its figure of each round, or why it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from importlib.resources import files

import uvloop

from server.store import keys

TASKS = 32
BLOB = os.urandom(2048)  # about a visitor's state with some history (docs/performance.md, Memory)
TTL = 86_400
SAVE_LUA = files("server.store").joinpath("lua").joinpath("save_visitor.lua").read_text()
OPERATIONS = 3  # round trips per request: read, compare-and-set, counters


class RedisPy:
    """redis-py asyncio: `how` is "server" (server.store.redis_client.connect, as the server has
    it: a blocking pool of 50, RESP2, hiredis), "resp3", "no-hiredis" or "pool-8"."""

    def __init__(self, port: int, how: str):
        self.port, self.how = port, how

    async def open(self) -> None:
        import redis.asyncio as redis

        from server.store.redis_client import connect

        url = f"redis://127.0.0.1:{self.port}/0"
        if self.how == "server":
            self.client = connect(url, max_connections=50, pool_timeout=5)
        else:
            options: dict = {"max_connections": 8 if self.how == "pool-8" else 50, "timeout": 5}
            if self.how == "resp3":
                options["protocol"] = 3
            if self.how == "no-hiredis":
                from redis._parsers import _AsyncRESP2Parser

                options["parser_class"] = _AsyncRESP2Parser
            self.client = redis.Redis.from_pool(redis.BlockingConnectionPool.from_url(url, **options))
        self.save = self.client.register_script(SAVE_LUA)

    async def read(self, key: str) -> tuple:
        return await self.client.hmget(key, "v", "s")

    async def cas(self, key: str, version: int) -> int:
        return await self.save(keys=[key], args=[version, BLOB, TTL])

    async def count(self, key: str) -> list:
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(key, "rule|shown", 1)
        pipe.hincrby(key, "rule|seen", 1)
        pipe.expire(key, TTL)
        return await pipe.execute()

    async def close(self) -> None:
        await self.client.aclose()


class Coredis:
    def __init__(self, port: int):
        self.port = port

    async def open(self) -> None:
        import coredis

        self.client = coredis.Redis(host="127.0.0.1", port=self.port, max_connections=50)
        await self.client.__aenter__()  # coredis 5+: the pool lives inside the client's context
        self.save = self.client.register_script(SAVE_LUA)

    async def read(self, key: str) -> tuple:
        return await self.client.hmget(key, ["v", "s"])

    async def cas(self, key: str, version: int) -> int:
        return await self.save(keys=[key], args=[version, BLOB, TTL])

    async def count(self, key: str) -> list:
        async with self.client.pipeline(transaction=False) as pipe:
            replies = [pipe.hincrby(key, "rule|shown", 1), pipe.hincrby(key, "rule|seen", 1), pipe.expire(key, TTL)]
        return [await reply for reply in replies]

    async def close(self) -> None:
        await self.client.__aexit__(None, None, None)


class Glide:
    def __init__(self, port: int):
        self.port = port

    async def open(self) -> None:
        import glide

        self.glide = glide
        self.client = await glide.GlideClient.create(
            glide.GlideClientConfiguration([glide.NodeAddress("127.0.0.1", self.port)])
        )
        self.save = glide.Script(SAVE_LUA)

    async def read(self, key: str) -> tuple:
        return await self.client.hmget(key, ["v", "s"])

    async def cas(self, key: str, version: int) -> int:
        return await self.client.invoke_script(self.save, keys=[key], args=[str(version), BLOB, str(TTL)])

    async def count(self, key: str) -> list:
        batch = self.glide.Batch(is_atomic=False)
        batch.hincrby(key, "rule|shown", 1)
        batch.hincrby(key, "rule|seen", 1)
        batch.expire(key, TTL)
        return await self.client.exec(batch, raise_on_error=True)

    async def close(self) -> None:
        await self.client.close()


CLIENTS = {
    "redis-py": ("redis-py as the server has it: blocking pool of 50, RESP2, hiredis", lambda p: RedisPy(p, "server")),
    "redis-py-resp3": ("redis-py, RESP3 (`protocol=3`), hiredis", lambda p: RedisPy(p, "resp3")),
    "redis-py-pool-8": ("redis-py, blocking pool of 8, RESP2, hiredis", lambda p: RedisPy(p, "pool-8")),
    "redis-py-no-hiredis": ("redis-py, RESP2, its pure-Python parser (no hiredis)", lambda p: RedisPy(p, "no-hiredis")),
    "coredis": ("coredis (its own pool of 50, RESP3)", Coredis),
    "valkey-glide": ("valkey-glide (one multiplexed connection, Rust core)", Glide),
}


async def _requests(client, task: int, count: int, site: str) -> int:
    """`count` requests of task `task`; how many compare-and-sets did not store (should be none)."""
    lost = 0
    for index in range(count):
        key = keys.visitor(site, f"t{task}-{index % 50}")
        version, _blob = await client.read(key)
        if not int(await client.cas(key, int(version or 0))):
            lost += 1
        await client.count(keys.stats(site, f"2026-12-{task % 28 + 1:02d}"))
    return lost


async def _one(name: str, port: int, requests: int) -> dict:
    client = CLIENTS[name][1](port)
    await client.open()
    try:
        site = f"bench-clients-{name}"
        await asyncio.gather(*(_requests(client, task, max(2, requests // TASKS // 4), site) for task in range(TASKS)))
        per_task = max(1, requests // TASKS)
        start, wall = time.process_time(), time.perf_counter()
        lost = await asyncio.gather(*(_requests(client, task, per_task, site) for task in range(TASKS)))
        cpu, wall = time.process_time() - start, time.perf_counter() - wall
    finally:
        await client.close()
    done = per_task * TASKS
    return {"cpu_us": cpu * 1e6 / (done * OPERATIONS), "wall_s": wall, "requests": done, "lost": sum(lost)}


async def _measure(port: int, rounds: int, requests: int, only: list[str]) -> dict:
    found: dict[str, dict] = {name: {"label": CLIENTS[name][0], "rounds": []} for name in only}
    for _ in range(rounds):
        for name in only:
            if "error" in found[name]:
                continue
            try:
                found[name]["rounds"].append(await _one(name, port, requests))
            except Exception as error:  # noqa: BLE001 - a client that cannot run is reported, not fatal
                found[name]["error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return found


def summarise(found: dict, baseline: str = "redis-py") -> dict:
    """Medians over the rounds, and each client's CPU per operation against `baseline`'s."""
    for entry in found.values():
        if entry["rounds"]:
            entry["cpu_us"] = statistics.median(r["cpu_us"] for r in entry["rounds"])
            entry["range"] = (min(r["cpu_us"] for r in entry["rounds"]), max(r["cpu_us"] for r in entry["rounds"]))
            entry["lost"] = sum(r["lost"] for r in entry["rounds"])
    base = found.get(baseline, {}).get("cpu_us")
    for entry in found.values():
        if base and "cpu_us" in entry:
            entry["ratio"] = entry["cpu_us"] / base
    return found


def supports() -> dict[str, dict[str, bool | str]]:
    """What our store needs of a client, per library, read from the installed packages themselves:
    asyncio, Redis Cluster, sharded pub/sub (SPUBLISH/SSUBSCRIBE, server/store/redis.py), Lua scripts."""
    found: dict[str, dict[str, bool | str]] = {}
    import redis
    from redis.asyncio.cluster import RedisCluster

    found["redis-py"] = {
        "version": redis.__version__,
        "cluster": True,
        "sharded pub/sub": hasattr(RedisCluster, "spublish") and hasattr(redis.asyncio.client.PubSub, "ssubscribe"),
        "scripts": hasattr(redis.asyncio.Redis, "register_script"),
    }
    try:
        import coredis

        found["coredis"] = {
            "version": coredis.__version__,
            "cluster": hasattr(coredis, "RedisCluster"),
            "sharded pub/sub": hasattr(coredis.RedisCluster, "sharded_pubsub"),
            "scripts": hasattr(coredis.Redis, "register_script"),
        }
    except ImportError as error:
        found["coredis"] = {"error": str(error)}
    try:
        from importlib.metadata import version

        import glide

        found["valkey-glide"] = {
            "version": version("valkey-glide"),
            "cluster": hasattr(glide, "GlideClusterClient"),
            "sharded pub/sub": "Sharded" in glide.GlideClusterClientConfiguration.PubSubChannelModes.__members__,
            "scripts": hasattr(glide, "Script"),
        }
    except ImportError as error:
        found["valkey-glide"] = {"error": str(error)}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_clients")
    parser.add_argument("--port", type=int, required=True, help="a private redis-server's port")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000, help="requests per client per round")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="which, comma-separated")
    args = parser.parse_args()
    only = [name for name in args.clients.split(",") if name]
    found = uvloop.run(_measure(args.port, args.rounds, args.requests, only))
    print(json.dumps({"tasks": TASKS, "operations": OPERATIONS, "clients": summarise(found), "supports": supports()}))


if __name__ == "__main__":
    main()


def run(rounds: int, requests: int, folder, say) -> dict:
    """The comparison in a process of its own on the server core, against a private redis-server
    on the load core (this process's): its JSON, or why it did not run."""
    import subprocess
    import sys

    from bench.servers import ROOT, SERVER_CORE, pinned, start_redis

    redis = start_redis(folder, "redis-clients")
    try:
        command = [sys.executable, "-m", "bench.redis_clients", "--port", str(redis.port)]
        command += ["--rounds", str(rounds), "--requests", str(requests)]
        done = subprocess.run(pinned(SERVER_CORE, command), cwd=ROOT, capture_output=True, text=True, timeout=900)
    finally:
        redis.stop()
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    found = json.loads(done.stdout)
    found.update(rounds=rounds, requests=requests)
    for name, entry in found["clients"].items():
        say(
            f"  redis client {name}: "
            + (f"{entry['cpu_us']:.1f} µs CPU per operation" if "cpu_us" in entry else entry.get("error", "?"))
        )
    return found
