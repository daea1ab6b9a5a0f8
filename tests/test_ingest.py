"""The event path without HTTP (server/ingest.py), on a real redis-server.

Many batches for one visitor at once, from several processes (here: several Ingest
instances, each with its own connection pool), all end acknowledged and each event is
stored exactly once: a contended visitor converges instead of being refused.
"""

from __future__ import annotations

import asyncio

import pytest

from server.config import load_config
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.store.redis import RedisStore
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
