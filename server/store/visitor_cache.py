"""The visitor states this process wrote or read last, so that a batch needs no read first.

The event path (server/ingest.py) writes a visitor's state by compare-and-set on the version it
last saw (:meth:`~server.store.base.Store.swap_visitor`). Kept here per (site, visitor): the
blob and version of the last write or read, as the store holds them. The cache is only ever a
guess: a write on a stale entry (another process or tab wrote since) is refused by the store,
which answers the state that won, so a stale entry costs one more round trip and never a wrong
result; the store's versions never repeat for a key, so an entry older than its key cannot match.

Bounded by bytes: the blobs plus :data:`ENTRY_OVERHEAD` each; the least recently used entries
go first. Blobs are immutable bytes: batches decode their own copy of the state, so concurrent
batches never share a mutable state through it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

ENTRY_OVERHEAD = 200  # bytes per entry besides its blob: the key's strings, the tuples, the dict slot


class VisitorCache:
    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.monotonic):
        self.max_bytes = max_bytes
        self.bytes = 0  # what the entries take, as counted against max_bytes
        self._clock = clock
        # (site, visitor) -> (blob, version, when it was put)
        self._entries: OrderedDict[tuple[str, str], tuple[bytes | None, int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, site: str, visitor_id: str, max_age: float) -> tuple[bytes | None, int] | None:
        """(blob, version) last seen for the visitor, or None when not kept. An entry older than
        `max_age` seconds (the site's retention: its key may be gone) is dropped, so that no
        state outlives its retention here."""
        key = (site, visitor_id)
        found = self._entries.get(key)
        if found is None:
            return None
        if self._clock() - found[2] > max_age:
            self.drop(site, visitor_id)
            return None
        self._entries.move_to_end(key)
        return found[0], found[1]

    def put(self, site: str, visitor_id: str, blob: bytes | None, version: int) -> None:
        """Remember what the store holds for the visitor now; evict the least recently used beyond the bound."""
        key = (site, visitor_id)
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= _cost(old[0])
        cost = _cost(blob)
        if cost > self.max_bytes // 4:  # a huge state (or a cache of 0 bytes) is not worth keeping
            return
        self._entries[key] = (blob, version, self._clock())
        self.bytes += cost
        while self.bytes > self.max_bytes:
            _, (dropped, _, _) = self._entries.popitem(last=False)
            self.bytes -= _cost(dropped)

    def drop(self, site: str, visitor_id: str) -> None:
        """Forget the visitor (a write whose outcome is unknown: the next batch reads)."""
        old = self._entries.pop((site, visitor_id), None)
        if old is not None:
            self.bytes -= _cost(old[0])


def _cost(blob: bytes | None) -> int:
    return ENTRY_OVERHEAD + (len(blob) if blob else 0)
