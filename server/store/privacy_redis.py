"""One visitor's or customer's data in Redis: the customer index, finding a visitor's
conversations, and forgetting (docs/privacy.md). A part of :class:`RedisStore`, kept apart so
that each file holds one concept; the contract is the Store's (server/store/base.py).

A visitor's data spans several hash tags (their own, the site's conversations, the operators'
feed, live visitors, each coupon pool, each rate-limit counter), so forgetting is one call per
slot, each of which is whole on its own; a failure part-way leaves the rest for the next call.
"""

from __future__ import annotations

from redis.exceptions import RedisError

from server.store import keys
from server.store.redis_client import Script

SCAN_COUNT = 1000  # fields per HSCAN, entries per XRANGE: bounded replies, a few calls for a big site


def _glob_escaped(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisPrivacy:
    """Mixed into RedisStore, whose client, Atomic and error wrapping it uses."""

    def _register_privacy(self) -> None:
        self._forget_code = Script(self._client, "forget_code.lua")

    async def link_customer(self, site: str, customer: str, visitor_id: str, ttl: int) -> None:
        key = keys.customer_visitors(site, customer)
        try:
            await self._atomic(("SADD", key, visitor_id), ("EXPIRE", key, ttl))
        except RedisError as error:
            raise self._unavailable(error) from None

    async def customer_visitors(self, site: str, customer: str) -> list[str]:
        try:
            found = await self._client.smembers(keys.customer_visitors(site, customer))
        except RedisError as error:
            raise self._unavailable(error) from None
        return sorted(member.decode() for member in found)

    async def visitor_conversations(self, site: str, visitor_id: str) -> list[str]:
        found: set[str] = set()
        pattern = _glob_escaped(visitor_id) + ".*"
        try:
            async for name in self._client.hscan_iter(keys.conversations(site), match=pattern, count=SCAN_COUNT):
                found.add((name[0] if isinstance(name, tuple) else name).decode())
        except RedisError as error:
            raise self._unavailable(error) from None
        return sorted(found)

    async def forget_visitor(
        self, site: str, visitor_id: str, pools: list[str], hits: dict[str, tuple[int, ...]]
    ) -> None:
        own = [keys.visitor(site, visitor_id), keys.feed(site, visitor_id), keys.chat_ids(site, visitor_id)]
        try:
            await self._client.delete(*own, keys.chat(site, visitor_id))  # one slot: the visitor's tag
            conversations = await self.visitor_conversations(site, visitor_id)
            if conversations:
                await self._atomic(
                    ("HDEL", keys.conversations(site), *conversations),
                    ("ZREM", keys.conversation_activity(site), *conversations),
                )
            await self._forget_ops_entries(site, visitor_id.encode())
            await self._client.zrem(keys.live(site), visitor_id)
            for counter, windows in hits.items():
                for window in windows:  # each counter's windows share its tag; one call each keeps it simple
                    await self._client.delete(keys.hits(site, counter, window))
            for pool in pools:
                await self._forget_code(
                    keys=[keys.pool_owners(site, pool), keys.pool_visitors(site, pool)], args=[visitor_id]
                )
        except RedisError as error:
            raise self._unavailable(error) from None

    async def _forget_ops_entries(self, site: str, needle: bytes) -> None:
        """XDEL the operators' feed entries that name the visitor (at most OPS_FEED_LENGTH entries, read in pages)."""
        key, start = keys.ops_feed(site), "-"
        while True:
            found = await self._client.xrange(key, start, "+", count=SCAN_COUNT)
            doomed = [entry_id for entry_id, fields in found if needle in fields.get(b"d", b"")]
            if doomed:
                await self._client.xdel(key, *doomed)
            if len(found) < SCAN_COUNT:
                return
            start = "(" + found[-1][0].decode()

    async def unlink_customer(self, site: str, customer: str, visitor_id: str) -> None:
        try:
            await self._client.srem(keys.customer_visitors(site, customer), visitor_id)
        except RedisError as error:
            raise self._unavailable(error) from None

    async def forget_customer(self, site: str, customer: str) -> None:
        try:
            await self._client.delete(keys.customer_visitors(site, customer))
        except RedisError as error:
            raise self._unavailable(error) from None
