"""The console part of the store contract, on both stores: MemoryStore and RedisStore on a real redis-server and on a real Redis Cluster.

Presence remembers each operator's expiry second per site and forgets entries stale for its ttl;
the operators' feed hands out increasing ids and reads back after any id, exclusive; live
visitors read back newest first, only those seen since the given second, at most `limit`; sites
never mix; every console key has a TTL in Redis. `visitor_code` reads a visitor's code in a
pool and when it was redeemed, without claiming one.
"""

from __future__ import annotations

import pytest

from server.store import keys
from server.store.memory import MemoryStore, entry_key
from server.store.redis import RedisStore
from tests.conftest import redis_client, store_url
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


async def test_presence_remembers_each_operator_and_forgets_the_long_stale(store):
    assert await store.read_presence("demo") == {}
    await store.set_presence("demo", "a@example.com", 1000.0, ttl=3600)
    await store.set_presence("demo", "b@example.com", 1045.0, ttl=3600)
    await store.set_presence("other", "c@example.com", 1045.0, ttl=3600)
    assert await store.read_presence("demo") == {"a@example.com": 1000.0, "b@example.com": 1045.0}
    await store.set_presence("demo", "b@example.com", 5000.0, ttl=3600)  # a is stale past the ttl now
    assert await store.read_presence("demo") == {"b@example.com": 5000.0}


async def test_the_operators_feed_reads_back_after_any_id(store):
    ids = [await store.add_ops("demo", "message", f"m{n}".encode()) for n in range(4)]
    await store.add_ops("other", "status", b"x")
    assert [entry_key(i) for i in ids] == sorted(entry_key(i) for i in ids) and len(set(ids)) == 4
    assert await store.read_ops("demo") == [(i, "message", f"m{n}".encode()) for n, i in enumerate(ids)]
    assert [e[0] for e in await store.read_ops("demo", after=ids[1])] == ids[2:]
    assert [e[0] for e in await store.read_ops("demo", after=ids[0], count=1)] == ids[1:2]
    assert await store.read_ops("nobody") == []


async def test_live_visitors_newest_first_since_a_second_and_bounded(store):
    await store.touch_live("demo", {"v1": 100.0, "v2": 300.0})
    await store.touch_live("demo", {"v3": 200.0, "v1": 400.0})
    await store.touch_live("other", {"v9": 500.0})
    assert await store.read_live("demo", since=0, limit=10) == [("v1", 400.0), ("v2", 300.0), ("v3", 200.0)]
    assert await store.read_live("demo", since=250, limit=10) == [("v1", 400.0), ("v2", 300.0)]
    assert await store.read_live("demo", since=0, limit=1) == [("v1", 400.0)]  # v3 was dropped as older
    assert await store.read_live("nobody", since=0, limit=10) == []


async def test_every_console_key_has_a_ttl_in_redis(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.set_presence("demo", "a@example.com", 1000.0, ttl=3600)
    await store.add_ops("demo", "status", b"{}")
    await store.touch_live("demo", {"v1": 100.0})
    await store.close()
    client = redis_client(any_redis_url)
    for key in (keys.presence("demo"), keys.ops_feed("demo"), keys.live("demo")):
        assert 0 < client.ttl(key) <= max(keys.PRESENCE_TTL, keys.OPS_FEED_TTL, keys.LIVE_TTL), key
    client.close()


async def test_visitor_code_reads_without_claiming(store):
    assert await store.visitor_code("demo", "spring10", "v1") is None
    assert await store.codes_left("demo", "spring10") is None  # the read claimed nothing, loaded nothing
    await store.claim_code("demo", "spring10", "v1", "shared", "SPRING10", 1900)
    assert await store.visitor_code("demo", "spring10", "v1") == ("SPRING10|1900", 0)
    assert await store.visitor_code("demo", "spring10", "v2") is None
    assert await store.visitor_code("other", "spring10", "v1") is None
    await store.seed_codes("demo", "welcome", ["W1"])
    await store.claim_code("demo", "welcome", "v1", "list", "", 0)
    assert await store.redeem_code("demo", "welcome", "W1", 1234) == "ok"
    assert await store.visitor_code("demo", "welcome", "v1") == ("W1|0", 1234)
