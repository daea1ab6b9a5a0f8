"""The per-process cache of visitor states (server/store/visitor_cache.py): what it keeps, and
that it never holds more than its bound, dropping the least recently used first."""

from __future__ import annotations

from server.store.visitor_cache import ENTRY_OVERHEAD, VisitorCache

DAY = 86400


def test_it_answers_the_last_state_and_version_put_for_a_visitor():
    cache = VisitorCache(10_000)
    assert cache.get("shop", "v1", DAY) is None
    cache.put("shop", "v1", b"one", 5)
    cache.put("shop", "v1", b"two", 6)
    assert cache.get("shop", "v1", DAY) == (b"two", 6)
    assert cache.get("other", "v1", DAY) is None  # sites never share entries
    cache.drop("shop", "v1")
    assert cache.get("shop", "v1", DAY) is None and cache.bytes == 0


def test_it_never_holds_more_than_its_bound_and_drops_the_least_recently_used():
    blob = b"x" * 800
    cache = VisitorCache(10 * (ENTRY_OVERHEAD + len(blob)))
    for number in range(10):
        cache.put("shop", f"v{number}", blob, 1)
    cache.get("shop", "v0", DAY)  # used again: kept
    for number in range(10, 1000):
        cache.put("shop", f"v{number}", blob, 1)
        assert cache.bytes <= cache.max_bytes
        if number == 10:
            assert cache.get("shop", "v0", DAY) is not None and cache.get("shop", "v1", DAY) is None
    assert len(cache) == 10
    assert cache.bytes == 10 * (ENTRY_OVERHEAD + len(blob))


def test_a_state_larger_than_a_quarter_of_the_bound_is_not_kept():
    cache = VisitorCache(4000)
    cache.put("shop", "small", b"s" * 100, 1)
    cache.put("shop", "huge", b"h" * 3000, 1)
    assert cache.get("shop", "huge", DAY) is None and cache.get("shop", "small", DAY) is not None


def test_a_cache_of_zero_bytes_keeps_nothing():
    cache = VisitorCache(0)
    cache.put("shop", "v1", None, 0)
    assert cache.get("shop", "v1", DAY) is None and len(cache) == 0


def test_an_entry_older_than_the_sites_retention_is_forgotten():
    """The store forgets a state after the site's retention: the cache forgets it no later."""
    now = [1000.0]
    cache = VisitorCache(10_000, clock=lambda: now[0])
    cache.put("shop", "v1", b"state", 3)
    now[0] += DAY
    assert cache.get("shop", "v1", DAY) == (b"state", 3)
    now[0] += 1
    assert cache.get("shop", "v1", DAY) is None and len(cache) == 0 and cache.bytes == 0
