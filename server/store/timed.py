"""The store as the event path sees it, with each of its calls timed and its failures counted.

Only the event path's operations are measured (TIMED: reading and writing a visitor's state,
the rules' counters, the rate limits' hits): they are the ones whose latency a visitor waits for,
and timing only them keeps the cost to the calls that matter (about a microsecond each, see
docs/operations.md). Every other attribute is the wrapped store's own, untouched.
"""

from __future__ import annotations

from time import perf_counter

from server import metrics
from server.store.base import Store, StoreUnavailable

TIMED = ("load_visitor", "save_visitor", "swap_visitor", "add_counts", "hit")


def _timed(name: str):
    seconds, errors = metrics.STORE_SECONDS.labels(name), metrics.STORE_ERRORS.labels(name)

    async def call(self, *args, **kwargs):
        started = perf_counter()
        try:
            return await getattr(self.store, name)(*args, **kwargs)
        except StoreUnavailable:
            errors.inc()
            raise
        finally:
            seconds.observe(perf_counter() - started)

    call.__name__ = name
    return call


class TimedStore:
    """`store`, with the calls named in TIMED measured into irasshai_store_seconds and _errors."""

    def __init__(self, store: Store):
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    load_visitor = _timed("load_visitor")
    save_visitor = _timed("save_visitor")
    swap_visitor = _timed("swap_visitor")
    add_counts = _timed("add_counts")
    hit = _timed("hit")
