"""The traffic part of the store contract (the site overview's aggregates), on both stores:
MemoryStore and RedisStore on a real redis-server.

Counts add up per site and day under "kind|name" and read back for every day asked for; a
capped group admits at most `limit` distinct names per day, first come, shared by the kinds of
the group and by every writer (several processes), and what comes beyond counts under
"(other)"; a visitor counts once per day, and once over several days; every key is hash-tagged
{site:traffic} and kept keys.KEEP_DAYS days.
"""

from __future__ import annotations

import asyncio

import pytest

from server.store import keys
from server.store.base import OTHER
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import all_keys, redis_client, store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio

CAPS = {"views": ("views", 3), "time_on_page:5": ("views", 3), "referrer": ("referrer", 2)}


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    store = MemoryStore(clock=Clock()) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_counts_add_up_and_read_back_for_every_day_asked(store):
    await store.add_traffic(
        "demo",
        {
            ("2026-11-22", "total", "page_views"): 2,
            ("2026-11-22", "hour", "9"): 1,
            ("2026-11-23", "total", "sessions"): 1,
        },
        {},
        CAPS,
    )
    await store.add_traffic("demo", {("2026-11-22", "total", "page_views"): 3}, {}, CAPS)
    counts, visitors, unique = await store.read_traffic("demo", ["2026-11-21", "2026-11-22", "2026-11-23"])
    assert counts == {
        "2026-11-21": {},
        "2026-11-22": {"total|page_views": 5, "hour|9": 1},
        "2026-11-23": {"total|sessions": 1},
    }
    assert visitors == {"2026-11-21": 0, "2026-11-22": 0, "2026-11-23": 0} and unique == 0


async def test_nothing_to_add_adds_nothing_and_no_days_read_nothing(store):
    await store.add_traffic("demo", {}, {"2026-11-22": set()}, CAPS)
    assert await store.read_traffic("demo", ["2026-11-22"]) == ({"2026-11-22": {}}, {"2026-11-22": 0}, 0)
    assert await store.read_traffic("demo", []) == ({}, {}, 0)


async def test_a_group_admits_at_most_its_limit_of_names_per_day_and_the_rest_is_other(store):
    day = "2026-11-22"
    await store.add_traffic("demo", {(day, "views", "/a"): 1, (day, "time_on_page:5", "/b"): 1}, {}, CAPS)
    # /b came in through another kind of the group: it holds a place, with no views yet.
    await store.add_traffic(
        "demo",
        {(day, "views", "/c"): 2, (day, "views", "/d"): 4, (day, "time_on_page:5", "/e"): 1, (day, "views", "/a"): 1},
        {},
        CAPS,
    )
    await store.add_traffic("demo", {(day, "referrer", "x.example"): 1, (day, "views", OTHER): 1}, {}, CAPS)
    counts, _, _ = await store.read_traffic("demo", [day])
    assert counts[day] == {
        "views|/a": 2,
        "views|/b": 0,
        "time_on_page:5|/b": 1,
        "views|/c": 2,
        "views|(other)": 5,  # /d's 4 and the 1 sent as (other)
        "time_on_page:5|(other)": 1,
        "referrer|x.example": 1,  # another group: its own limit
    }
    # The next day starts empty.
    await store.add_traffic("demo", {("2026-11-23", "views", "/d"): 1}, {}, CAPS)
    assert (await store.read_traffic("demo", ["2026-11-23"]))[0] == {"2026-11-23": {"views|/d": 1}}


async def test_the_limit_holds_across_writers(store, kind, request):
    """Several processes flush their own names at once: the day still admits only `limit`."""
    writers = [store] if kind == "memory" else [RedisStore(store_url(kind, request)) for _ in range(4)]
    day = "2026-11-22"
    try:
        await asyncio.gather(
            *(writers[n % len(writers)].add_traffic("demo", {(day, "views", f"/p{n}"): 1}, {}, CAPS) for n in range(20))
        )
    finally:
        if kind != "memory":
            for writer in writers:
                await writer.close()
    counts, _, _ = await store.read_traffic("demo", [day])
    named = {field for field in counts[day] if field != "views|(other)"}
    assert len(named) == 3 and counts[day]["views|(other)"] == 17
    assert sum(counts[day].values()) == 20


async def test_a_visitor_counts_once_per_day_and_once_over_the_days(store):
    await store.add_traffic("demo", {}, {"2026-11-22": {"v1", "v2"}, "2026-11-23": {"v2"}}, CAPS)
    await store.add_traffic("demo", {}, {"2026-11-22": {"v1", "v3"}}, CAPS)
    await store.add_traffic("other", {}, {"2026-11-22": {"v9"}}, CAPS)
    counts, visitors, unique = await store.read_traffic("demo", ["2026-11-22", "2026-11-23"])
    assert visitors == {"2026-11-22": 3, "2026-11-23": 1} and unique == 3
    assert counts == {"2026-11-22": {}, "2026-11-23": {}}


async def test_many_visitors_at_once_are_counted(store, kind):
    """Redis counts them with a HyperLogLog: close, not exact (0.81 % standard error)."""
    await store.add_traffic("demo", {}, {"2026-11-22": {f"visitor-{n}" for n in range(2500)}}, CAPS)
    _, visitors, unique = await store.read_traffic("demo", ["2026-11-22"])
    if kind == "memory":
        assert visitors["2026-11-22"] == unique == 2500
    else:
        assert 2400 <= visitors["2026-11-22"] == unique <= 2600


async def test_sites_are_kept_apart(store):
    await store.add_traffic("shop-a", {("2026-11-22", "views", "/a"): 1}, {}, CAPS)
    assert await store.read_traffic("shop-b", ["2026-11-22"]) == ({"2026-11-22": {}}, {"2026-11-22": 0}, 0)


async def test_redis_traffic_keys_are_kept_400_days(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.add_traffic("demo", {("2026-11-22", "views", "/a"): 1}, {"2026-11-22": {"v1"}}, CAPS)
    await store.close()
    client = redis_client(any_redis_url)
    try:
        for key in (keys.traffic("demo", "2026-11-22"), keys.traffic_visitors("demo", "2026-11-22")):
            assert 399 * 86400 < client.ttl(key) <= keys.TRAFFIC_TTL
        assert sorted(all_keys(client)) == sorted(
            [keys.traffic("demo", "2026-11-22").encode(), keys.traffic_visitors("demo", "2026-11-22").encode()]
        )
    finally:
        client.close()


async def test_memory_traffic_expires_after_400_days():
    store = MemoryStore(clock=Clock())
    await store.add_traffic("demo", {("2026-11-22", "views", "/a"): 1}, {"2026-11-22": {"v1"}}, CAPS)
    store._clock.now += keys.TRAFFIC_TTL + 1
    assert await store.read_traffic("demo", ["2026-11-22"]) == ({"2026-11-22": {}}, {"2026-11-22": 0}, 0)


def test_traffic_keys_are_hash_tagged_per_site():
    assert keys.traffic("demo", "2026-11-22") == "irs:{demo:traffic}:2026-11-22"
    assert keys.traffic_visitors("demo", "2026-11-22") == "irs:{demo:traffic}:2026-11-22:visitors"
