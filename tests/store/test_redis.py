"""RedisStore's connection pool (server/store/redis.py), against a real redis-server and a real
Redis Cluster (where a gate in front of redis-py's per-node pools does what the blocking pool does).

Each process opens at most IRASSHAI_REDIS_MAX_CONNECTIONS connections. A burst of requests
larger than that waits for a free connection instead of failing, so every request of the
burst succeeds while Redis is healthy; only a request that finds no free connection within
IRASSHAI_REDIS_POOL_TIMEOUT is answered 503 (retry later).
"""

from __future__ import annotations

import asyncio
import time

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.base import StoreUnavailable
from server.store.redis import RedisStore
from server.store.redis_client import Cluster
from tests.conftest import free_port, redis_client, redis_cluster
from tests.helpers import SECRET, SHOP, batch, page_view, write_site

pytestmark = pytest.mark.anyio

BURST = 300  # redis-py's own pool refuses the 101st concurrent command


async def test_a_burst_larger_than_the_default_pool_all_succeeds(any_redis_url):
    store = RedisStore(any_redis_url)
    try:
        found = await asyncio.gather(*(store.load_visitor("shop", f"visitor-{i}") for i in range(BURST)))
    finally:
        await store.close()
    assert found == [(None, 0)] * BURST


def app_with(tmp_path, redis_url: str, **settings):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    return create_app(
        Settings(secret_key=SECRET, rules_dir=str(tmp_path), redis_url=redis_url, **settings),
        config=config,
        reload=False,
    )


async def send(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/v1/sites/shop/events", content=batch(page_view("/")), headers={"origin": SHOP, "content-type": "text/plain"}
    )


async def test_many_more_concurrent_requests_than_connections_all_succeed(tmp_path, any_redis_url):
    # 200 new visitors from one address: no per-address limit here, this test is about connections.
    app = app_with(tmp_path, any_redis_url, redis_max_connections=4, new_visitors_per_minute=0, new_visitors_per_hour=0)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://irasshai") as client:
            responses = await asyncio.gather(*(send(client) for _ in range(200)))
    finally:
        await app.state.services.store.close()
    assert [response.status_code for response in responses] == [200] * 200


async def hold_the_only_connection(store: RedisStore):
    """Take the store's only connection as someone else would; returns how to give it back."""
    client = store._client
    if isinstance(client, Cluster):
        await client.gate.acquire()

        async def give_back():
            client.gate.release()
    else:
        busy = await client.connection_pool.get_connection()

        async def give_back():
            await client.connection_pool.release(busy)

    return give_back


async def test_a_request_that_gets_no_connection_in_time_is_503(tmp_path, any_redis_url):
    app = app_with(tmp_path, any_redis_url, redis_max_connections=1, redis_pool_timeout=0.05)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://irasshai") as client:
            give_back = await hold_the_only_connection(app.state.services.store)
            response = await send(client)
            assert response.status_code == 503 and response.headers["retry-after"] == "5"
            assert "retry later" in response.json()["error"]
            await give_back()
            assert (await send(client)).status_code == 200
    finally:
        await app.state.services.store.close()


@pytest.mark.parametrize("scheme", ["redis", "redis+cluster"])
async def test_an_unreachable_store_is_unavailable_on_every_path_and_never_shows_its_password(scheme):
    """A cluster that cannot be reached raises redis-py's RedisClusterException, not a RedisError:
    each kind of call (a command, a script, an Atomic call, a pipeline, the subscription) must
    still say "unavailable" (a 503), and no message may hold the password."""
    store = RedisStore(f"{scheme}://:hunter2-secret@127.0.0.1:{free_port()}")
    calls = [
        lambda: store.ping(),
        lambda: store.load_visitor("shop", "v1"),
        lambda: store.save_visitor("shop", "v1", b"x", 0, ttl=60),
        lambda: store.add_counts("shop", {("2026-11-22", "hello", "shown"): 1}),
        lambda: store.read_traffic("shop", ["2026-11-22"]),
        lambda: anext(store.subscribe()),
    ]
    try:
        for call in calls:
            with pytest.raises(StoreUnavailable, match="unreachable") as error:
                await call()
            assert "hunter2" not in str(error.value) and "***" in str(error.value)
    finally:
        await store.close()


def test_a_cluster_that_lost_a_master_is_not_ready(tmp_path):
    """A cluster that lost a master (without a replica to take over) refuses every command once
    its nodes agree the master is gone, yet still answers PING: /readyz asks the cluster's state."""
    write_site(tmp_path)
    with redis_cluster(3, "--cluster-node-timeout", "500") as (url, nodes):
        app = app_with(tmp_path, url)
        with TestClient(app) as client:
            assert client.get("/readyz").status_code == 200
            nodes[-1].terminate()
            nodes[-1].wait(10)
            deadline = time.monotonic() + 20
            # Before the nodes agree, /readyz may already be 503 for another reason: its write
            # check lands on the lost master when the key's slot is one of that master's.
            while time.monotonic() < deadline:
                answer = client.get("/readyz")
                if answer.status_code == 503 and "cluster_state is fail" in answer.json()["reason"]:
                    break
                time.sleep(0.1)
            assert answer.status_code == 503, answer.text
            assert "cluster_state is fail" in answer.json()["reason"]


async def test_scripts_are_loaded_again_when_redis_forgot_them(any_redis_url):
    """A restarted Redis (or SCRIPT FLUSH) knows none of the store's Lua scripts: the first
    call of each loads it again, on every master of a cluster, and nothing fails."""
    store = RedisStore(any_redis_url)
    client = redis_client(any_redis_url)
    try:
        assert await store.save_visitor("shop", "v1", b"one", 0, ttl=60)
        client.script_flush()
        _, version = await store.load_visitor("shop", "v1")
        assert await store.swap_visitor("shop", "v1", b"two", version, ttl=60) == (True, b"two", version + 1)
        client.script_flush()
        await store.add_counts("shop", {("2026-12-05", "rule", "shown"): 1})
        assert await store.read_counts("shop", ["2026-12-05"]) == {"2026-12-05": {"rule": {"shown": 1}}}
    finally:
        client.close()
        await store.close()
