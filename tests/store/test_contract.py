"""The store contract, run against both stores: MemoryStore and RedisStore on a real redis-server and on a real Redis Cluster.

A visitor's state is a blob with a version; a write succeeds only on the version that was
read (so two tabs or two processes never overwrite each other), it expires after the
site's retention, and sites and visitors never see each other's data. A codes file's pool
tells "exhausted" (None) from "not loaded" ("unseeded": never seeded, or the store lost it),
and says how many of its codes are left.
"""

from __future__ import annotations

import asyncio

import pytest

from server.store import keys
from server.store.base import StoreUnavailable
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import all_keys, free_port, redis_client, store_url

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
async def store(kind, request):
    store = MemoryStore(clock=Clock()) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_unknown_visitor_has_no_state_and_version_zero(store):
    assert await store.load_visitor("demo", "nobody") == (None, 0)


async def test_saved_state_reads_back_with_the_next_version(store):
    assert await store.save_visitor("demo", "v1", b"state-1", 0, ttl=3600)
    blob, first = await store.load_visitor("demo", "v1")
    assert blob == b"state-1" and first > 0
    assert await store.save_visitor("demo", "v1", b"state-2", first, ttl=3600)
    assert await store.load_visitor("demo", "v1") == (b"state-2", first + 1)


async def test_a_write_on_a_stale_version_is_refused_and_changes_nothing(store):
    await store.save_visitor("demo", "v1", b"first", 0, ttl=3600)
    _, version = await store.load_visitor("demo", "v1")
    assert not await store.save_visitor("demo", "v1", b"lost", 0, ttl=3600)
    assert not await store.save_visitor("demo", "v1", b"lost", version + 1, ttl=3600)
    assert await store.load_visitor("demo", "v1") == (b"first", version)


async def test_of_two_concurrent_writers_on_one_version_exactly_one_wins(store):
    results = await asyncio.gather(
        *(store.save_visitor("demo", "v1", f"w{i}".encode(), 0, ttl=3600) for i in range(10))
    )
    assert sum(results) == 1
    blob, version = await store.load_visitor("demo", "v1")
    assert version > 0 and blob == f"w{results.index(True)}".encode()


async def test_a_swap_answers_the_new_version_or_what_won_instead(store):
    """What the event path's cache relies on: one round trip tells a stored write's version, or
    the state and version that another writer left, so that the retry needs no read."""
    stored, blob, version = await store.swap_visitor("demo", "v1", b"mine", 0, ttl=3600)
    assert (stored, blob) == (True, b"mine") and (b"mine", version) == await store.load_visitor("demo", "v1")
    assert await store.save_visitor("demo", "v1", b"theirs", version, ttl=3600)  # another process writes
    assert await store.swap_visitor("demo", "v1", b"stale", version, ttl=3600) == (False, b"theirs", version + 1)
    assert await store.swap_visitor("demo", "v1", b"retried", version + 1, ttl=3600) == (True, b"retried", version + 2)
    assert await store.load_visitor("demo", "v1") == (b"retried", version + 2)
    # A writer that believed the visitor unknown learns that it is not.
    assert await store.swap_visitor("demo", "v1", b"new?", 0, ttl=3600) == (False, b"retried", version + 2)
    # And one that believed it known learns that it is gone.
    assert await store.swap_visitor("demo", "nobody", b"x", 7, ttl=3600) == (False, None, 0)


async def test_a_version_never_comes_back_after_the_state_expired(store, kind, request):
    """A process may remember a (state, version) for long: once the key expired and was written
    again, as often as before, that old version must not match it."""
    _, _, old = await store.swap_visitor("demo", "v1", b"old", 0, ttl=100)
    await _expire(store, kind, request, "v1")
    _, _, version = await store.swap_visitor("demo", "v1", b"again", 0, ttl=100)
    assert version > old
    assert not await store.save_visitor("demo", "v1", b"stale", old, ttl=100)


async def _expire(store, kind, request, visitor_id: str) -> None:
    if kind == "memory":
        store._clock.now += 101
    else:
        client = redis_client(store_url(kind, request))
        client.pexpire(keys.visitor("demo", visitor_id), 1)  # fast-forward: Redis has no fake clock
        await asyncio.sleep(0.01)
        client.close()


async def test_sites_and_visitors_are_isolated(store):
    await store.save_visitor("shop-a", "v1", b"a", 0, ttl=3600)
    assert await store.load_visitor("shop-b", "v1") == (None, 0)
    assert await store.load_visitor("shop-a", "v2") == (None, 0)


async def test_state_expires_after_its_time_to_live(store, kind, request):
    await store.save_visitor("demo", "v1", b"x", 0, ttl=100)
    if kind == "memory":
        store._clock.now += 101
    else:
        client = redis_client(store_url(kind, request))
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
    with pytest.raises(StoreUnavailable):
        await store.swap_visitor("demo", "v1", b"x", 0, ttl=10)
    await store.close()


def test_visitor_keys_are_hash_tagged_per_site_and_visitor():
    key = keys.visitor("demo", "abc")
    assert key.count("{") == 1 and "{demo:abc}" in key


# Rule counters: (day, rule, kind) -> count, added up per site and day, read back by day.


async def test_counts_add_up_across_calls_and_read_back_by_day(store):
    await store.add_counts("demo", {("2026-11-22", "hello", "decided"): 1, ("2026-11-22", "hello", "shown"): 2})
    await store.add_counts(
        "demo",
        {
            ("2026-11-22", "hello", "shown"): 1,
            ("2026-11-23", "hello", "clicked"): 1,
            ("2026-11-22", "bye.v2", "dismissed"): 1,
        },
    )
    assert await store.read_counts("demo", ["2026-11-22", "2026-11-23", "2026-11-24"]) == {
        "2026-11-22": {"hello": {"decided": 1, "shown": 3}, "bye.v2": {"dismissed": 1}},
        "2026-11-23": {"hello": {"clicked": 1}},
        "2026-11-24": {},
    }


async def test_goal_values_add_up_as_floats_and_whole_amounts_read_back_as_ints(store):
    day = "2026-11-22"
    await store.add_counts("demo", {(day, "hello", "value"): 1200.5, (day, "hello", "value_sq"): 0.25})
    await store.add_counts("demo", {(day, "hello", "value"): 799.5, (day, "hello", "value_sq"): 0.1})
    await store.add_counts("demo", {(day, "hello", "converted"): 2})
    counts = (await store.read_counts("demo", [day]))[day]["hello"]
    assert counts["value"] == 2000 and type(counts["value"]) is int  # 1200.5 + 799.5: a whole number
    assert counts["value_sq"] == pytest.approx(0.35) and type(counts["value_sq"]) is float
    assert counts["converted"] == 2 and type(counts["converted"]) is int


async def test_a_counter_may_hold_a_bar_and_the_rule_id_ends_at_the_first(store):
    """A page breakdown names any path, "|" included; rule ids never hold one."""
    day = "2026-11-22"
    await store.add_counts(
        "demo",
        {(day, "hello", "decided@page=/a|b"): 1, (day, "hello", "decided@page=/a|b||c"): 2, (day, "v.2", "x"): 1},
    )
    assert await store.read_counts("demo", [day]) == {
        day: {"hello": {"decided@page=/a|b": 1, "decided@page=/a|b||c": 2}, "v.2": {"x": 1}}
    }


async def test_counts_are_kept_per_site(store):
    await store.add_counts("shop-a", {("2026-11-22", "hello", "shown"): 1})
    assert await store.read_counts("shop-b", ["2026-11-22"]) == {"2026-11-22": {}}


async def test_redis_counters_expire_after_400_days(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.add_counts("demo", {("2026-11-22", "hello", "shown"): 1, ("2026-11-23", "hello", "shown"): 1})
    client = redis_client(any_redis_url)
    for day in ("2026-11-22", "2026-11-23"):
        assert 399 * 86400 < client.ttl(keys.stats("demo", day)) <= keys.STATS_TTL
    assert client.hgetall(keys.stats("demo", "2026-11-22")) == {b"hello|shown": b"1"}
    client.close()
    await store.close()


async def test_memory_counters_expire_after_400_days():
    store = MemoryStore(clock=Clock())
    await store.add_counts("demo", {("2026-11-22", "hello", "shown"): 1})
    store._clock.now += keys.STATS_TTL + 1
    assert await store.read_counts("demo", ["2026-11-22"]) == {"2026-11-22": {}}


def test_stats_keys_are_hash_tagged_per_site():
    assert keys.stats("demo", "2026-11-22") == "irs:{demo:stats}:2026-11-22"


# Coupon pools: one code per visitor, the same one again; a unique code never goes to two visitors.


async def test_a_listed_code_goes_to_one_visitor_who_gets_it_again(store):
    assert await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"]) == 2
    first = await store.claim_code("demo", "welcome", "v1", "list", "", 500)
    code, _, expires_at = first.partition("|")
    assert code in ("W-AAA", "W-BBB") and expires_at == "500"
    assert await store.claim_code("demo", "welcome", "v1", "list", "", 999) == first  # the first expiry stays
    second = await store.claim_code("demo", "welcome", "v2", "list", "", 0)
    assert second.partition("|")[0] == ({"W-AAA", "W-BBB"} - {code}).pop()


async def test_an_exhausted_list_gives_none_but_keeps_earlier_codes(store):
    await store.seed_codes("demo", "welcome", ["W-AAA"])
    assert await store.claim_code("demo", "welcome", "v1", "list", "", 0) == "W-AAA|0"
    assert await store.claim_code("demo", "welcome", "v2", "list", "", 0) is None
    assert await store.claim_code("demo", "welcome", "v1", "list", "", 0) == "W-AAA|0"


async def test_a_new_code_is_recorded_once_and_taken_for_anyone_else(store):
    assert await store.claim_code("demo", "vip", "v1", "generated", "IRS-ABCDEFGH", 0) == "IRS-ABCDEFGH|0"
    assert await store.claim_code("demo", "vip", "v1", "generated", "IRS-OTHER123", 0) == "IRS-ABCDEFGH|0"
    assert await store.claim_code("demo", "vip", "v2", "generated", "IRS-ABCDEFGH", 0) == "taken"
    assert await store.claim_code("demo", "vip", "v2", "generated", "IRS-ZZZZZZZZ", 0) == "IRS-ZZZZZZZZ|0"


async def test_a_shared_code_goes_to_everyone(store):
    assert await store.claim_code("demo", "spring", "v1", "shared", "SPRING10", 100) == "SPRING10|100"
    assert await store.claim_code("demo", "spring", "v2", "shared", "SPRING10", 200) == "SPRING10|200"
    assert await store.claim_code("demo", "spring", "v1", "shared", "SPRING10", 300) == "SPRING10|100"


async def test_seeding_is_idempotent_and_skips_codes_given_out(store):
    assert await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"]) == 2
    assert await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"]) == 0
    code = (await store.claim_code("demo", "welcome", "v1", "list", "", 0)).partition("|")[0]
    # A reload seeds the file again: the code given out must not come back.
    assert await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB", "W-CCC"]) == 1
    others = {(await store.claim_code("demo", "welcome", v, "list", "", 0)).partition("|")[0] for v in ("v2", "v3")}
    assert others == {"W-AAA", "W-BBB", "W-CCC"} - {code}
    assert await store.claim_code("demo", "welcome", "v4", "list", "", 0) is None


async def test_pools_are_kept_per_site_and_pool(store):
    await store.seed_codes("shop-a", "welcome", ["W-AAA"])
    assert await store.claim_code("shop-b", "welcome", "v1", "list", "", 0) == "unseeded"
    assert await store.claim_code("shop-a", "other", "v1", "list", "", 0) == "unseeded"
    assert await store.claim_code("shop-a", "welcome", "v1", "list", "", 0) == "W-AAA|0"


async def test_codes_left_counts_down_and_is_none_for_a_pool_not_loaded(store):
    assert await store.codes_left("demo", "welcome") is None
    await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"])
    assert await store.codes_left("demo", "welcome") == 2
    for visitor in ("v1", "v2"):
        await store.claim_code("demo", "welcome", visitor, "list", "", 0)
    assert await store.codes_left("demo", "welcome") == 0  # exhausted, and still loaded
    assert await store.claim_code("demo", "welcome", "v3", "list", "", 0) is None


async def test_a_redis_pool_that_lost_its_keys_is_unseeded_not_exhausted(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.seed_codes("demo", "welcome", ["W-AAA"])
    redis_client(any_redis_url).flushall()  # Redis restarted without persistence
    assert await store.claim_code("demo", "welcome", "v1", "list", "", 0) == "unseeded"
    assert await store.codes_left("demo", "welcome") is None
    await store.close()


async def test_a_code_given_out_is_redeemed_once(store):
    await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"])
    code = (await store.claim_code("demo", "welcome", "v1", "list", "", 0)).partition("|")[0]
    await store.claim_code("demo", "vip", "v1", "generated", "IRS-ABCDEFGH", 0)
    assert await store.redeem_code("demo", "welcome", code, 1000) == "ok"
    assert await store.redeem_code("demo", "welcome", code, 1001) == "redeemed"
    assert await store.redeem_code("demo", "vip", "IRS-ABCDEFGH", 1000) == "ok"


async def test_a_code_never_given_out_is_unknown(store):
    await store.seed_codes("demo", "welcome", ["W-AAA"])
    assert await store.redeem_code("demo", "welcome", "W-AAA", 1000) == "unknown"  # seeded, not given out
    assert await store.redeem_code("demo", "welcome", "NOPE", 1000) == "unknown"
    await store.claim_code("demo", "welcome", "v1", "list", "", 0)
    assert await store.redeem_code("demo", "other", "W-AAA", 1000) == "unknown"  # another pool's code


async def test_redis_pool_keys_expire(any_redis_url):
    store = RedisStore(any_redis_url)
    await store.seed_codes("demo", "welcome", ["W-AAA", "W-BBB"])
    await store.claim_code("demo", "welcome", "v1", "list", "", 0)
    await store.redeem_code(
        "demo", "welcome", (await store.claim_code("demo", "welcome", "v1", "list", "", 0)).partition("|")[0], 1000
    )
    client = redis_client(any_redis_url)
    pool_keys = [
        keys.pool_available("demo", "welcome"),
        keys.pool_owners("demo", "welcome"),
        keys.pool_visitors("demo", "welcome"),
        keys.pool_redeemed("demo", "welcome"),
        keys.pool_loaded("demo", "welcome"),
    ]
    assert sorted(k.decode() for k in all_keys(client)) == sorted(pool_keys)
    for key in pool_keys:
        assert 399 * 86400 < client.ttl(key) <= keys.POOL_TTL, key
    client.close()
    await store.close()


async def test_hits_count_up_per_window_and_say_when_it_starts_again(store):
    assert await store.hit("demo", "new:192.0.2.1", (60, 3600)) == [(1, 60), (1, 3600)]
    assert await store.hit("demo", "new:192.0.2.1", (60, 3600)) == [(2, 60), (2, 3600)]
    assert await store.hit("demo", "new:192.0.2.2", (60,)) == [(1, 60)]  # counters are separate
    assert await store.hit("other", "new:192.0.2.1", (60,)) == [(1, 60)]  # and per site


async def test_a_window_starts_again_after_its_length(store, kind, request):
    await store.hit("demo", "codes:192.0.2.1", (60, 3600))
    await store.hit("demo", "codes:192.0.2.1", (60, 3600))
    if kind == "memory":
        store._clock.now += 61
    else:
        client = redis_client(store_url(kind, request))
        assert 0 < client.ttl(keys.hits("demo", "codes:192.0.2.1", 60)) <= 60
        assert 3540 < client.ttl(keys.hits("demo", "codes:192.0.2.1", 3600)) <= 3600
        client.pexpire(keys.hits("demo", "codes:192.0.2.1", 60), 1)  # fast-forward: Redis has no fake clock
        await asyncio.sleep(0.01)
        client.close()
    [(minute, _), (hour, _)] = await store.hit("demo", "codes:192.0.2.1", (60, 3600))
    assert (minute, hour) == (1, 3)


def test_hit_keys_are_hash_tagged_per_site_and_counter():
    assert keys.hits("demo", "new:192.0.2.1", 60) == "irs:{demo:hits:new:192.0.2.1}:60"
