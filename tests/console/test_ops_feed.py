"""The operators' feed (ChatService): every change on a site lands in it, in order — a new
conversation, a message, a status change, a read, an assignment — each naming the visitor and
their feed entry; every change wakes the operators' readers, and typing reaches them too."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from server.chat.feed import OPERATORS
from server.chat.service import ChatService
from server.console.assignment import RoundRobin
from server.console.presence import Presence
from server.store.memory import MemoryStore
from tests.chat.test_service import MONDAY_10, site
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


async def ops(store):
    return [(kind, msgspec.json.decode(data)) for _, kind, data in await store.read_ops("shop")]


async def test_each_change_lands_in_the_operators_feed():
    clock = Clock(MONDAY_10)
    store = MemoryStore(clock=clock)
    presence = Presence(store, clock)
    chat = ChatService(store, clock, presence=presence, assigner=RoundRobin())
    await presence.touch("shop", "a@example.com")
    message, conversation = await chat.say(site(), "v1", "client-0001", "hello")
    kinds = [kind for kind, _ in await ops(store)]
    assert kinds[:3] == ["status", "conversation", "conversation"]  # new, then assigned
    assert "assigned" in kinds and "message" in kinds
    [assigned] = [data for kind, data in await ops(store) if kind == "assigned"]
    assert assigned == {"conversation": conversation.id, "assignee": "a@example.com"}
    [said] = [data for kind, data in await ops(store) if kind == "message"][:1]
    assert said["visitor"] == "v1" and said["entry"] == message.id and said["text"] == "hello"
    before = len(await ops(store))
    await chat.operator_say(site(), conversation.id, "hi", "A")
    await chat.set_status(site(), conversation.id, "resolved")
    after = [kind for kind, _ in (await ops(store))[before:]]
    assert "message" in after and after.count("status") == 2  # open, then resolved


async def test_changes_and_typing_wake_the_operators():
    store = MemoryStore(clock=Clock(MONDAY_10))
    chat = ChatService(store, Clock(MONDAY_10))
    heard = []

    async def listen():
        async for _site, visitor, payload in store.subscribe():
            if visitor == OPERATORS:
                heard.append(payload)

    task = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await chat.open(site(), "v1")
    await chat.typing(site(), "v1", "visitor")
    await asyncio.sleep(0)
    task.cancel()
    assert "" in heard and "typing\tvisitor\t\tv1" in heard
