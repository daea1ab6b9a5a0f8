"""Replies pushed to LINE (server/line/push.py), against the local LINE stand-in.

Contract: every try of one message carries the same X-Line-Retry-Key, so a message LINE accepted
but answered with a 5xx is not sent twice (the retry's 409 counts as delivered); a try without an
answer or with a 5xx is repeated up to ATTEMPTS times; an answer LINE refuses (a 4xx) is not
repeated; a message not delivered gets a system note in its conversation, which the operator sees.
"""

from __future__ import annotations

import pytest

from server.chat.service import ChatService
from server.line import users
from server.line.api import LineApi
from server.line.push import ATTEMPTS, LinePush, retry_key
from server.sites import Site
from server.store.memory import MemoryStore
from tests.conftest import free_port
from tests.line.helpers import ACCESS_TOKEN, stand_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def line():
    with stand_in() as (standin, url):
        yield standin, url


async def conversation_with(store: MemoryStore, chat: ChatService, site: Site, user: str):
    visitor = users.visitor_of(site.key, user)
    await users.write(store, site.key, visitor, site.retention, user_id=user, follows="1")
    _, conversation = await chat.say(site, visitor, "01HZZZZZZZZZZZZZZZZZZZZZZZ", "hello", channel="line")
    return conversation


async def setup(site: Site, api: str, token: str = ACCESS_TOKEN):
    store = MemoryStore()
    chat = ChatService(store)
    push = LinePush(LineApi(api, timeout=2), store, {site.key: token}, chat.note, pauses=(0.0,) * 5)
    return store, chat, push


def site_of() -> Site:
    import zoneinfo

    return Site(key="shop", name="shop", origins=frozenset(), timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))


async def notes(chat: ChatService, site: Site, conversation) -> list[str]:
    return [m.text for m in await chat.messages(site, conversation) if m.author == "system"]


async def test_a_push_accepted_but_answered_5xx_is_retried_with_the_same_key_and_sent_once(line):
    standin, url = line
    site = site_of()
    store, chat, push = await setup(site, url)
    user = standin.add_user("Ken")
    conversation = await conversation_with(store, chat, site, user)
    message = await chat.operator_say(site, conversation.id, "こんにちは", "Aya")
    standin.fail_pushes.append((500, True))  # LINE takes it, but the answer says it failed
    assert await push.deliver(site, conversation, message)
    assert [p["messages"][0]["text"] for p in standin.pushes] == ["こんにちは"]
    assert standin.pushes[0]["retry_key"] == retry_key("shop", conversation.id, message.id)
    assert [status for _, status, _ in standin.refused] == [409]
    assert await notes(chat, site, conversation) == []


async def test_5xx_answers_are_retried_until_one_is_accepted(line):
    standin, url = line
    site = site_of()
    store, chat, push = await setup(site, url)
    conversation = await conversation_with(store, chat, site, standin.add_user("Ken"))
    message = await chat.operator_say(site, conversation.id, "hi", "Aya")
    standin.fail_pushes += [(503, False), (500, False)]
    assert await push.deliver(site, conversation, message)
    assert len(standin.pushes) == 1


async def test_no_answer_is_retried_then_noted(line):
    standin, _ = line
    site = site_of()
    store, chat, push = await setup(site, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    conversation = await conversation_with(store, chat, site, standin.add_user("Ken"))
    message = await chat.operator_say(site, conversation.id, "hi", "Aya")
    assert not await push.deliver(site, conversation, message)
    [note] = await notes(chat, site, conversation)
    assert f"gave up after {ATTEMPTS} tries" in note and note.endswith("「hi」")


async def test_a_refused_token_is_not_retried_and_is_noted(line):
    standin, url = line
    site = site_of()
    store, chat, push = await setup(site, url, token="not-the-channel-token")
    conversation = await conversation_with(store, chat, site, standin.add_user("Ken"))
    message = await chat.operator_say(site, conversation.id, "hi", "Aya")
    assert not await push.deliver(site, conversation, message)
    assert [status for _, status, _ in standin.refused] == [401]
    [note] = await notes(chat, site, conversation)
    assert "401 Authentication failed" in note
