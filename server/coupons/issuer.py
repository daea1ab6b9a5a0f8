"""Coupon codes for visitors, from a site's pools, kept in the store.

A visitor gets at most one code per pool and sees the same one on later visits; a unique
code (from a codes file, or generated) is never given to two visitors, because the store
assigns it atomically. An exhausted pool gives no code, which makes its rule ineligible.

A codes file's pool is loaded into the store at start-up and after each reload. If the store
loses it (Redis restarted without persistence, or was flushed), the next claim finds it not
loaded, loads it again from the file and retries once; /readyz does the same check. When a
pool has at most LOW_FRACTION of its codes left, each process logs one warning (not one per
claim) and /readyz lists it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets

from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.sites import Site
from server.store.base import Store

log = logging.getLogger("irasshai.coupons")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read and typed by people
GENERATE_TRIES = 5
LOW_FRACTION = 0.1  # a codes file's pool is low with at most 10% of its codes left (at least 1)


def low_mark(pool: CouponPool) -> int:
    """The number of codes left at or below which `pool` is low."""
    return max(1, math.ceil(len(pool.codes) * LOW_FRACTION))


def generate_code(pool: CouponPool) -> str:
    return pool.prefix + "".join(secrets.choice(ALPHABET) for _ in range(pool.length))


class StoreCoupons:
    def __init__(self, store: Store):
        self.store = store
        self._low: set[tuple[str, str]] = set()  # pools this process has warned about, until refilled
        self._reloading: dict[tuple[str, str], asyncio.Future] = {}

    async def code_for(self, site: Site, pool: CouponPool, visitor_id: str, now: float) -> Coupon | None:
        expires_at = int(now) + pool.expires_after if pool.expires_after else 0
        if pool.kind == "list":
            found, new = await self._claim_listed(site, pool, visitor_id, expires_at)
        elif pool.kind == "generated":
            found, new = "taken", False
            for _ in range(GENERATE_TRIES):
                found, new = await self.store.assign_code(
                    site.key, pool.name, visitor_id, pool.kind, generate_code(pool), expires_at
                )
                if found != "taken":
                    break
        else:  # "shared": the pool's one code
            found, new = await self.store.assign_code(site.key, pool.name, visitor_id, pool.kind, pool.code, expires_at)
        if found is None or found == "taken":
            return None
        code, _, expiry = found.partition("|")
        expires_at = int(expiry or 0)
        if expires_at and expires_at <= now:
            return None  # this visitor's code has expired; they do not get a second one
        return Coupon(code, pool.discount, expires_at, new)

    async def _claim_listed(
        self, site: Site, pool: CouponPool, visitor_id: str, expires_at: int
    ) -> tuple[str | None, bool]:
        found, new = await self.store.assign_code(site.key, pool.name, visitor_id, "list", "", expires_at)
        if found == "unseeded":
            await self._reload(site, pool)
            found, new = await self.store.assign_code(site.key, pool.name, visitor_id, "list", "", expires_at)
            if found == "unseeded":
                return None, False
        if (site.key, pool.name) not in self._low:  # once low, only a seed (a reload) can change that
            self._note_left(site, pool, await self.store.codes_left(site.key, pool.name))
        return found, new

    async def _reload(self, site: Site, pool: CouponPool) -> None:
        """Load a pool the store lost, once however many claims find it missing at the same time."""
        key = (site.key, pool.name)
        if key not in self._reloading:
            log.warning(
                "site %s: coupon pool %s was not in the store (did Redis lose its data?); "
                "loading its codes again from the codes file",
                site.key,
                pool.name,
            )
            self._reloading[key] = asyncio.ensure_future(self._seed_pool(site, pool))
            self._reloading[key].add_done_callback(lambda _: self._reloading.pop(key, None))
        await asyncio.shield(self._reloading[key])

    async def _seed_pool(self, site: Site, pool: CouponPool) -> None:
        added = await self.store.seed_codes(site.key, pool.name, list(pool.codes))
        if added:
            log.info("site %s: coupon pool %s: %d new codes available", site.key, pool.name, added)
        self._note_left(site, pool, await self.store.codes_left(site.key, pool.name))

    def _note_left(self, site: Site, pool: CouponPool, left: int | None) -> None:
        key = (site.key, pool.name)
        if left is None or left > low_mark(pool):
            self._low.discard(key)
        elif key not in self._low:
            self._low.add(key)
            log.warning(
                "site %s: coupon pool %s is running low: %d of %d codes left; add codes to its codes file",
                site.key,
                pool.name,
                left,
                len(pool.codes),
            )

    async def seed(self, sites: dict[str, Site]) -> None:
        """Make every codes file's unused codes available (at start-up and after each reload)."""
        for site in sites.values():
            for pool in site.coupons.values():
                if pool.kind == "list":
                    await self._seed_pool(site, pool)

    async def check_pools(self, sites: dict[str, Site]) -> tuple[list[str], dict[str, int]]:
        """For /readyz: the codes files' pools found not loaded (loaded again now) and the low
        pools with how many codes they have left, each named "site/pool"."""
        missing, low = [], {}
        for site in sites.values():
            for pool in site.coupons.values():
                if pool.kind != "list":
                    continue
                left = await self.store.codes_left(site.key, pool.name)
                if left is None:
                    missing.append(f"{site.key}/{pool.name}")
                    await self._reload(site, pool)
                    left = await self.store.codes_left(site.key, pool.name)
                if left is not None and left <= low_mark(pool):
                    low[f"{site.key}/{pool.name}"] = left
                self._note_left(site, pool, left)
        return missing, low

    async def redeem(self, site: Site, code: str, now: float) -> tuple[str, str | None]:
        """("ok" | "redeemed" | "unknown" | "shared", pool name)."""
        for pool in site.coupons.values():
            if pool.kind == "shared":
                if code == pool.code:
                    return "shared", pool.name
                continue
            result = await self.store.redeem_code(site.key, pool.name, code, int(now))
            if result != "unknown":
                return result, pool.name
        return "unknown", None
