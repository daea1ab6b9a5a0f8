"""RedisStore's connection pool (server/store/redis.py), against a real redis-server.

Each process opens at most IRASSHAI_REDIS_MAX_CONNECTIONS connections. A burst of requests
larger than that waits for a free connection instead of failing, so every request of the
burst succeeds while Redis is healthy; only a request that finds no free connection within
IRASSHAI_REDIS_POOL_TIMEOUT is answered 503 (retry later).
"""

from __future__ import annotations

import asyncio

import httpx2 as httpx
import pytest

from server.app import create_app
from server.config import load_config
from server.settings import Settings
from server.store.redis import RedisStore
from tests.helpers import SECRET, SHOP, batch, page_view, write_site

pytestmark = pytest.mark.anyio

BURST = 300  # redis-py's own pool refuses the 101st concurrent command


async def test_a_burst_larger_than_the_default_pool_all_succeeds(redis_url):
    store = RedisStore(redis_url)
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


async def test_many_more_concurrent_requests_than_connections_all_succeed(tmp_path, redis_url):
    # 200 new visitors from one address: no per-address limit here, this test is about connections.
    app = app_with(tmp_path, redis_url, redis_max_connections=4, new_visitors_per_minute=0, new_visitors_per_hour=0)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://irasshai") as client:
            responses = await asyncio.gather(*(send(client) for _ in range(200)))
    finally:
        await app.state.services.store.close()
    assert [response.status_code for response in responses] == [200] * 200


async def test_a_request_that_gets_no_connection_in_time_is_503(tmp_path, redis_url):
    app = app_with(tmp_path, redis_url, redis_max_connections=1, redis_pool_timeout=0.05)
    pool = app.state.services.store._client.connection_pool
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://irasshai") as client:
            busy = await pool.get_connection()  # the only connection, held by someone else
            response = await send(client)
            assert response.status_code == 503 and response.headers["retry-after"] == "5"
            assert "retry later" in response.json()["error"]
            await pool.release(busy)
            assert (await send(client)).status_code == 200
    finally:
        await app.state.services.store.close()
