"""server.console.assignment with ChatService on a fixed clock: round-robin among online
operators with room (site `console.capacity`), else the queue; a conversation whose operator
stays silent past `console.reassign_after` is offered to another; presence decides bot or
person where the console is used, business hours where it never was."""

from __future__ import annotations

import pytest

from server.chat.service import REBALANCE_EVERY, ChatService
from server.console.assignment import RoundRobin
from server.console.presence import Presence
from server.sites import Console, Site
from server.store.memory import MemoryStore
from tests.chat.test_service import MONDAY_10, SATURDAY_10, TOKYO, WEEKDAYS_9_TO_18
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio
SITE = Site(
    key="shop",
    name="Shop",
    origins=frozenset(),
    timezone=TOKYO,
    business_hours=WEEKDAYS_9_TO_18,
    console=Console(capacity=1, reassign_after=300),
)


def service(now: float):
    clock = Clock(now)
    store = MemoryStore(clock=clock)
    presence = Presence(store, clock)
    return ChatService(store, clock, presence=presence, assigner=RoundRobin()), presence, clock


async def test_two_operators_of_capacity_one_take_one_each_and_the_third_waits():
    chat, presence, clock = service(MONDAY_10)
    await presence.touch("shop", "a@example.com")
    await presence.touch("shop", "b@example.com")
    first = await chat.open(SITE, "v1")
    clock.now += 1
    second = await chat.open(SITE, "v2")
    third = await chat.open(SITE, "v3")
    assignees = {c.id: c.assignee for c in await chat.conversations(SITE)}
    assert {assignees[first.id], assignees[second.id]} == {"a@example.com", "b@example.com"}
    assert assignees[third.id] == ""
    assert (await chat.conversation(SITE, third.id)).status == "waiting"


async def test_a_silent_operators_conversation_goes_to_another_once_overdue():
    chat, presence, clock = service(MONDAY_10)
    await presence.touch("shop", "a@example.com")
    conversation = await chat.open(SITE, "v1")
    assert (await chat.conversation(SITE, conversation.id)).assignee == "a@example.com"
    clock.now += 30
    await presence.touch("shop", "a@example.com")
    await presence.touch("shop", "b@example.com")
    await chat.rebalance(SITE)
    assert (await chat.conversation(SITE, conversation.id)).assignee == "a@example.com"  # not overdue yet
    clock.now += 290
    await presence.touch("shop", "a@example.com")
    await presence.touch("shop", "b@example.com")
    await chat.rebalance(SITE)
    assert (await chat.conversation(SITE, conversation.id)).assignee == "b@example.com"


async def test_the_queue_goes_to_an_operator_who_comes_online():
    chat, presence, clock = service(MONDAY_10)
    await presence.touch("shop", "a@example.com", away=True)  # the site uses the console
    queued = await chat.open(SITE, "v1")
    assert queued.status == "bot"  # nobody online: the bot answers, in hours too
    await chat.handoff(SITE, queued)
    assert (await chat.conversation(SITE, queued.id)).assignee == ""
    clock.now += REBALANCE_EVERY
    await presence.touch("shop", "a@example.com")
    await chat.rebalance(SITE)
    assert (await chat.conversation(SITE, queued.id)).assignee == "a@example.com"


async def test_presence_decides_where_the_console_is_used_and_hours_where_it_never_was():
    chat, presence, _ = service(SATURDAY_10)
    assert (await chat.open(SITE, "v1")).status == "bot"  # never signed in: closed hours, the bot
    await presence.touch("shop", "a@example.com")
    assert (await chat.open(SITE, "v2")).status == "waiting"  # an operator online on Saturday
    chat, presence, _ = service(MONDAY_10)
    assert (await chat.open(SITE, "v1")).status == "waiting"  # never signed in: in hours, a person
