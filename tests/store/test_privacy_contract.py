"""The privacy part of the store contract (docs/privacy.md), on MemoryStore, Redis and a Redis Cluster.

A verified customer's visitors are indexed and read back; a visitor's conversations are found by
their id; forgetting a visitor deletes their state, feed, chat record, conversations, operators'
feed entries, live presence and rate-limit counters, and their coupon assignments, while a
unique code they had stays given out (never handed out or redeemed again) with no owner. Other
visitors keep everything.
"""

from __future__ import annotations

import json

import pytest

from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import store_url

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request):
    kind = request.param
    store = MemoryStore() if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def _visitor_with_everything(store, visitor: str) -> None:
    await store.save_visitor("demo", visitor, b"state", 0, ttl=3600)
    await store.add_feed("demo", visitor, "message", b'{"text": "hi"}', ttl=3600, client_id="c1")
    await store.set_chat("demo", visitor, {"current": f"{visitor}.1", "n": "1"}, ttl=3600)
    record = json.dumps({"id": f"{visitor}.1", "visitor": visitor, "version": 1}).encode()
    await store.save_conversation("demo", f"{visitor}.1", record, 100.0, ttl=3600, version=0)
    await store.add_ops("demo", "message", json.dumps({"conversation": f"{visitor}.1"}).encode())
    await store.touch_live("demo", {visitor: 100.0})
    await store.hit("demo", f"chat:{visitor}", (60,))
    await store.assign_code("demo", "welcome", visitor, "generated", f"CODE-{visitor}", 0)
    await store.assign_code("demo", "shared", visitor, "shared", "SPRING", 0)


async def test_a_customers_visitors_are_indexed_and_the_index_can_be_dropped(store):
    await store.link_customer("demo", "C-1", "v2", ttl=3600)
    await store.link_customer("demo", "C-1", "v1", ttl=3600)
    await store.link_customer("demo", "C-1", "v1", ttl=3600)
    await store.link_customer("other", "C-1", "v9", ttl=3600)
    assert await store.customer_visitors("demo", "C-1") == ["v1", "v2"]
    assert await store.customer_visitors("demo", "C-2") == []
    await store.unlink_customer("demo", "C-1", "v2")
    assert await store.customer_visitors("demo", "C-1") == ["v1"]
    await store.forget_customer("demo", "C-1")
    assert await store.customer_visitors("demo", "C-1") == []
    assert await store.customer_visitors("other", "C-1") == ["v9"]


async def test_a_visitors_conversations_are_found_by_their_id_only(store):
    for conversation in ("v1.1", "v1.2", "v10.1", "v2.1"):
        await store.save_conversation("demo", conversation, b"{}", 1.0, ttl=3600, version=0)
    assert await store.visitor_conversations("demo", "v1") == ["v1.1", "v1.2"]
    assert await store.visitor_conversations("demo", "v*") == []  # not a pattern


async def test_forgetting_a_visitor_deletes_their_data_and_keeps_others(store):
    await _visitor_with_everything(store, "v1")
    await _visitor_with_everything(store, "v2")
    await store.forget_visitor("demo", "v1", ["welcome", "shared"], {"chat:v1": (60,)})

    assert await store.load_visitor("demo", "v1") == (None, 0)
    assert await store.read_feed("demo", "v1") == []
    assert await store.get_chat("demo", "v1") == {}
    assert await store.visitor_conversations("demo", "v1") == []
    assert await store.load_conversations("demo", ["v1.1"]) == [None]
    assert await store.recent_conversations("demo") == ["v2.1"]
    assert [b"v1" in data for _, _, data in await store.read_ops("demo")] == [False]
    assert [visitor for visitor, _ in await store.read_live("demo", 0, 10)] == ["v2"]
    assert await store.hit("demo", "chat:v1", (60,)) == [(1, 60)]  # counting starts again
    assert await store.visitor_code("demo", "welcome", "v1") is None
    assert await store.visitor_code("demo", "shared", "v1") is None
    # The code stays given out, with no owner: never handed out or redeemed twice.
    assert await store.code_owner("demo", "welcome", "CODE-v1") is None
    assert await store.assign_code("demo", "welcome", "v3", "generated", "CODE-v1", 0) == ("taken", False)
    assert await store.redeem_code("demo", "welcome", "CODE-v1", 100) == "ok"
    assert await store.redeem_code("demo", "welcome", "CODE-v1", 101) == "redeemed"

    blob, version = await store.load_visitor("demo", "v2")
    assert (blob, version > 0) == (b"state", True)  # the other visitor's state, as stored
    assert len(await store.read_feed("demo", "v2")) == 1
    assert await store.visitor_code("demo", "welcome", "v2") == ("CODE-v2|0", 0)
    assert await store.code_owner("demo", "welcome", "CODE-v2") == "v2"


async def test_forgetting_twice_or_an_unknown_visitor_is_harmless(store):
    await store.forget_visitor("demo", "nobody", ["welcome"], {})
    await _visitor_with_everything(store, "v1")
    await store.forget_visitor("demo", "v1", ["welcome"], {})
    await store.forget_visitor("demo", "v1", ["welcome"], {})
    assert await store.load_visitor("demo", "v1") == (None, 0)


async def test_a_redeemed_code_stays_redeemed_after_its_visitor_is_forgotten(store):
    await store.assign_code("demo", "welcome", "v1", "generated", "ABC", 0)
    assert await store.redeem_code("demo", "welcome", "ABC", 100) == "ok"
    await store.forget_visitor("demo", "v1", ["welcome"], {})
    assert await store.redeem_code("demo", "welcome", "ABC", 200) == "redeemed"
