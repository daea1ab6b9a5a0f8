"""One visitor's or customer's data in the in-memory store: the customer index, finding a
visitor's conversations, and forgetting (docs/privacy.md). A part of :class:`MemoryStore`,
kept apart so that each file holds one concept; the contract is the Store's (server/store/base.py).
"""

from __future__ import annotations


class MemoryPrivacy:
    """Mixed into MemoryStore, whose dictionaries it reads and changes."""

    async def link_customer(self, site: str, customer: str, visitor_id: str, ttl: int) -> None:
        now = self._clock()
        entry = self._customers.get((site, customer))
        visitors = entry[1] if entry is not None and entry[0] > now else set()
        self._customers[site, customer] = (now + ttl, visitors | {visitor_id})

    async def customer_visitors(self, site: str, customer: str) -> list[str]:
        entry = self._customers.get((site, customer))
        return sorted(entry[1]) if entry is not None and entry[0] > self._clock() else []

    async def visitor_conversations(self, site: str, visitor_id: str) -> list[str]:
        return sorted(found for found in self._index(site) if found.startswith(visitor_id + "."))

    async def forget_visitor(
        self, site: str, visitor_id: str, pools: list[str], hits: dict[str, tuple[int, ...]]
    ) -> None:
        key = (site, visitor_id)
        self._visitors.pop(key, None)
        self._feeds.pop(key, None)
        self._chats.pop(key, None)
        index = self._index(site)
        for conversation in await self.visitor_conversations(site, visitor_id):
            del index[conversation]
        ops = self._ops.get(site)
        if ops is not None:
            needle = visitor_id.encode()
            ops.entries = [entry for entry in ops.entries if needle not in entry[3]]
        live = self._live.get(site)
        if live is not None:
            live[1].pop(visitor_id, None)
        for counter, windows in hits.items():
            for window in windows:
                self._hits.pop((site, counter, window), None)
        for name in pools:
            pool = self._pools.get((site, name))
            assignment = pool.visitors.pop(visitor_id, None) if pool is not None else None
            code = assignment.rpartition("|")[0] if assignment is not None else None
            if code is not None and pool.owners.get(code) == visitor_id:
                pool.owners[code] = ""

    async def unlink_customer(self, site: str, customer: str, visitor_id: str) -> None:
        entry = self._customers.get((site, customer))
        if entry is not None:
            entry[1].discard(visitor_id)

    async def forget_customer(self, site: str, customer: str) -> None:
        self._customers.pop((site, customer), None)
