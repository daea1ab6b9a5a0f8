"""server.console.visitors through the event path (Ingest) on a fixed clock, on the real Redis:
a visitor's batch makes them live with their latest page, time on site, device, cart value
(attribute `cart_value`) and whether they return; one write per visitor per 30 s per process;
a visitor silent for 5 minutes is no longer live; the list is newest first."""

from __future__ import annotations

import timeit

import pytest

from server.config import load_config
from server.console.visitors import LIVE_FOR, WRITE_EVERY, LiveVisitors
from server.events import decode_batch
from server.identity import VisitorIds
from server.ingest import Ingest
from server.store.redis import RedisStore
from server.tracking import RequestFacts
from tests.helpers import SECRET, batch, page_view, set_attributes, write_site
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


class CountingStore(RedisStore):
    writes = 0

    async def touch_live(self, site, seen):
        CountingStore.writes += 1
        await super().touch_live(site, seen)


async def test_the_event_path_makes_visitors_live_with_what_an_operator_wants_to_see(tmp_path, redis_url):
    write_site(tmp_path)
    config, _ = load_config(tmp_path)
    site, rules = config.sites["shop"], config.rules["shop"]
    clock = Clock(1_800_000_000.0)
    store = CountingStore(redis_url)
    ids = VisitorIds(SECRET)
    live = LiveVisitors(store, clock)
    ingest = Ingest(store, ids, 1800, clock, live=live)
    first, first_token = ids.issue("shop")
    second, second_token = ids.issue("shop")

    async def send(token, *events):
        parsed, decoded = decode_batch(batch(*events, visitor=token))
        await ingest.handle(site, rules, parsed, decoded, RequestFacts())

    try:
        await send(first_token, page_view("/", ts=clock.now), set_attributes({"cart_value": 4800}, ts=clock.now))
        clock.now += 10
        await send(first_token, page_view("/cart", ts=clock.now))
        assert CountingStore.writes == 1  # the second batch within 30 s wrote nothing
        clock.now += 5
        await send(second_token, page_view("/shoes", ts=clock.now))
        found = await live.live("shop")
        assert [v.visitor for v in found] == [second, first]
        assert (found[1].page, found[1].cart_value, found[1].returning) == ("/cart", 4800, False)
        assert found[1].time_on_site == 15 and found[1].name == ""
        clock.now += WRITE_EVERY
        await send(first_token, page_view("/checkout", ts=clock.now))
        assert CountingStore.writes == 3
        clock.now += LIVE_FOR - 1
        assert [v.visitor for v in await live.live("shop")] == [first]  # the second is gone quiet
    finally:
        await store.close()


def test_the_hot_path_check_costs_little():
    """Not a timing assertion: prints the cost of the per-batch cache check for the report."""
    live = LiveVisitors(store=None, clock=lambda: 0.0)  # type: ignore[arg-type]
    live._written[("shop", "v1")] = 0.0
    number = 200_000
    seconds = timeit.timeit(lambda: live.due("shop", "v1", 1.0), number=number)
    print(f"LiveVisitors.due: {seconds / number * 1e9:.0f} ns per batch")
