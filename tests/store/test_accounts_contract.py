"""The store's part of the console, on both stores: operator accounts and sessions.

Accounts: one record per email, read back, listed, replaced, deleted; kept keys.KEEP_DAYS from
the last write (Redis: a TTL on the hash). Sessions: a record read back by id while its TTL
runs, each read keeping it `ttl` seconds more; deleted at once by `delete_session`.
"""

from __future__ import annotations

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
async def store(kind, request):
    store = MemoryStore(clock=Clock()) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_operator_accounts_are_stored_listed_replaced_and_deleted(store):
    assert await store.get_operator("a@example.com") is None
    assert await store.operators() == {}
    await store.put_operator("a@example.com", b"record-a")
    await store.put_operator("b@example.com", b"record-b")
    await store.put_operator("a@example.com", b"record-a2")
    assert await store.get_operator("a@example.com") == b"record-a2"
    assert await store.operators() == {"a@example.com": b"record-a2", "b@example.com": b"record-b"}
    assert await store.delete_operator("a@example.com") is True
    assert await store.delete_operator("a@example.com") is False
    assert await store.operators() == {"b@example.com": b"record-b"}


async def test_a_session_lives_while_it_is_used_and_ends_when_deleted(store):
    assert await store.touch_session("nope", 60) is None
    await store.put_session("s1", b"session-1", 60)
    assert await store.touch_session("s1", 60) == b"session-1"
    await store.delete_session("s1")
    assert await store.touch_session("s1", 60) is None
    await store.delete_session("s1")  # gone already: nothing happens


async def test_memory_sessions_expire_after_their_ttl_and_a_touch_restarts_it():
    clock = Clock()
    store = MemoryStore(clock=clock)
    await store.put_session("s1", b"x", 60)
    clock.now += 50
    assert await store.touch_session("s1", 60) == b"x"
    clock.now += 50  # 100 s after creation, 50 after the touch
    assert await store.touch_session("s1", 60) == b"x"
    clock.now += 61
    assert await store.touch_session("s1", 60) is None


async def test_redis_keeps_accounts_and_sessions_with_ttls(any_redis_url):
    store = RedisStore(any_redis_url)
    client = redis_client(any_redis_url)
    try:
        await store.put_operator("a@example.com", b"record")
        assert 0 < client.ttl(keys.operator_accounts()) <= keys.ACCOUNTS_TTL
        await store.put_session("s1", b"x", 60)
        client.expire(keys.console_session("s1"), 5)
        await store.touch_session("s1", 60)
        assert 5 < client.ttl(keys.console_session("s1")) <= 60
    finally:
        client.close()
        await store.close()
