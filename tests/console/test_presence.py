"""server.console.presence on a fixed clock: an operator is online for 45 s after a touch,
not while away or after leaving; a site whose operators never signed in answers None (business
hours decide), one whose operators are all away or gone answers [] (nobody online)."""

from __future__ import annotations

import pytest

from server.console.presence import ONLINE_FOR, Presence
from server.store.memory import MemoryStore
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio


async def test_online_for_a_while_after_a_touch_and_not_while_away_or_gone():
    clock = Clock(1000.0)
    presence = Presence(MemoryStore(clock=clock), clock)
    assert await presence.answering("shop") is None
    await presence.touch("shop", "b@example.com")
    await presence.touch("shop", "a@example.com")
    assert await presence.online("shop") == ["a@example.com", "b@example.com"]
    await presence.touch("shop", "a@example.com", away=True)
    await presence.leave("shop", "b@example.com")
    assert await presence.online("shop") == []
    assert await presence.answering("shop") == []  # the site uses the console: nobody is online
    await presence.touch("shop", "a@example.com")
    clock.now += ONLINE_FOR + 1  # the console closed without a word
    assert await presence.online("shop") == []
    assert await presence.answering("other") is None
