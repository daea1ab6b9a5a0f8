"""Claims, on both stores: MemoryStore and RedisStore on a real redis-server and on a real Redis Cluster.

A name is claimed once while its claim lasts (a second claim is refused and keeps the first
value), sites never mix, a claim expires after its ttl (and may then be claimed again), and
`take` hands the value back once and frees the name. In Redis every claim has a TTL.
"""

from __future__ import annotations

import asyncio

import pytest

from server.store import keys
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import redis_client, store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def store(kind, clock, request):
    store = MemoryStore(clock=clock) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_a_name_is_claimed_once_and_sites_do_not_mix(store):
    assert await store.claim("demo", "line-event:01H", b"first", ttl=60)
    assert not await store.claim("demo", "line-event:01H", b"second", ttl=60)
    assert await store.claim("other", "line-event:01H", b"x", ttl=60)
    assert await store.take("demo", "line-event:01H") == b"first"


async def test_concurrent_claims_of_one_name_let_exactly_one_through(store):
    won = await asyncio.gather(*(store.claim("demo", "n", str(i).encode(), ttl=60) for i in range(20)))
    assert won.count(True) == 1


async def test_take_hands_the_value_back_once_and_frees_the_name(store):
    assert await store.take("demo", "nonce") is None
    await store.claim("demo", "nonce", b'{"visitor":"v"}', ttl=60)
    assert await store.take("demo", "nonce") == b'{"visitor":"v"}'
    assert await store.take("demo", "nonce") is None
    assert await store.claim("demo", "nonce", b"again", ttl=60)


async def test_a_claim_expires_after_its_ttl(kind, store, clock, request):
    await store.claim("demo", "n", b"v", ttl=30)
    if kind != "memory":
        client = redis_client(store_url(kind, request))
        assert 0 < client.ttl(keys.claim("demo", "n")) <= 30
        client.close()
        return
    clock.now += 31
    assert await store.take("demo", "n") is None
    assert await store.claim("demo", "n", b"w", ttl=30)
