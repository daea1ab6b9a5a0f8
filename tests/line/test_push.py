"""Replies pushed to LINE (server/line/push.py), against the local LINE stand-in, on both stores.

Contract: an operator's reply is queued in the store and pushed by the LINE push queue's worker
(LinePush.run, as every server process runs it). Every try of one message carries the same
X-Line-Retry-Key, so a message LINE accepted but answered with a 5xx is not sent twice (the
retry's 409 counts as delivered); a try without an answer or with a 5xx is repeated up to
ATTEMPTS times; an answer LINE refuses (a 4xx) is not repeated; a message not delivered gets a
system note in its conversation, which the operator sees. One user's replies reach LINE in the
order they were written, even when the first needs retries. A push that waited longer than its
retry key lasts at LINE (24 h) is noted, not sent.
"""

from __future__ import annotations

import asyncio
import time
import zoneinfo

import pytest

from server.chat.service import ChatService
from server.line import users
from server.line.api import LineApi
from server.line.push import ATTEMPTS, KEY_LIFETIME, LinePush, retry_key
from server.sites import Site
from server.store.memory import MemoryStore
from server.store.redis import RedisStore
from tests.conftest import free_port
from tests.line.helpers import ACCESS_TOKEN, stand_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def line():
    with stand_in() as (standin, url):
        yield standin, url


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    store = MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    yield store
    await store.close()


SITE = Site(key="shop", name="shop", origins=frozenset(), timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))


class Setup:
    """A chat service whose LINE replies go through a LinePush worker running in this event loop."""

    def __init__(self, store, api: str, token: str = ACCESS_TOKEN):
        self.store = store
        self.chat = ChatService(store)
        self.later = 0.0  # seconds the push worker's clock is ahead
        self.push = LinePush(
            LineApi(api, timeout=2),
            store,
            {SITE.key: token},
            self.chat.note,
            lambda: {SITE.key: SITE},
            clock=lambda: time.time() + self.later,
            pauses=(0.0,),
        )
        self.chat.outbound["line"] = self.push

    async def __aenter__(self):
        self.push.start()
        return self

    async def __aexit__(self, *exc):
        await self.push.close()
        self.push.api.close()

    async def conversation(self, user: str):
        visitor = users.visitor_of(SITE.key, user)
        await users.write(self.store, SITE.key, visitor, SITE.retention, user_id=user, follows="1")
        _, conversation = await self.chat.say(SITE, visitor, "01HZZZZZZZZZZZZZZZZZZZZZZZ", "hello", channel="line")
        return conversation

    async def settled(self, count: int = 1) -> list:
        """The newest `count` pushes once none of them is pending (waits for the worker)."""
        deadline = time.monotonic() + 20
        while True:
            found = await self.store.line_pushes.recent(SITE.key, count)
            if len(found) == count and all(d.status != "pending" for d in found):
                return found
            assert time.monotonic() < deadline, f"pushes still pending: {found}"
            await asyncio.sleep(0.02)

    async def notes(self, conversation) -> list[str]:
        return [m.text for m in await self.chat.messages(SITE, conversation) if m.author == "system"]


async def test_a_push_accepted_but_answered_5xx_is_retried_with_the_same_key_and_sent_once(line, store):
    standin, url = line
    async with Setup(store, url) as setup:
        user = standin.add_user("Ken")
        conversation = await setup.conversation(user)
        standin.fail_pushes.append((500, True))  # LINE takes it, but the answer says it failed
        message = await setup.chat.operator_say(SITE, conversation.id, "こんにちは", "Aya")
        [push] = await setup.settled()
        assert push.status == "delivered"
        assert [p["messages"][0]["text"] for p in standin.pushes] == ["こんにちは"]
        assert standin.pushes[0]["retry_key"] == retry_key("shop", conversation.id, message.id)
        assert [status for _, status, _ in standin.refused] == [409]
        assert await setup.notes(conversation) == []


async def test_5xx_answers_are_retried_until_one_is_accepted(line, store):
    standin, url = line
    async with Setup(store, url) as setup:
        conversation = await setup.conversation(standin.add_user("Ken"))
        standin.fail_pushes += [(503, False), (429, False), (500, False)]
        await setup.chat.operator_say(SITE, conversation.id, "hi", "Aya")
        [push] = await setup.settled()
        assert (push.status, push.attempts) == ("delivered", 4)
        assert len(standin.pushes) == 1
        assert await setup.notes(conversation) == []


async def test_no_answer_is_retried_then_noted(line, store):
    standin, _ = line
    async with Setup(store, f"http://127.0.0.1:{free_port()}") as setup:  # nothing listens there
        conversation = await setup.conversation(standin.add_user("Ken"))
        await setup.chat.operator_say(SITE, conversation.id, "hi", "Aya")
        [push] = await setup.settled()
        assert (push.status, push.attempts) == ("failed", ATTEMPTS)
        [note] = await setup.notes(conversation)
        assert f"gave up after {ATTEMPTS} tries" in note and note.endswith("「hi」")


async def test_a_refused_token_is_not_retried_and_is_noted(line, store):
    standin, url = line
    async with Setup(store, url, token="not-the-channel-token") as setup:
        conversation = await setup.conversation(standin.add_user("Ken"))
        await setup.chat.operator_say(SITE, conversation.id, "hi", "Aya")
        [push] = await setup.settled()
        assert (push.status, push.attempts, push.last_status) == ("failed", 1, 401)
        assert [status for _, status, _ in standin.refused] == [401]
        [note] = await setup.notes(conversation)
        assert "401 Authentication failed" in note


async def test_a_users_replies_reach_line_in_the_order_written_even_when_the_first_is_retried(line, store):
    standin, url = line
    async with Setup(store, url) as setup:
        user = standin.add_user("Ken")
        conversation = await setup.conversation(user)
        standin.fail_pushes += [(503, False), (503, False)]  # the first reply's first two tries
        for text in ("一つ目", "二つ目", "三つ目"):
            await setup.chat.operator_say(SITE, conversation.id, text, "Aya")
        pushes = await setup.settled(3)
        assert [p.status for p in pushes] == ["delivered"] * 3
        assert [p["messages"][0]["text"] for p in standin.pushes] == ["一つ目", "二つ目", "三つ目"]
        assert {p["to"] for p in standin.pushes} == {user}


async def test_a_push_that_waited_longer_than_lines_retry_key_lasts_is_noted_not_sent(line, store):
    standin, url = line
    setup = Setup(store, url)
    conversation = await setup.conversation(standin.add_user("Ken"))
    await setup.chat.operator_say(SITE, conversation.id, "お待たせしました", "Aya")  # queued; no worker runs
    setup.later = KEY_LIFETIME + 60  # the first server process to run again starts a day later
    async with setup:
        [push] = await setup.settled()
        assert push.status == "failed"
        assert standin.pushes == [] and standin.refused == []
        [note] = await setup.notes(conversation)
        assert "23 hours" in note and note.endswith("「お待たせしました」")
