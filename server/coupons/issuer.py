"""Coupon codes for visitors, from a site's pools, kept in the store.

A visitor gets at most one code per pool and sees the same one on later visits; a unique
code (from a codes file, or generated) is never given to two visitors, because the store
assigns it atomically. An exhausted pool gives no code, which makes its rule ineligible.
"""

from __future__ import annotations

import logging
import secrets

from server.coupons.coupon import Coupon
from server.coupons.pools import CouponPool
from server.sites import Site
from server.store.base import Store

log = logging.getLogger("irasshai.coupons")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read and typed by people
GENERATE_TRIES = 5


def generate_code(pool: CouponPool) -> str:
    return pool.prefix + "".join(secrets.choice(ALPHABET) for _ in range(pool.length))


class StoreCoupons:
    def __init__(self, store: Store):
        self.store = store

    async def code_for(self, site: Site, pool: CouponPool, visitor_id: str, now: float) -> Coupon | None:
        expires_at = int(now) + pool.expires_after if pool.expires_after else 0
        if pool.kind == "generated":
            found = "taken"
            for _ in range(GENERATE_TRIES):
                found = await self.store.claim_code(site.key, pool.name, visitor_id, pool.kind, generate_code(pool), expires_at)
                if found != "taken":
                    break
        else:  # "shared": the pool's one code; "list": the store takes one of the file's
            found = await self.store.claim_code(site.key, pool.name, visitor_id, pool.kind, pool.code, expires_at)
        if found is None or found == "taken":
            return None
        code, _, expiry = found.partition("|")
        expires_at = int(expiry or 0)
        if expires_at and expires_at <= now:
            return None  # this visitor's code has expired; they do not get a second one
        return Coupon(code, pool.discount, expires_at)

    async def seed(self, sites: dict[str, Site]) -> None:
        """Make every codes file's unused codes available (at start-up and after each reload)."""
        for site in sites.values():
            for pool in site.coupons.values():
                if pool.kind == "list":
                    added = await self.store.seed_codes(site.key, pool.name, list(pool.codes))
                    if added:
                        log.info("site %s: coupon pool %s: %d new codes available", site.key, pool.name, added)

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
