"""The chat part of the store contract, on both stores: MemoryStore and RedisStore on a real redis-server and on a real Redis Cluster.

A visitor's feed hands out ids that increase strictly and reads back after any id, oldest first,
exclusive of that id; a client id seen before adds nothing and returns the first entry's id;
feeds, chat records and conversation indexes of different visitors and sites never mix; the
index lists conversations newest activity first; a conversation's record is written only if
its stored version (its JSON "version", 0 when none) is the one the writer read, so writers at
once all land by retrying; every chat key has a TTL (Redis) and expires
(memory); a publish by one store reaches a subscriber of another store on the same Redis.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from server.store import keys
from server.store.memory import MemoryStore, entry_key
from server.store.redis import RedisStore
from tests.conftest import redis_client, store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis", "cluster"])
def kind(request):
    return request.param


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def store(kind, clock, request):
    store = MemoryStore(clock=clock) if kind == "memory" else RedisStore(store_url(kind, request))
    yield store
    await store.close()


async def test_feed_ids_increase_strictly_and_read_back_in_order(store):
    ids = [(await store.add_feed("demo", "v1", "message", f"m{n}".encode(), ttl=3600))[0] for n in range(5)]
    assert [entry_key(i) for i in ids] == sorted(entry_key(i) for i in ids)
    assert len(set(ids)) == 5
    entries = await store.read_feed("demo", "v1")
    assert entries == [(i, "message", f"m{n}".encode()) for n, i in enumerate(ids)]


async def test_reading_after_an_id_excludes_it_and_respects_count(store):
    ids = [(await store.add_feed("demo", "v1", "status", f"s{n}".encode(), ttl=3600))[0] for n in range(4)]
    assert [e[0] for e in await store.read_feed("demo", "v1", after=ids[1])] == ids[2:]
    assert [e[0] for e in await store.read_feed("demo", "v1", after=ids[0], count=2)] == ids[1:3]
    assert await store.read_feed("demo", "v1", after=ids[-1]) == []


async def test_a_client_id_seen_before_adds_nothing_and_returns_the_first_entry(store):
    first, added = await store.add_feed("demo", "v1", "message", b"hello", ttl=3600, client_id="client-0001")
    assert added
    again, added_again = await store.add_feed("demo", "v1", "message", b"hello", ttl=3600, client_id="client-0001")
    assert (again, added_again) == (first, False)
    other, added_other = await store.add_feed("demo", "v1", "message", b"hello", ttl=3600, client_id="client-0002")
    assert added_other and other != first
    assert [e[0] for e in await store.read_feed("demo", "v1")] == [first, other]


async def test_feeds_of_visitors_and_sites_do_not_mix(store):
    await store.add_feed("demo", "v1", "message", b"a", ttl=3600, client_id="same-client-id")
    _, added = await store.add_feed("demo", "v2", "message", b"b", ttl=3600, client_id="same-client-id")
    assert added
    await store.add_feed("other", "v1", "message", b"c", ttl=3600)
    assert [e[2] for e in await store.read_feed("demo", "v1")] == [b"a"]
    assert [e[2] for e in await store.read_feed("demo", "v2")] == [b"b"]
    assert [e[2] for e in await store.read_feed("other", "v1")] == [b"c"]


async def test_chat_record_merges_fields(store):
    assert await store.get_chat("demo", "v1") == {}
    await store.set_chat("demo", "v1", {"current": "v1.1", "n": "1"}, ttl=3600)
    await store.set_chat("demo", "v1", {"current": "v1.2"}, ttl=3600)
    assert await store.get_chat("demo", "v1") == {"current": "v1.2", "n": "1"}
    assert await store.get_chat("demo", "v2") == {}


def record(version: int, text: str = "") -> bytes:
    """A conversation record as the chat writes one: a JSON object with its "version"."""
    return json.dumps({"version": version, "text": text}).encode()


async def test_conversations_index_lists_newest_activity_first(store):
    assert await store.save_conversation("demo", "a.1", record(1, "A"), activity=100, ttl=3600, version=0)
    assert await store.save_conversation("demo", "b.1", record(1, "B"), activity=200, ttl=3600, version=0)
    assert await store.save_conversation("demo", "a.1", record(2, "A2"), activity=300, ttl=3600, version=1)
    assert await store.save_conversation("other", "c.1", record(1, "C"), activity=400, ttl=3600, version=0)
    assert await store.recent_conversations("demo") == ["a.1", "b.1"]
    assert await store.recent_conversations("demo", limit=1) == ["a.1"]
    loaded = await store.load_conversations("demo", ["b.1", "nope.1", "a.1"])
    assert loaded == [record(1, "B"), None, record(2, "A2")]
    assert await store.load_conversations("demo", []) == []


async def test_a_conversation_record_is_written_only_if_its_version_is_unchanged(store):
    assert await store.save_conversation("demo", "a.1", record(1, "first"), activity=100, ttl=3600, version=0)
    # A second writer that also read "no record yet", and one that read version 1 after a third wrote 2:
    assert not await store.save_conversation("demo", "a.1", record(1, "lost"), activity=500, ttl=3600, version=0)
    assert await store.save_conversation("demo", "a.1", record(2, "second"), activity=200, ttl=3600, version=1)
    assert not await store.save_conversation("demo", "a.1", record(2, "stale"), activity=600, ttl=3600, version=1)
    assert await store.load_conversations("demo", ["a.1"]) == [record(2, "second")]
    # The refused writes did not move it in the index either.
    assert await store.save_conversation("demo", "b.1", record(1), activity=300, ttl=3600, version=0)
    assert await store.recent_conversations("demo") == ["b.1", "a.1"]
    # Versions are per conversation and per site.
    assert await store.save_conversation("other", "a.1", record(1), activity=100, ttl=3600, version=0)


@pytest.mark.parametrize("stored", [b'{"id": "a.1"}', b"not json", b'["version", 7]', b'{"version": null}'])
async def test_a_record_without_a_version_counts_as_version_0(store, stored):
    """Written before records had versions (or by an incompatible version): its next write expects 0."""
    assert await store.save_conversation("demo", "a.1", stored, activity=100, ttl=3600, version=0)
    assert not await store.save_conversation("demo", "a.1", record(2), activity=200, ttl=3600, version=1)
    assert await store.save_conversation("demo", "a.1", record(1), activity=200, ttl=3600, version=0)
    assert await store.load_conversations("demo", ["a.1"]) == [record(1)]


async def test_writers_of_one_conversation_at_once_all_land_by_retrying(store):
    """Each writer loads, adds itself and saves, again on conflict: none is lost."""
    assert await store.save_conversation(
        "demo", "a.1", json.dumps({"version": 1, "by": []}).encode(), 1, 3600, version=0
    )

    async def add(writer: str) -> None:
        while True:
            [found] = await store.load_conversations("demo", ["a.1"])
            current = json.loads(found)
            await asyncio.sleep(0)  # let the others read the same version
            changed = {"version": current["version"] + 1, "by": [*current["by"], writer]}
            if await store.save_conversation(
                "demo", "a.1", json.dumps(changed).encode(), 2, 3600, version=current["version"]
            ):
                return

    await asyncio.gather(*(add(f"w{n}") for n in range(12)))
    [found] = await store.load_conversations("demo", ["a.1"])
    assert sorted(json.loads(found)["by"]) == sorted(f"w{n}" for n in range(12))
    assert json.loads(found)["version"] == 13


async def test_chat_keys_expire_after_the_ttl(kind, store, clock, request):
    await store.add_feed("demo", "v1", "message", b"x", ttl=100, client_id="client-0001")
    await store.set_chat("demo", "v1", {"current": "v1.1"}, ttl=100)
    assert await store.save_conversation("demo", "v1.1", record(1), activity=1, ttl=100, version=0)
    if kind != "memory":
        client = redis_client(store_url(kind, request))
        for key in (
            keys.feed("demo", "v1"),
            keys.chat_ids("demo", "v1"),
            keys.chat("demo", "v1"),
            keys.conversations("demo"),
            keys.conversation_activity("demo"),
        ):
            assert 0 < client.ttl(key) <= 100, key
        client.close()
        return
    clock.now += 101
    assert await store.read_feed("demo", "v1") == []
    assert await store.get_chat("demo", "v1") == {}
    assert await store.load_conversations("demo", ["v1.1"]) == [None]
    _, added = await store.add_feed("demo", "v1", "message", b"x", ttl=100, client_id="client-0001")
    assert added


async def test_the_feed_keeps_about_its_cap(kind, store):
    for n in range(keys.FEED_LENGTH + 300):
        await store.add_feed("demo", "v1", "message", b"%d" % n, ttl=3600)
    entries = await store.read_feed("demo", "v1", count=5000)
    assert keys.FEED_LENGTH <= len(entries) < keys.FEED_LENGTH + 300
    assert entries[-1][2] == b"%d" % (keys.FEED_LENGTH + 299)


async def _first_delivery(subscriber, publisher):
    """Publish until the subscriber has seen it: a subscription starts some time after subscribe()."""
    stream = subscriber.subscribe()
    receive = asyncio.ensure_future(anext(stream))
    try:
        while not receive.done():
            await publisher.publish("demo", "v1", "typing\toperator\tAya")
            await asyncio.wait([receive], timeout=0.05)
        return receive.result()
    finally:
        await stream.aclose()


async def test_a_publish_reaches_a_subscriber(store):
    assert await asyncio.wait_for(_first_delivery(store, store), 10) == ("demo", "v1", "typing\toperator\tAya")


async def test_a_subscriber_is_told_when_its_subscription_is_in_place_and_then_hears_every_publish(store):
    """The wake-ups read every feed again when told (server/chat/wakeups.py): a publish from then
    on is heard, one before it may not be."""
    told = asyncio.Event()
    stream = store.subscribe(told.set)
    receive = asyncio.ensure_future(anext(stream))
    try:
        await asyncio.wait_for(told.wait(), 10)
        await store.publish("demo", "v1", "typing\toperator\tAya")
        assert await asyncio.wait_for(receive, 10) == ("demo", "v1", "typing\toperator\tAya")
    finally:
        receive.cancel()
        await stream.aclose()


async def test_a_publish_reaches_a_subscriber_of_another_process(any_redis_url):
    one, two = RedisStore(any_redis_url), RedisStore(any_redis_url)
    try:
        assert await asyncio.wait_for(_first_delivery(two, one), 10) == ("demo", "v1", "typing\toperator\tAya")
        await one.publish("demo", "v2")
    finally:
        await one.close()
        await two.close()
