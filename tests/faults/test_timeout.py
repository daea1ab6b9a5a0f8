"""IRASSHAI_REDIS_TIMEOUT bounds each Redis command, and a command that timed out (or was
cancelled, as /readyz cancels a slow check) leaves no late reply behind: the connection it used
is closed, so the next command on the one connection of the pool reads its own answer.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from server.store.base import StoreUnavailable
from server.store.redis import RedisStore

pytestmark = [pytest.mark.redis, pytest.mark.anyio]


async def _stored(store: RedisStore, visitor: str, blob: bytes) -> None:
    assert await store.save_visitor("shop", visitor, blob, 0, ttl=60)


@pytest.mark.parametrize("how", ["timed out", "cancelled"])
async def test_after_a_command_that_did_not_finish_the_next_one_reads_its_own_reply(how, redis_back):
    store = RedisStore(redis_back.url, max_connections=1, timeout=0.2)
    try:
        one, two = f"one-{how[0]}", f"two-{how[0]}"
        await _stored(store, one, b"state of one")
        await _stored(store, two, b"state of two")
        redis_back.pause(1.0)
        started = time.monotonic()
        if how == "timed out":
            with pytest.raises(StoreUnavailable, match="unreachable"):
                await store.load_visitor("shop", one)
        else:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(store.load_visitor("shop", one), 0.1)
        assert time.monotonic() - started < 1.0  # refused before Redis answers: bounded, not waited out
        await asyncio.sleep(1.0)  # Redis answers "state of one" now, to whoever still listens
        blob, version = await store.load_visitor("shop", two)
        assert (blob, version > 0) == (b"state of two", True)  # its own reply, not the late one
    finally:
        await store.close()
