"""The event path without HTTP (server/ingest.py), on a real redis-server.

Many batches for one visitor at once, from several processes (here: several Ingest
instances, each with its own connection pool), all end acknowledged and each event is
stored exactly once: a contended visitor converges instead of being refused.
"""

from __future__ import annotations

import asyncio
import collections

import pytest
from redis.asyncio.connection import AbstractConnection

from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.ratelimits import RateLimits
from server.store.redis import RedisStore
from server.store.visitor_cache import VisitorCache
from server.tracking import RequestFacts
from tests.helpers import SECRET, batch, page_view, write_site

pytestmark = pytest.mark.anyio


async def test_hundreds_of_concurrent_batches_for_one_visitor_are_all_stored_once(tmp_path, redis_url):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    visitor_id, token = ids.issue("shop")
    stores = [RedisStore(redis_url) for _ in range(3)]
    processes = [Ingest(store, ids, 1800) for store in stores]

    async def send(number: int):
        event = page_view("/pricing")
        parsed, events = decode_batch(batch(event, visitor=token))
        return event["id"], await processes[number % 3].handle(site, rules, parsed, events, RequestFacts())

    try:
        results = await asyncio.gather(*(send(n) for n in range(300)), return_exceptions=True)
        refused = [r for r in results if isinstance(r, BaseException)]
        assert not refused, f"{len(refused)} of 300 refused, e.g. {refused[0]!r}"
        assert all(reply.acked == [sent] and reply.visitor == token for sent, reply in results)
        state = await processes[0].profile(site, visitor_id)
        assert state.page_views["/pricing"].total == 300
        assert len(state.seen_ids) == 300 and {sent for sent, _ in results} == set(state.seen_ids)
    finally:
        for store in stores:
            await store.close()


class RoundTrips:
    """Round trips to Redis since the last call, by the command each one sent first: every write
    of a request (a command, or a whole pipeline) to a connection of this process counts one."""

    def __init__(self, monkeypatch):
        self.sent: list[str] = []
        original = AbstractConnection.send_packed_command

        async def counted(connection, command, *args, **kwargs):
            packed = command if isinstance(command, bytes | str) else b"".join(command)
            packed = packed.encode() if isinstance(packed, str) else packed
            self.sent.append(packed.split(b"\r\n")[2].decode().lower())
            return await original(connection, command, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)

    def __call__(self) -> dict[str, int]:
        found = dict(collections.Counter(self.sent))
        self.sent.clear()
        return found


def cached_ingest(store: RedisStore, ids: VisitorIds, **options) -> Ingest:
    return Ingest(store, ids, 1800, cache=VisitorCache(2**20), **options)


async def test_a_returning_visitors_page_view_costs_one_round_trip(tmp_path, redis_url, monkeypatch):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    store = RedisStore(redis_url)
    ingest = cached_ingest(store, ids)
    visitor_id, token = ids.issue("shop")
    try:
        await send(ingest, site, rules, token, "/")  # loads the scripts, reads the unknown visitor
        trips = RoundTrips(monkeypatch)
        for path in ("/pricing", "/pricing", "/about"):
            await send(ingest, site, rules, token, path)
            assert trips() == {"evalsha": 1}  # the compare-and-set write, no read
        state = await ingest.profile(site, visitor_id)
        assert state.page_views["/pricing"].total == 2 and state.page_views["/about"].total == 1
    finally:
        await store.close()


async def test_a_new_visitor_costs_one_round_trip_when_new_visitors_are_not_counted(tmp_path, redis_url, monkeypatch):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    store = RedisStore(redis_url)
    ingest = cached_ingest(store, ids)
    try:
        await send(ingest, site, rules, None, "/")  # loads the scripts
        trips = RoundTrips(monkeypatch)
        reply = await send(ingest, site, rules, None, "/", address="192.0.2.1")
        assert trips() == {"evalsha": 1}
        assert (await ingest.profile(site, ids.verify("shop", reply.visitor))).page_views["/"].total == 1
        # Counting new visitors per address needs to know the visitor is new: a read, the count, the write.
        limited = cached_ingest(store, ids, limits=RateLimits(store, new_visitors_per_minute=60))
        await send(limited, site, rules, None, "/", address="192.0.2.1")  # loads the rate limit's script
        trips()
        await send(limited, site, rules, None, "/", address="192.0.2.1")
        assert trips() == {"hmget": 1, "evalsha": 2}
    finally:
        await store.close()


async def test_a_stale_cached_state_costs_one_more_round_trip_and_loses_nothing(tmp_path, redis_url, monkeypatch):
    """Process A caches the visitor; process B writes it meanwhile; A's next batch is written on
    its stale version, refused with B's state in the same answer, and applied again on it."""
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    stores = [RedisStore(redis_url), RedisStore(redis_url)]
    a, b = cached_ingest(stores[0], ids), cached_ingest(stores[1], ids)
    visitor_id, token = ids.issue("shop")
    try:
        await send(a, site, rules, token, "/")
        await send(b, site, rules, token, "/pricing")  # B reads (it has no entry) and writes
        trips = RoundTrips(monkeypatch)
        await send(a, site, rules, token, "/about")
        assert trips() == {"evalsha": 2}  # refused on the stale version, then stored: no read
        await send(a, site, rules, token, "/about")
        assert trips() == {"evalsha": 1}  # the cache holds the state again
        state = await a.profile(site, visitor_id)
        assert {path: views.total for path, views in state.page_views.items()} == {"/": 1, "/pricing": 1, "/about": 2}
        assert len(state.seen_ids) == 4
    finally:
        for store in stores:
            await store.close()


async def test_hundreds_of_concurrent_batches_through_caching_processes_are_all_stored_once(tmp_path, redis_url):
    """As above, with every process keeping its cache: each one's entries go stale as the others write."""
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    ids = VisitorIds(SECRET)
    visitor_id, token = ids.issue("shop")
    stores = [RedisStore(redis_url) for _ in range(3)]
    processes = [cached_ingest(store, ids) for store in stores]
    sent = []

    async def one(number: int):
        event = page_view("/pricing")
        sent.append(event["id"])
        parsed, events = decode_batch(batch(event, visitor=token))
        return await processes[number % 3].handle(site, rules, parsed, events, RequestFacts())

    try:
        for _ in range(2):  # the second wave starts with every cache filled, and stale
            results = await asyncio.gather(*(one(n) for n in range(150)), return_exceptions=True)
            refused = [r for r in results if isinstance(r, BaseException)]
            assert not refused, f"{len(refused)} of 150 refused, e.g. {refused[0]!r}"
        state = await processes[0].profile(site, visitor_id)
        assert state.page_views["/pricing"].total == 300 and set(state.seen_ids) == set(sent)
    finally:
        for store in stores:
            await store.close()


async def send(ingest: Ingest, site, rules, token: str | None, path: str, address: str = ""):
    parsed, events = decode_batch(batch(page_view(path), visitor=token))
    return await ingest.handle(site, rules, parsed, events, RequestFacts(address=address))
