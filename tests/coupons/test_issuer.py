"""StoreCoupons (server/coupons/issuer.py): coupon codes for visitors, kept in the store.

A visitor gets at most one code per pool and the same one on later visits, until it expires;
after that they get none. A unique code, from a codes file or generated, never goes to two
visitors, even when several server processes (each with its own connection pool) hand out
codes from one Redis at the same moment. An exhausted pool gives None. A shared code is
verified at redeem, never consumed; other codes are redeemed once.

A codes file's pool that the store lost (Redis flushed or restarted without persistence) is
loaded again on the next claim, which then succeeds. A pool with at most 10% of its codes
left logs one warning per process, not one per claim, and again only after it was refilled.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo

import pytest
import redis as redis_sync

from server.coupons.issuer import ALPHABET, StoreCoupons, low_mark
from server.coupons.pools import CouponPool
from server.sites import Site
from server.store.memory import MemoryStore
from server.store.redis import RedisStore

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0
WELCOME = CouponPool("welcome", "list", codes=("W-AAA", "W-BBB", "W-CCC"), discount="500円オフ")
SPRING = CouponPool("spring10", "shared", code="SPRING10", expires_after=7 * 86400)
VIP = CouponPool("vip", "generated", prefix="IRS-", length=10)


def make_site(*pools: CouponPool) -> Site:
    return Site(
        key="shop",
        name="Shop",
        origins=frozenset({"https://shop.example"}),
        timezone=zoneinfo.ZoneInfo("Asia/Tokyo"),
        coupons={pool.name: pool for pool in pools},
    )


@pytest.fixture(params=["memory", "redis"])
async def coupons(request):
    store = MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    coupons = StoreCoupons(store)
    await coupons.seed({"shop": make_site(WELCOME, SPRING, VIP)})
    yield coupons
    await store.close()


@pytest.mark.parametrize("pool", [WELCOME, SPRING, VIP], ids=lambda pool: pool.kind)
async def test_a_visitor_gets_one_code_per_pool_and_the_same_one_later(coupons, pool):
    site = make_site(pool)
    first = await coupons.code_for(site, pool, "v1", NOW)
    assert first is not None
    assert await coupons.code_for(site, pool, "v1", NOW + 86400) == first


async def test_unique_codes_differ_between_visitors(coupons):
    site = make_site(WELCOME, VIP)
    for pool in (WELCOME, VIP):
        codes = {(await coupons.code_for(site, pool, f"v{i}", NOW)).code for i in range(3)}
        assert len(codes) == 3


async def test_the_coupon_carries_the_pools_discount_and_expiry(coupons):
    site = make_site(WELCOME, SPRING)
    coupon = await coupons.code_for(site, WELCOME, "v1", NOW)
    assert coupon.code in WELCOME.codes and coupon.discount == "500円オフ" and coupon.expires_at == 0
    shared = await coupons.code_for(site, SPRING, "v1", NOW)
    assert shared.code == "SPRING10" and shared.expires_at == int(NOW) + 7 * 86400


async def test_an_expired_code_is_not_shown_again_and_not_replaced(coupons):
    site = make_site(SPRING)
    coupon = await coupons.code_for(site, SPRING, "v1", NOW)
    assert await coupons.code_for(site, SPRING, "v1", coupon.expires_at - 1) == coupon
    assert await coupons.code_for(site, SPRING, "v1", coupon.expires_at) is None
    assert await coupons.code_for(site, SPRING, "v1", coupon.expires_at + 86400) is None
    assert (await coupons.code_for(site, SPRING, "v2", coupon.expires_at)).code == "SPRING10"  # others still get it


async def test_generated_codes_have_the_prefix_length_and_alphabet(coupons):
    site = make_site(VIP)
    for i in range(20):
        code = (await coupons.code_for(site, VIP, f"v{i}", NOW)).code
        assert code.startswith("IRS-") and len(code) == len("IRS-") + 10
        assert set(code[len("IRS-") :]) <= set(ALPHABET)
        assert not set(code[len("IRS-") :]) & set("01OI")  # nothing a person could misread


async def test_an_exhausted_list_returns_none(coupons):
    site = make_site(WELCOME)
    given = [await coupons.code_for(site, WELCOME, f"v{i}", NOW) for i in range(3)]
    assert {coupon.code for coupon in given} == set(WELCOME.codes)
    assert await coupons.code_for(site, WELCOME, "v3", NOW) is None
    assert await coupons.code_for(site, WELCOME, "v0", NOW) == given[0]  # earlier visitors keep theirs


async def test_redeem_marks_a_given_code_once_and_verifies_a_shared_one(coupons):
    site = make_site(WELCOME, SPRING, VIP)
    welcome = (await coupons.code_for(site, WELCOME, "v1", NOW)).code
    vip = (await coupons.code_for(site, VIP, "v1", NOW)).code
    assert await coupons.redeem(site, welcome, NOW) == ("ok", "welcome")
    assert await coupons.redeem(site, welcome, NOW) == ("redeemed", "welcome")
    assert await coupons.redeem(site, vip, NOW) == ("ok", "vip")
    assert await coupons.redeem(site, "SPRING10", NOW) == ("shared", "spring10")
    assert await coupons.redeem(site, "SPRING10", NOW) == ("shared", "spring10")
    not_given = next(code for code in WELCOME.codes if code != welcome)
    assert await coupons.redeem(site, not_given, NOW) == ("unknown", None)


# Several server processes on one Redis: each is a RedisStore with its own connection pool.

PROCESSES = 4
VISITORS = 200
UNIQUE = CouponPool("launch", "list", codes=tuple(f"LAUNCH-{i:03d}" for i in range(50)))


@pytest.fixture
async def processes(redis_url):
    stores = [RedisStore(redis_url) for _ in range(PROCESSES)]
    yield [StoreCoupons(store) for store in stores]
    for store in stores:
        await store.close()


async def test_concurrent_claims_from_several_processes_give_each_code_to_one_visitor(processes):
    site = make_site(UNIQUE)
    await asyncio.gather(*(coupons.seed({"shop": site}) for coupons in processes))  # every process seeds at start-up
    claims = await asyncio.gather(
        *(processes[i % PROCESSES].code_for(site, UNIQUE, f"visitor-{i}", NOW) for i in range(VISITORS))
    )
    given = [coupon.code for coupon in claims if coupon is not None]
    assert len(given) == len(UNIQUE.codes)
    assert sorted(given) == sorted(UNIQUE.codes)  # all distinct, all from the file
    assert claims.count(None) == VISITORS - len(UNIQUE.codes)
    # Every winner sees their own code again, from any process.
    for i, coupon in enumerate(claims):
        if coupon is not None:
            assert await processes[(i + 1) % PROCESSES].code_for(site, UNIQUE, f"visitor-{i}", NOW) == coupon


async def test_one_visitor_claiming_from_two_processes_at_once_gets_one_code(processes):
    site = make_site(UNIQUE, VIP)
    await processes[0].seed({"shop": site})
    for pool in (UNIQUE, VIP):
        claims = await asyncio.gather(*(processes[i % 2].code_for(site, pool, "visitor-1", NOW) for i in range(10)))
        assert claims[0] is not None and set(claims) == {claims[0]}
    # The other 49 listed codes are still there for other visitors.
    others = await asyncio.gather(*(processes[1].code_for(site, UNIQUE, f"visitor-{i}", NOW) for i in range(2, 60)))
    assert sum(coupon is not None for coupon in others) == len(UNIQUE.codes) - 1


# Redis losing a pool, and pools running low.


async def test_a_pool_redis_lost_is_loaded_again_and_the_claim_succeeds(redis_url, caplog):
    store = RedisStore(redis_url)
    coupons = StoreCoupons(store)
    site = make_site(UNIQUE)
    await coupons.seed({"shop": site})
    assert await coupons.code_for(site, UNIQUE, "visitor-1", NOW) is not None
    redis_sync.Redis.from_url(redis_url).flushall()  # Redis restarted without persistence
    claims = await asyncio.gather(*(coupons.code_for(site, UNIQUE, f"visitor-{i}", NOW) for i in range(2, 12)))
    await store.close()
    assert None not in claims and len({coupon.code for coupon in claims}) == 10
    reloads = [r for r in caplog.records if "was not in the store" in r.getMessage()]
    assert len(reloads) == 1 and "shop" in reloads[0].getMessage() and "launch" in reloads[0].getMessage()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_low_pool_logs_one_warning_not_one_per_claim(kind, request, caplog):
    caplog.set_level(logging.WARNING, logger="irasshai.coupons")
    store = MemoryStore() if kind == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    coupons = StoreCoupons(store)
    site = make_site(UNIQUE)  # 50 codes: low with 5 or fewer left
    assert low_mark(UNIQUE) == 5
    await coupons.seed({"shop": site})

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if "running low" in r.getMessage()]

    for i in range(44):
        await coupons.code_for(site, UNIQUE, f"visitor-{i}", NOW)
    assert warnings() == []  # 6 left
    for i in range(44, 60):  # down to 5, to 0, then claims on an exhausted pool
        await coupons.code_for(site, UNIQUE, f"visitor-{i}", NOW)
    assert warnings() == [
        "site shop: coupon pool launch is running low: 5 of 50 codes left; add codes to its codes file"
    ]
    refilled = CouponPool("launch", "list", codes=UNIQUE.codes + tuple(f"MORE-{i:03d}" for i in range(50)))
    await coupons.seed({"shop": make_site(refilled)})  # a reload after codes were added to the file
    for i in range(60, 105):
        await coupons.code_for(make_site(refilled), refilled, f"visitor-{i}", NOW)
    assert len(warnings()) == 2 and "running low: 10 of 100 codes left" in warnings()[1]
    await store.close()
