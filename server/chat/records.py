"""A conversation's record: read, listed, created, changed, and its status transitions.

The records live in the site's index (Store.save_conversation), each with a version that one
more write makes one more. Every change is a compare-and-set on it (:meth:`Records.change`):
load the record, apply a pure change, save it if nobody wrote it meanwhile, else apply the
change again to the newer record, so two writers at once (two requests, two server processes)
both land. Every write shows the record to the operators (their feed's ``conversation``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import msgspec
from msgspec.structs import replace

from server.chat.feed import Feeds
from server.chat.model import STATUSES, ChatError, Conversation, StatusChange, visitor_of
from server.sites import Site
from server.store.base import Store
from server.webhooks import events as webhook_events
from server.webhooks.chat_events import conversation_changed
from server.webhooks.emit import Webhooks

TRIES = 12  # compare-and-set attempts of one change to a conversation's record before giving up
BACKOFF_FIRST, BACKOFF_MAX = 0.002, 0.2  # seconds: the pause after the first conflict, and its cap
_json = msgspec.json.Encoder()

Change = Callable[[Conversation], Conversation | None]  # pure: a changed copy, or None for no change


class Records:
    def __init__(
        self,
        store: Store,
        feeds: Feeds,
        clock: Callable[[], float] = time.time,
        webhooks: Webhooks | None = None,
    ):
        self.store = store
        self.feeds = feeds
        self.clock = clock
        self.webhooks = webhooks

    async def load(self, site: Site, conversation_id: str) -> Conversation | None:
        if visitor_of(conversation_id) is None:
            return None
        [record] = await self.store.load_conversations(site.key, [conversation_id])
        return decode(record) if record else None

    async def get(self, site: Site, conversation_id: str) -> Conversation:
        conversation = await self.load(site, conversation_id)
        if conversation is None:
            raise ChatError(f"no conversation '{conversation_id[:100]}' on site '{site.key}'", 404)
        return conversation

    async def listed(self, site: Site, statuses: tuple[str, ...] = ()) -> list[Conversation]:
        """The site's conversations, newest activity first, only those in `statuses` if given."""
        for status in statuses:
            if status not in STATUSES:
                raise ChatError(f"unknown status '{status[:32]}'; expected some of {', '.join(STATUSES)}")
        ids = await self.store.recent_conversations(site.key)
        found = [decode(record) for record in await self.store.load_conversations(site.key, ids) if record]
        return [c for c in found if c is not None and (not statuses or c.status in statuses)]

    async def create(self, site: Site, conversation: Conversation) -> Conversation | None:
        """Store a new conversation: as stored (version 1), or None when one with its id exists already."""
        conversation = replace(conversation, version=1)
        return conversation if await self._write(site, conversation, version=0) else None

    async def change(self, site: Site, conversation_id: str, mutate: Change) -> tuple[Conversation, Conversation]:
        """The conversation as read and as written by `mutate`, a pure change of its stored record
        (a changed copy, or None for no change: then both are the record read). Saved if nobody
        wrote the record meanwhile; else `mutate` is applied again to the newer record after a
        random pause, up to TRIES times (then a ChatError 409). A ChatError 404 if there is none."""
        for attempt in range(TRIES):
            read = await self.get(site, conversation_id)
            changed = mutate(read)
            if changed is None:
                return read, read
            changed = replace(changed, version=read.version + 1)
            if await self._write(site, changed, read.version):
                return read, changed
            await asyncio.sleep(random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt)))
        raise ChatError(f"conversation '{conversation_id[:100]}' kept changing ({TRIES} attempts); retry", 409)

    async def set_status(
        self,
        site: Site,
        conversation_id: str,
        status: str,
        assignee: str | None = None,
        note: str = "",
        fallback: str = "",
    ) -> Conversation:
        """Change the status (and the assignee, or keep the stored one, or `fallback` when it has
        none), then tell the visitor's feed and, for a new status, the webhooks."""
        now = self.clock()

        def change(c: Conversation) -> Conversation:
            kept = c.assignee or fallback if assignee is None else assignee
            return replace(c, status=status, assignee=kept, activity=max(c.activity, now))

        before, conversation = await self.change(site, conversation_id, change)
        entry = StatusChange(conversation=conversation.id, status=status, assignee=conversation.assignee, note=note)
        await self.feeds.append(site, conversation.visitor, "status", entry)
        if status != before.status and status in webhook_events.CONVERSATION_EVENTS:
            await conversation_changed(
                self.webhooks, site.key, conversation, webhook_events.CONVERSATION_EVENTS[status]
            )
        return conversation

    async def _write(self, site: Site, conversation: Conversation, version: int) -> bool:
        """Store the record if its stored version is still `version`, and show it to the operators."""
        record = _json.encode(conversation)
        if not await self.store.save_conversation(
            site.key, conversation.id, record, conversation.activity, site.retention, version=version
        ):
            return False
        await self.feeds.tell_operators(site, "conversation", record)
        return True


def assigning(decided_on: str, operator: str, now: float) -> Change:
    """The change that assigns a conversation to `operator`, only as it was decided: still
    waiting, and nobody else (re)assigned it meanwhile (its assignee still `decided_on`)."""
    return lambda c: (
        replace(c, assignee=operator, assigned=now) if c.status == "waiting" and c.assignee == decided_on else None
    )


def decode(record: bytes) -> Conversation | None:
    try:
        return msgspec.json.decode(record, type=Conversation)
    except msgspec.DecodeError:
        return None  # written by an incompatible version: not listed rather than failing the list
