"""The store contract, run against both stores: MemoryStore and RedisStore on a real redis-server.

A visitor's state is a blob with a version; a write succeeds only on the version that was
read (so two tabs or two processes never overwrite each other), it expires after the
site's retention, and sites and visitors never see each other's data.
"""

from __future__ import annotations

import asyncio

import pytest
import redis as redis_sync

from server.store import keys
from server.store.base import StoreUnavailable
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import free_port

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    if kind == "memory":
        store = MemoryStore(clock=Clock())
    else:
        store = RedisStore(request.getfixturevalue("redis_url"))
    yield store
    await store.close()


async def test_unknown_visitor_has_no_state_and_version_zero(store):
    assert await store.load_visitor("demo", "nobody") == (None, 0)


async def test_saved_state_reads_back_with_the_next_version(store):
    assert await store.save_visitor("demo", "v1", b"state-1", 0, ttl=3600)
    assert await store.load_visitor("demo", "v1") == (b"state-1", 1)
    assert await store.save_visitor("demo", "v1", b"state-2", 1, ttl=3600)
    assert await store.load_visitor("demo", "v1") == (b"state-2", 2)


async def test_a_write_on_a_stale_version_is_refused_and_changes_nothing(store):
    await store.save_visitor("demo", "v1", b"first", 0, ttl=3600)
    assert not await store.save_visitor("demo", "v1", b"lost", 0, ttl=3600)
    assert await store.load_visitor("demo", "v1") == (b"first", 1)


async def test_of_two_concurrent_writers_on_one_version_exactly_one_wins(store):
    results = await asyncio.gather(*(store.save_visitor("demo", "v1", f"w{i}".encode(), 0, ttl=3600)
                                     for i in range(10)))
    assert sum(results) == 1
    blob, version = await store.load_visitor("demo", "v1")
    assert version == 1 and blob == f"w{results.index(True)}".encode()


async def test_sites_and_visitors_are_isolated(store):
    await store.save_visitor("shop-a", "v1", b"a", 0, ttl=3600)
    assert await store.load_visitor("shop-b", "v1") == (None, 0)
    assert await store.load_visitor("shop-a", "v2") == (None, 0)


async def test_state_expires_after_its_time_to_live(store, kind, request):
    await store.save_visitor("demo", "v1", b"x", 0, ttl=100)
    if kind == "memory":
        store._clock.now += 101
    else:
        client = redis_sync.Redis.from_url(request.getfixturevalue("redis_url"))
        assert 0 < client.ttl(keys.visitor("demo", "v1")) <= 100
        client.pexpire(keys.visitor("demo", "v1"), 1)  # fast-forward: Redis has no fake clock
        await asyncio.sleep(0.01)
        client.close()
    assert await store.load_visitor("demo", "v1") == (None, 0)
    # An expired visitor starts again from version 0.
    assert await store.save_visitor("demo", "v1", b"again", 0, ttl=100)


async def test_ping_answers(store):
    await store.ping()


async def test_an_unreachable_redis_raises_store_unavailable_with_the_reason():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable, match="unreachable"):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.load_visitor("demo", "v1")
    with pytest.raises(StoreUnavailable):
        await store.save_visitor("demo", "v1", b"x", 0, ttl=10)
    await store.close()


def test_visitor_keys_are_hash_tagged_per_site_and_visitor():
    key = keys.visitor("demo", "abc")
    assert key.count("{") == 1 and "{demo:abc}" in key
