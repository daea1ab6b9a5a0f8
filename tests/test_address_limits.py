"""Events per client address (server/address_limits.py): counted in memory, flushed to the store.

A process admits an address's events while the store's last total for it plus what the process
admitted since stays within the limit, and refuses beyond (Retry-After: the rest of the window);
a refused batch is not counted. A flush adds every address's count to the store in one call per
site and learns the totals, which every process shares: what another process admitted counts
here after the next flush. An address nearing its limit is flushed at once. A window ends after
a minute. A store that cannot be reached loses that flush's counts and refuses nothing for it.
Across two real server processes on one redis-server, the limit holds within one flush.
"""

from __future__ import annotations

import httpx2 as httpx
import pytest

from server.address_limits import AddressLimits, AddressRateLimited
from server.site_limits import SiteLimits
from server.sites import Site
from server.store import keys
from server.store.base import StoreUnavailable
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import redis_client, serve_process
from tests.helpers import SHOP, SITE_YAML, batch, page_view, write_site
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio
SHOP_SITE = Site("shop", "shop", frozenset(), None)  # type: ignore[arg-type]  # the timezone is not used here


def limits_of(store, per_minute=100, clock=None) -> AddressLimits:
    return AddressLimits(store, per_minute, clock=clock or Clock())


async def test_an_address_is_refused_beyond_its_limit_and_refused_events_do_not_count():
    limits = limits_of(MemoryStore(), 30)
    for _ in range(3):
        limits.admit(SHOP_SITE, "192.0.2.1", 10)
    with pytest.raises(AddressRateLimited) as refused:
        limits.admit(SHOP_SITE, "192.0.2.1", 1)
    assert refused.value.retry_after == 60
    limits.admit(SHOP_SITE, "192.0.2.2", 30)  # another address has its own count
    await limits.flush()
    assert (await limits.store.add_hits("shop", {"events:192.0.2.1": 0}, 60))["events:192.0.2.1"][0] == 30


async def test_what_another_process_admitted_counts_after_a_flush():
    store, clock = MemoryStore(clock=Clock()), Clock()
    one, two = limits_of(store, 50, clock), limits_of(store, 50, clock)
    one.admit(SHOP_SITE, "192.0.2.1", 40)
    await one.flush()
    two.admit(SHOP_SITE, "192.0.2.1", 5)  # two has not flushed yet: it knows only its own
    await two.flush()  # the store says 45
    with pytest.raises(AddressRateLimited):
        two.admit(SHOP_SITE, "192.0.2.1", 6)
    two.admit(SHOP_SITE, "192.0.2.1", 5)  # exactly the limit


async def test_the_window_ends_after_a_minute():
    store_clock = Clock()
    clock = Clock()
    limits = limits_of(MemoryStore(clock=store_clock), 10, clock)
    limits.admit(SHOP_SITE, "192.0.2.1", 10)
    await limits.flush()
    clock.now += 30
    with pytest.raises(AddressRateLimited) as refused:
        limits.admit(SHOP_SITE, "192.0.2.1", 1)
    assert refused.value.retry_after == 30
    clock.now += 31
    store_clock.now += 61
    limits.admit(SHOP_SITE, "192.0.2.1", 10)


async def test_an_address_nearing_its_limit_is_flushed_at_once():
    limits = limits_of(MemoryStore(), 100)
    limits.admit(SHOP_SITE, "192.0.2.1", 9)
    assert not limits._wake.is_set()
    limits.admit(SHOP_SITE, "192.0.2.1", 1)  # a tenth of the limit
    assert limits._wake.is_set()


async def test_a_sites_own_limit_wins_and_zero_is_off():
    limits = limits_of(MemoryStore(), 10)
    generous = Site("big", "big", frozenset(), None, limits=SiteLimits(events_per_address_per_minute=0))  # type: ignore[arg-type]
    for _ in range(5):
        limits.admit(generous, "192.0.2.1", 200)
    strict = Site("tiny", "tiny", frozenset(), None, limits=SiteLimits(events_per_address_per_minute=2))  # type: ignore[arg-type]
    limits.admit(strict, "192.0.2.1", 2)
    with pytest.raises(AddressRateLimited):
        limits.admit(strict, "192.0.2.1", 1)


async def test_an_unreachable_store_loses_that_flush_and_refuses_nothing_for_it():
    class Down(MemoryStore):
        async def add_hits(self, site, counts, window):
            raise StoreUnavailable("Redis at redis://test is unreachable: down")

    limits = limits_of(Down(), 20)
    limits.admit(SHOP_SITE, "192.0.2.1", 15)
    await limits.flush()
    limits.admit(SHOP_SITE, "192.0.2.1", 15)  # the 15 were not counted anywhere


SITE = (
    SITE_YAML
    + """\
limits:
  events_per_address_per_minute: 100
  events_per_visitor_per_minute: 0
  new_visitors_per_minute: 0
  new_visitors_per_hour: 0
"""
)


def wait_for_total(redis_url: str, total: int) -> None:
    """Until both processes' flushes have added up to `total` in the store (a wait, not a timing check)."""
    import time

    client = redis_client(redis_url)
    key = keys.shared_hits("shop", "events:127.0.0.1", 60)
    deadline = time.monotonic() + 20
    while int(client.get(key) or 0) < total:
        assert time.monotonic() < deadline, f"flushed {client.get(key)} of {total}"
        time.sleep(0.02)
    client.close()


@pytest.mark.redis
def test_the_limit_holds_across_two_processes_within_one_flush(tmp_path, redis_url):
    """Batches of 10 events from one address, alternating between two processes on one Redis,
    each round's counts flushed before the next: the address gets 100 events in (its limit),
    and at most one more batch (what the other process admitted before its flush returned)."""
    write_site(tmp_path, site_yaml=SITE)
    settings = {"IRASSHAI_ADDRESS_FLUSH_INTERVAL": "0.2"}
    with serve_process(tmp_path, redis_url, **settings) as one, serve_process(tmp_path, redis_url, **settings) as two:
        accepted, refused = 0, []
        for _ in range(15):
            for base in (one, two):
                reply = httpx.post(
                    f"{base}/v1/sites/shop/events",
                    content=batch(*(page_view(f"/p{n}") for n in range(10))),
                    headers={"origin": SHOP, "content-type": "text/plain"},
                )
                if reply.status_code == 200:
                    accepted += 10
                else:
                    assert reply.status_code == 429 and 0 < int(reply.headers["retry-after"]) <= 60, reply.text
                    refused.append(base)
            wait_for_total(redis_url, accepted)
        print(
            f"\nevents per address, limit 100/min, two processes: sent 300 in 30 batches, {accepted} accepted, {len(refused)} refused with 429"
        )
        assert 100 <= accepted <= 110
        assert len(refused) == 30 - accepted // 10
        assert set(refused[-2:]) == {one, two}  # both processes refuse the address once it is over


async def test_redis_flushes_go_to_one_slot(redis_cluster_url):
    """On a cluster every address of a site is flushed by one script: one slot."""
    store = RedisStore(redis_cluster_url)
    limits = limits_of(store, 1000)
    for n in range(50):
        limits.admit(SHOP_SITE, f"192.0.2.{n}", 1)
    await limits.flush()
    await store.close()
    assert limits._known[("shop", "192.0.2.49")][0] == 1


@pytest.mark.redis
def test_a_visitors_limit_holds_across_two_processes(tmp_path, redis_url):
    """Counted in the visitor's state, written compare-and-set: exact whichever process is asked."""
    write_site(tmp_path, site_yaml=SITE_YAML + "limits: {events_per_visitor_per_minute: 30}\n")
    with serve_process(tmp_path, redis_url) as one, serve_process(tmp_path, redis_url) as two:
        token, statuses = None, []
        for base in (one, two, one, two, one):
            reply = httpx.post(
                f"{base}/v1/sites/shop/events",
                content=batch(*(page_view(f"/p{n}") for n in range(10)), visitor=token),
                headers={"origin": SHOP, "content-type": "text/plain"},
            )
            statuses.append(reply.status_code)
            token = token or reply.json()["visitor"]
        print(f"\nevents per visitor, limit 30/min, two processes: 5 batches of 10, statuses {statuses}")
        assert statuses == [200, 200, 200, 429, 429]
