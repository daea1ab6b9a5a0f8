"""The shared-hits part of the store contract (server/address_limits.py flushes into it), on
MemoryStore and RedisStore, single and cluster.

`add_hits` adds many counters' hits in one call and answers each counter's total in its window
and the seconds until the window starts again; totals add up across writers (processes); a
window starts again after its length; counters are per site and apart from `hit`'s; every key
is hash-tagged {site:address-hits} (one slot: one script) and has a TTL.
"""

from __future__ import annotations

import asyncio

import pytest

from server.store import keys
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import all_keys, redis_client, store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    store = MemoryStore(clock=Clock()) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_many_counters_add_up_in_one_call(store):
    assert await store.add_hits("demo", {"events:192.0.2.1": 5, "events:192.0.2.2": 1}, 60) == {
        "events:192.0.2.1": (5, 60),
        "events:192.0.2.2": (1, 60),
    }
    assert await store.add_hits("demo", {"events:192.0.2.1": 7}, 60) == {"events:192.0.2.1": (12, 60)}
    assert await store.add_hits("other", {"events:192.0.2.1": 1}, 60) == {"events:192.0.2.1": (1, 60)}
    assert await store.add_hits("demo", {}, 60) == {}


async def test_two_writers_share_the_totals(store, kind, request):
    second = store if kind == "memory" else RedisStore(store_url(kind, request))
    await store.add_hits("demo", {"events:192.0.2.1": 30}, 60)
    assert await second.add_hits("demo", {"events:192.0.2.1": 30}, 60) == {"events:192.0.2.1": (60, 60)}
    if second is not store:
        await second.close()


async def test_shared_hits_are_apart_from_single_hits(store):
    await store.hit("demo", "events:192.0.2.1", (60,))
    assert await store.add_hits("demo", {"events:192.0.2.1": 2}, 60) == {"events:192.0.2.1": (2, 60)}


async def test_a_shared_window_starts_again_after_its_length(store, kind, request):
    await store.add_hits("demo", {"events:192.0.2.1": 9}, 60)
    if kind == "memory":
        store._clock.now += 61
    else:
        client = redis_client(store_url(kind, request))
        key = keys.shared_hits("demo", "events:192.0.2.1", 60)
        assert 0 < client.ttl(key) <= 60
        client.pexpire(key, 1)  # fast-forward: Redis has no fake clock
        await asyncio.sleep(0.01)
        client.close()
    assert await store.add_hits("demo", {"events:192.0.2.1": 1}, 60) == {"events:192.0.2.1": (1, 60)}


async def test_every_shared_hits_key_is_tagged_per_site_and_expires(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.add_hits("demo", {"events:192.0.2.1": 1, "events:2001:db8::/64": 1}, 60)
    await store.close()
    client = redis_client(any_redis_url)
    found = [key for key in all_keys(client) if b"address-hits" in key]
    assert len(found) == 2
    assert all(key.startswith(b"irs:{demo:address-hits}:60:") and 0 < client.ttl(key) <= 60 for key in found)
    client.close()
