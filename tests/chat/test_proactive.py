"""server.chat.proactive: an operator writes first to a live visitor, as a chat prompt.

The prompt is an `engagement` entry on the visitor's feed shaped like a chat rule's `show`
(rule `proactive`, the operator's name as agent) and is claimed in the visitor's state, so the
rules' engagement gap holds after it; it is refused (409) inside the site's gap after another
engagement, to a visitor in a conversation, or to one not live; unknown visitors are 404 and
bad text 400. The visitor's reply opens a conversation with rule `proactive`, waiting for and
assigned to that operator. Two operators at the same instant: exactly one prompt.
"""

from __future__ import annotations

import asyncio
import zoneinfo

import msgspec
import pytest

from server.chat.proactive import Listening
from server.chat.service import ChatError, ChatService
from server.rules.engine import RuleSet
from server.sites import Site
from server.store.memory import MemoryStore
from server.visitor import Engagement, VisitorState, decode, encode
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0
SITE = Site(key="shop", name="Shop", origins=frozenset(), timezone=zoneinfo.ZoneInfo("Asia/Tokyo"), engagement_gap=60)


async def setup(engagements=(), last_seen=NOW - 10):
    clock = Clock(NOW)
    store = MemoryStore(clock=clock)
    state = VisitorState(first_seen=int(NOW - 100), last_seen=int(last_seen), sessions=1, engagements=list(engagements))
    await store.save_visitor("shop", "v1", encode(state), 0, 3600)
    return ChatService(store, clock), store, clock


async def state_of(store) -> VisitorState:
    return decode((await store.load_visitor("shop", "v1"))[0])


async def test_a_prompt_goes_on_the_feed_as_a_chat_show_and_is_claimed_in_the_state():
    chat, store, _ = await setup()
    show = await chat.proactive(SITE, "v1", "Aya", "  いらっしゃいませ  ")
    [(entry_id, kind, data)] = await store.read_feed("shop", "v1")
    assert kind == "engagement" and show["id"] == entry_id
    sent = msgspec.json.decode(data)
    assert sent == {
        "type": "chat",
        "text": "いらっしゃいませ",
        "agent": {"name": "Aya"},
        "button": {"label": "返信する"},
        "rule": "proactive",
        "lang": "ja",
        "placement": "bottom-right",
    }
    [claimed] = (await state_of(store)).engagements
    assert (claimed.rule, claimed.ts) == ("proactive", int(NOW))
    # The rules respect the gap after it.
    assert RuleSet(SITE, [])._in_gap(await state_of(store), NOW + 59)


async def test_inside_the_gap_after_a_rule_it_is_refused_and_after_it_allowed():
    chat, store, clock = await setup([Engagement(int(NOW - 30), "welcome", 1)])
    with pytest.raises(ChatError) as refused:
        await chat.proactive(SITE, "v1", "Aya", "hello")
    assert refused.value.status == 409 and "engagement_gap is 60 s" in str(refused.value)
    assert await store.read_feed("shop", "v1") == []
    clock.now = NOW + 31
    await chat.proactive(SITE, "v1", "Aya", "hello")


async def test_it_never_stacks_on_another_prompt_or_a_conversation():
    chat, store, clock = await setup()
    await chat.proactive(SITE, "v1", "Aya", "hello")
    with pytest.raises(ChatError) as stacked:
        await chat.proactive(SITE, "v1", "Ken", "hello too")
    assert stacked.value.status == 409
    clock.now = NOW + 120
    await chat.say(SITE, "v1", "client-0001", "hi")
    with pytest.raises(ChatError) as talking:
        await chat.proactive(SITE, "v1", "Ken", "hello again")
    assert talking.value.status == 409 and "conversation in progress" in str(talking.value)


async def test_two_operators_at_the_same_instant_send_exactly_one():
    chat, store, _ = await setup()
    results = await asyncio.gather(
        *(chat.proactive(SITE, "v1", name, "hello") for name in ("Aya", "Ken", "Mio")), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, ChatError) and r.status == 409 for r in results if isinstance(r, Exception))
    assert len(await store.read_feed("shop", "v1")) == 1
    assert [e.rule for e in (await state_of(store)).engagements] == ["proactive"]


@pytest.mark.parametrize(
    ("visitor", "author", "text", "status"),
    [
        ("nobody", "Aya", "hello", 404),
        ("v1", "Aya", "   ", 400),
        ("v1", "Aya", "x" * 2001, 400),
        ("v1", " ", "hi", 400),
    ],
)
async def test_bad_requests_are_refused_with_one_line(visitor, author, text, status):
    chat, _, _ = await setup()
    with pytest.raises(ChatError) as refused:
        await chat.proactive(SITE, visitor, author, text)
    assert refused.value.status == status and "\n" not in str(refused.value)


async def test_a_visitor_not_seen_for_five_minutes_is_not_live():
    chat, _, _ = await setup(last_seen=NOW - 301)
    with pytest.raises(ChatError) as refused:
        await chat.proactive(SITE, "v1", "Aya", "hello")
    assert refused.value.status == 409 and "not on the shop" in str(refused.value)


async def test_the_reply_opens_a_conversation_assigned_to_the_operator():
    chat, store, clock = await setup()
    await chat.proactive(SITE, "v1", "Aya", "hello")
    clock.now = NOW + 5
    _, conversation = await chat.say(SITE, "v1", "client-0001", "yes please", rule="proactive")
    assert (conversation.rule, conversation.status, conversation.assignee) == ("proactive", "waiting", "Aya")


async def test_listening_follows_presence_and_reads_it_once_per_cache_period():
    clock = Clock(NOW)
    store = MemoryStore(clock=clock)
    listening = Listening(store, clock)
    assert not await listening("shop")
    await store.set_presence("shop", "aya@shop.example", NOW + 45, 3600)
    assert not await listening("shop")  # cached
    clock.now = NOW + 16
    assert await listening("shop")
