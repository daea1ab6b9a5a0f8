"""What one Redis command costs the server's CPU: redis-py's asyncio client against a bare protocol.

Both read visitors' states (HMGET, as RedisStore.load_visitor does) from 32 concurrent tasks
on uvloop from the bench's redis-server, and report this process's CPU time per command. The bare protocol is the least
any client must do (write the command, feed replies to hiredis, resolve a future), so the
difference is what the client library itself costs per command.
"""

from __future__ import annotations

import asyncio
import collections
import time

import hiredis
import uvloop

from server.store import keys
from server.store.redis import RedisStore

TASKS = 32


def _pack(*args: str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class BareProtocol(asyncio.Protocol):
    """Pipelined commands on one connection; replies resolve futures in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: collections.deque = collections.deque()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self.waiting.popleft().set_result(reply)

    def call(self, *args: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(_pack(*args))
        return future


async def _cpu_per_call(call, count: int) -> float:
    async def worker(number: int) -> None:
        for index in range(count // TASKS):
            await call(f"cost-{number}-{index % 50}")

    await asyncio.gather(*(worker(n) for n in range(TASKS)))  # warm: connections, caches
    start = time.process_time()
    await asyncio.gather(*(worker(n) for n in range(TASKS)))
    return (time.process_time() - start) * 1e6 / (count // TASKS * TASKS)


async def _measure(url: str, port: int, count: int) -> dict:
    store = RedisStore(url)
    try:
        redis_py = await _cpu_per_call(lambda key: store.load_visitor("demo", key), count)
    finally:
        await store.close()
    transport, bare = await asyncio.get_running_loop().create_connection(BareProtocol, "127.0.0.1", port)
    try:
        minimal = await _cpu_per_call(
            lambda visitor: bare.call("HMGET", keys.visitor("demo", visitor), "v", "s"), count
        )
    finally:
        transport.close()
    return {"commands": count, "redis_py_us": redis_py, "bare_us": minimal}


def measure(url: str, port: int, count: int = 6400) -> dict:
    """CPU µs per visitor read through RedisStore.load_visitor and through the bare protocol."""
    return uvloop.run(_measure(url, port, count))
