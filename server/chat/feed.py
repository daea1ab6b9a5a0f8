"""What the chat writes to its two feeds, and reads back from a visitor's (docs/chat.md).

A visitor's **feed** holds everything their live channel delivers, in order: messages, status
changes, read receipts. The site's **operators' feed** gets each of those too (the visitor and
their feed entry id first), and every change of a conversation's record, for the console. Each
append publishes a wake-up, so that every process's streams read the feed again; a message
appended to a conversation is also a message.created webhook event.
"""

from __future__ import annotations

import re

import msgspec

from server.chat.model import Conversation, Message
from server.sites import Site
from server.store.base import Store
from server.webhooks.chat_events import message_created
from server.webhooks.emit import Webhooks

ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
OPERATORS = "*ops"  # the wake-up "visitor id" of a site's operators' feed (never a visitor's id)
_json = msgspec.json.Encoder()


def message_from_feed(entry_id: str, data: bytes) -> Message:
    return msgspec.json.decode(with_id(entry_id, data), type=Message)


def with_id(entry_id: str, data: bytes) -> bytes:
    """A feed entry's JSON object with its entry id as "id" first (as the stream sends it)."""
    return b'{"id":"' + entry_id.encode() + b'",' + data[1:]


def before(entry_id: str) -> str:
    """The largest feed id below `entry_id`, so that reading after it starts at `entry_id`."""
    millisecond, _, sequence = entry_id.partition("-")
    if int(sequence or 0) > 0:
        return f"{millisecond}-{int(sequence) - 1}"
    return f"{int(millisecond) - 1}-18446744073709551615" if int(millisecond) > 0 else "0"


class Feeds:
    def __init__(self, store: Store, webhooks: Webhooks | None = None):
        self.store = store
        self.webhooks = webhooks

    async def append(
        self,
        site: Site,
        visitor: str,
        kind: str,
        payload: msgspec.Struct,
        client_id: str = "",
        conversation: Conversation | None = None,
    ) -> tuple[str, bool]:
        """Append to the visitor's feed (once per `client_id`, if given) and tell the operators:
        (entry id, added). A message in `conversation` is a message.created webhook event."""
        data = _json.encode(payload)
        if kind == "message":
            data = b"{" + data[data.index(b",") + 1 :]  # the entry id is the message id: not stored twice
        entry_id, added = await self.store.add_feed(site.key, visitor, kind, data, site.retention, client_id)
        if added:
            await self.store.publish(site.key, visitor)
            await self.tell_operators(site, kind, data, visitor, entry_id)
            if conversation is not None and isinstance(payload, Message):
                await message_created(self.webhooks, site.key, conversation, entry_id, payload)
        return entry_id, added

    async def tell_operators(
        self, site: Site, kind: str, data: bytes | dict, visitor: str = "", entry_id: str = ""
    ) -> None:
        """Append to the site's operators' feed (the visitor and their feed entry id first) and wake its readers."""
        data = _json.encode(data) if isinstance(data, dict) else data
        if visitor:
            data = b'{"visitor":' + _json.encode(visitor) + b',"entry":"' + entry_id.encode() + b'",' + data[1:]
        await self.store.add_ops(site.key, kind, data)
        await self.store.publish(site.key, OPERATORS)

    async def note_once(self, site: Site, conversation: Conversation, note: str, now: float) -> None:
        """A system message saying when a person will answer, at most once per conversation."""
        if (await self.store.get_chat(site.key, conversation.visitor)).get("noted") == conversation.id:
            return
        await self.store.set_chat(site.key, conversation.visitor, {"noted": conversation.id}, site.retention)
        system = Message(id="", conversation=conversation.id, author="system", text=note, ts=now)
        await self.append(site, conversation.visitor, "message", system, conversation=conversation)

    async def messages(self, site: Site, conversation: Conversation) -> list[Message]:
        entries = await self.store.read_feed(site.key, conversation.visitor, count=5000)
        messages = [message_from_feed(entry_id, data) for entry_id, kind, data in entries if kind == "message"]
        return [m for m in messages if m.conversation == conversation.id]

    async def message(self, site: Site, visitor: str, entry_id: str) -> Message | None:
        found = await self.store.read_feed(site.key, visitor, after=before(entry_id), count=1)
        return message_from_feed(*found[0][::2]) if found and found[0][0] == entry_id else None

    async def label(self, site: Site, visitor: str, conversation: Conversation, choice: str) -> str | None:
        """The label of `choice` in the newest bot message of the conversation that offered it."""
        since = (await self.store.get_chat(site.key, visitor)).get("since", "0")
        entries = await self.store.read_feed(
            site.key, visitor, after=before(since) if since != "0" else "0", count=1000
        )
        for entry_id, kind, data in reversed(entries):
            if kind == "message":
                message = message_from_feed(entry_id, data)
                if message.conversation == conversation.id and message.author == "bot":
                    for offered in message.choices:
                        if offered.id == choice:
                            return offered.label
        return None
