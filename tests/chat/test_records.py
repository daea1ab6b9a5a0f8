"""Changes to a conversation's record by two writers at once, on MemoryStore and on RedisStore
(a real redis-server and a real Redis Cluster), as two server processes share one store.

Contract: every change to the record is a compare-and-set on its version, so when one writer
read the record and another writes it before the first saves, both changes land: a LINE display
name and a visitor message's unread count; an operator's reply and a display name. An
assignment decided on what the record was does not undo an operator who took the conversation
meanwhile. The writer held between its read and its write is a real ChatService whose store
waits, on its first save, until the other writer is done (a slow process, every time).
"""

from __future__ import annotations

import asyncio

import pytest

from server.chat.service import ChatService
from server.console.assignment import RoundRobin
from server.console.presence import Presence
from server.sites import Console, Site
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.chat.test_service import MONDAY_10, TOKYO
from tests.conftest import store_url
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio
SITE = Site(key="shop", name="Shop", origins=frozenset(), timezone=TOKYO, console=Console(capacity=5))


class HeldStore:
    """A store whose first save of a conversation waits for `release`, after setting `saving`."""

    def __init__(self, store):
        self._store = store
        self.saving = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def save_conversation(self, *args, **kwargs):
        if not self.saving.is_set():
            self.saving.set()
            await self.release.wait()
        return await self._store.save_conversation(*args, **kwargs)


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request):
    clock = Clock(MONDAY_10)
    store = MemoryStore(clock=clock) if request.param == "memory" else RedisStore(store_url(request.param, request))
    store.clock = clock
    yield store
    await store.close()


async def while_held(held: HeldStore, first, second) -> None:
    """Run `first` until it is about to save, then all of `second`, then let `first` save."""
    task = asyncio.create_task(first)
    await held.saving.wait()
    await second
    held.release.set()
    await task


async def test_a_display_name_and_a_visitor_message_at_once_both_land(store):
    held = HeldStore(store)
    one, two = ChatService(held, store.clock), ChatService(store, store.clock)
    conversation = await two.open(SITE, "v1", channel="line")
    await while_held(
        held,
        one.name_visitor(SITE, conversation.id, "山田 花子"),
        two.say(SITE, "v1", "client-0001", "在庫はありますか？", channel="line"),
    )
    stored = await two.conversation(SITE, conversation.id)
    assert (stored.name, stored.unread_by_operator) == ("山田 花子", 1)


async def test_an_operators_reply_and_a_display_name_at_once_both_land(store):
    held = HeldStore(store)
    one, two = ChatService(held, store.clock), ChatService(store, store.clock)
    await two.say(SITE, "v1", "client-0001", "在庫はありますか？", channel="line")
    await while_held(
        held,
        one.operator_say(SITE, "v1.1", "ございます", name="Aya"),
        two.name_visitor(SITE, "v1.1", "山田 花子"),
    )
    stored = await two.conversation(SITE, "v1.1")
    assert (stored.status, stored.assignee, stored.unread_by_operator, stored.name) == ("open", "Aya", 0, "山田 花子")
    assert [m.text for m in await two.messages(SITE, stored)][-1] == "ございます"


async def test_an_assignment_decided_before_an_operator_took_the_conversation_does_not_undo_it(store):
    held = HeldStore(store)
    presence = Presence(held, store.clock)
    one = ChatService(held, store.clock, presence=presence, assigner=RoundRobin())
    two = ChatService(store, store.clock)
    await presence.touch("shop", "a@example.com", away=True)  # the site uses the console: nobody online
    queued = await two.open(SITE, "v1")
    await two.set_status(SITE, queued.id, "waiting")
    await presence.touch("shop", "a@example.com")
    await while_held(held, one.rebalance(SITE), two.operator_say(SITE, queued.id, "Hello", name="Aya"))
    stored = await two.conversation(SITE, queued.id)
    assert (stored.status, stored.assignee) == ("open", "Aya")
