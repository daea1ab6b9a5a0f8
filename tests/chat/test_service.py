"""server.chat.service: the conversation lifecycle on a fixed clock, without HTTP.

A new conversation starts in `waiting` during the site's business hours (site timezone) or when
it has none, in `bot` outside them; the bot answers in `bot`, and a bot with no answer, or the
visitor's `handoff` choice, puts it in `waiting` with the bot's note; a visitor message is
stored once per client id; an operator's message makes it `open` with an assignee; a resolved
conversation is followed by a new one; text is 1–2000 characters after trimming; a visitor
may send at most the configured number of messages per minute.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import msgspec
import pytest

from server.chat.model import HANDOFF, BotReply, Choice, NoBot
from server.chat.service import ChatError, ChatService
from server.ratelimits import RateLimited
from server.sites import Hours, Site
from server.store.memory import MemoryStore
from tests.store.test_contract import Clock

pytestmark = pytest.mark.anyio
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
WEEKDAYS_9_TO_18 = Hours(frozenset(range(5)), 9 * 60, 18 * 60)
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO).timestamp()
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=TOKYO).timestamp()


def site(hours: Hours | None = WEEKDAYS_9_TO_18) -> Site:
    return Site(key="shop", name="Shop", origins=frozenset(), timezone=TOKYO, business_hours=hours)


class FaqBot:
    """Answers "shipping" questions with a choice; has nothing to say otherwise."""

    def reply(self, site, conversation, text, language, now, choice=""):
        if "shipping" in text or choice == "shipping":
            return [
                BotReply(text="Shipping is free.", choices=[Choice("shipping", "Shipping?"), Choice(HANDOFF, "Talk")])
            ]
        return []

    def handoff_note(self, site, language, now):
        return "We answer on Monday from 9:00."


def service(now: float, bot=None, per_minute: int = 20) -> tuple[ChatService, MemoryStore]:
    clock = Clock(now)
    store = MemoryStore(clock=clock)
    return ChatService(store, clock, bot, per_minute), store


async def feed(store, visitor="v1"):
    return [(kind, msgspec.json.decode(data)) for _, kind, data in await store.read_feed("shop", visitor)]


async def test_during_business_hours_a_new_conversation_waits_for_a_person():
    chat, _ = service(MONDAY_10)
    conversation = await chat.open(site(), "v1", rule="welcome", language="en")
    assert (conversation.id, conversation.status, conversation.rule, conversation.language) == (
        "v1.1",
        "waiting",
        "welcome",
        "en",
    )
    assert (await chat.open(site(), "v1")).id == "v1.1"


async def test_outside_business_hours_in_the_site_timezone_the_bot_answers_first():
    chat, _ = service(SATURDAY_10)
    assert (await chat.open(site(), "v1")).status == "bot"
    chat, _ = service(datetime(2026, 11, 30, 18, 0, tzinfo=TOKYO).timestamp())  # closing time
    assert (await chat.open(site(), "v1")).status == "bot"


async def test_a_site_without_business_hours_always_waits_for_a_person():
    chat, _ = service(SATURDAY_10)
    assert (await chat.open(site(hours=None), "v1")).status == "waiting"


async def test_a_retried_message_is_stored_once():
    chat, store = service(MONDAY_10)
    first, _ = await chat.say(site(), "v1", "client-0001", "hello")
    again, _ = await chat.say(site(), "v1", "client-0001", "hello")
    assert again.id == first.id and again.text == "hello"
    messages = [data for kind, data in await feed(store) if kind == "message" and data["author"] == "visitor"]
    assert len(messages) == 1


async def test_waiting_during_hours_tells_the_visitor_once_that_a_person_will_answer():
    chat, store = service(MONDAY_10)
    await chat.say(site(), "v1", "client-0001", "hello", language="en")
    await chat.say(site(), "v1", "client-0002", "anyone?")
    system = [data["text"] for kind, data in await feed(store) if kind == "message" and data["author"] == "system"]
    assert system == ["A person will answer shortly."]


async def test_the_bot_answers_with_choices_and_a_choice_is_stored_with_its_label():
    chat, store = service(SATURDAY_10, FaqBot())
    _, conversation = await chat.say(site(), "v1", "client-0001", "how much is shipping?")
    assert conversation.status == "bot"
    bot = [data for kind, data in await feed(store) if kind == "message" and data["author"] == "bot"]
    assert bot[0]["text"] == "Shipping is free." and bot[0]["choices"][0] == {"id": "shipping", "label": "Shipping?"}
    message, _ = await chat.choose(site(), "v1", "client-0002", "shipping")
    assert (message.author, message.text) == ("visitor", "Shipping?")
    with pytest.raises(ChatError) as refused:
        await chat.choose(site(), "v1", "client-0003", "never-offered")
    assert refused.value.status == 400


async def test_choosing_handoff_puts_the_conversation_in_waiting_with_the_bots_note():
    chat, store = service(SATURDAY_10, FaqBot())
    await chat.say(site(), "v1", "client-0001", "shipping")
    message, conversation = await chat.choose(site(), "v1", "client-0002", HANDOFF)
    assert message.text == "Talk" and conversation.status == "waiting"
    entries = await feed(store)
    assert (
        "status",
        {"conversation": "v1.1", "status": "waiting", "assignee": "", "note": "We answer on Monday from 9:00."},
    ) in entries
    assert entries[-1][1]["author"] == "system" and entries[-1][1]["text"] == "We answer on Monday from 9:00."
    assert (await chat.conversation(site(), "v1.1")).status == "waiting"


async def test_a_bot_without_an_answer_hands_off_at_once():
    chat, store = service(SATURDAY_10, NoBot())
    _, conversation = await chat.say(site(), "v1", "client-0001", "hello", language="ja")
    assert conversation.status == "waiting"
    assert (await feed(store))[-1][1]["text"] == NoBot().handoff_note(site(), "ja", SATURDAY_10)


async def test_an_operator_message_opens_the_conversation_and_assigns_it():
    chat, store = service(MONDAY_10)
    await chat.say(site(), "v1", "client-0001", "hello")
    assert (await chat.conversation(site(), "v1.1")).unread_by_operator == 1
    message = await chat.operator_say(site(), "v1.1", "  Hi, how can I help?  ", "Aya")
    assert (message.author, message.name, message.text) == ("operator", "Aya", "Hi, how can I help?")
    conversation = await chat.conversation(site(), "v1.1")
    assert (conversation.status, conversation.assignee, conversation.unread_by_operator) == ("open", "Aya", 0)
    assert [m.author for m in await chat.messages(site(), conversation)] == ["visitor", "system", "operator"]


async def test_after_resolved_the_next_message_starts_a_new_conversation():
    chat, _ = service(MONDAY_10)
    await chat.say(site(), "v1", "client-0001", "hello")
    await chat.set_status(site(), "v1.1", "resolved")
    with pytest.raises(ChatError) as refused:
        await chat.operator_say(site(), "v1.1", "too late")
    assert refused.value.status == 409
    _, conversation = await chat.say(site(), "v1", "client-0002", "me again")
    assert conversation.id == "v1.2"
    assert [c.id for c in await chat.conversations(site(), ("waiting",))] == ["v1.2"]
    with pytest.raises(ChatError):
        await chat.set_status(site(), "v1.1", "open")  # the visitor has moved on


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 2001])
async def test_empty_or_too_long_text_is_refused(text):
    chat, _ = service(MONDAY_10)
    with pytest.raises(ChatError) as refused:
        await chat.say(site(), "v1", "client-0001", text)
    assert refused.value.status == 400


async def test_text_of_2000_characters_is_accepted_and_a_bad_client_id_refused():
    chat, _ = service(MONDAY_10)
    message, _ = await chat.say(site(), "v1", "client-0001", " " + "x" * 2000 + " ")
    assert len(message.text) == 2000
    with pytest.raises(ChatError):
        await chat.say(site(), "v1", "short", "hello")


async def test_more_messages_than_the_limit_per_minute_are_refused_until_it_resets():
    chat, store = service(MONDAY_10, per_minute=3)
    for n in range(3):
        await chat.say(site(), "v1", f"client-000{n}", "hello")
    with pytest.raises(RateLimited) as limited:
        await chat.say(site(), "v1", "client-0009", "hello")
    assert 0 < limited.value.retry_after <= 60
    await chat.say(site(), "v2", "client-0009", "another visitor is not limited")
    store._clock.now += 61
    await chat.say(site(), "v1", "client-0009", "a minute later")


async def test_operator_reads_are_on_the_visitors_feed():
    chat, store = service(MONDAY_10)
    await chat.say(site(), "v1", "client-0001", "hello")
    newest = (await chat.messages(site(), await chat.conversation(site(), "v1.1")))[-1]
    await chat.operator_read(site(), "v1.1")
    kind, data = (await feed(store))[-1]
    assert (kind, data["up_to"]) == ("read", newest.id)
