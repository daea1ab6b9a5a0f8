"""A stream's listener (server/chat/wakeups.py): its wait returns the wake-ups put since the
last one (a feed-grew wake-up once however often it came, ephemeral payloads each, at most
BACKLOG), returns () once its timeout passed (timed by the process's one clock) or once it is
closed, and every later wait of a closed listener returns at once; leaving the listen block
removes the listener."""

from __future__ import annotations

import asyncio

from server.chat import wakeups as wakeups_module
from server.chat.wakeups import BACKLOG, Listener, Wakeups
from server.store.memory import MemoryStore


def run(coroutine):
    return asyncio.run(coroutine)


def test_wakeups_put_before_a_wait_are_returned_by_it_once():
    async def scenario():
        listener = Listener()
        for payload in ("", "typing\toperator\tAya", "", "typing\toperator\t"):
            listener.put(payload)
        return await listener.wait(10), await listener.wait(0)

    assert run(scenario()) == (("", "typing\toperator\tAya", "typing\toperator\t"), ())


def test_a_slow_listener_holds_at_most_backlog_wakeups():
    listener = Listener()
    for n in range(BACKLOG * 2):
        listener.put(f"typing\toperator\t{n}")
    assert len(run(listener.wait(1))) == BACKLOG


def test_a_put_wakes_a_waiting_listener():
    async def scenario():
        listener = Listener()
        waiting = asyncio.ensure_future(listener.wait(60))
        await asyncio.sleep(0)
        listener.put("")
        return await waiting

    assert run(scenario()) == ("",)


def test_closing_ends_the_wait_and_every_later_one():
    async def scenario():
        listener = Listener()
        waiting = asyncio.ensure_future(listener.wait(60))
        await asyncio.sleep(0)
        listener.close()
        return await waiting, await listener.wait(60), listener.closed

    assert run(scenario()) == ((), (), True)


def test_a_wait_times_out_on_the_process_clock(monkeypatch):
    monkeypatch.setattr(wakeups_module, "TICK", 0.01)

    async def scenario():
        wakeups = Wakeups(MemoryStore())
        try:
            with wakeups.listen("shop", "v1") as listener:
                assert wakeups.listening() == 1
                # Woken once the subscription is in place (a publish before it was missed).
                assert await asyncio.wait_for(listener.wait(5), 5) == ("",)
                return await asyncio.wait_for(listener.wait(0.02), 5)
        finally:
            assert wakeups.listening() == 0
            await wakeups.close()

    assert run(scenario()) == ()
