"""The conversation lifecycle, without HTTP: open, post, hand off, change status, read.

Every change is written to the visitor's feed (what their live channel delivers, in order:
server/chat/feed.py) and, for the conversation's record, to the site's index (what operators
list: server/chat/records.py), and then announced with a wake-up so that every process's
streams for that visitor read the feed again.

A visitor has at most one current conversation; once it is ``resolved`` their next message
starts a new one. A new conversation starts in ``bot`` outside the site's business hours (in
the site's timezone) and in ``waiting`` otherwise, or when the site has no hours. In ``bot``
each visitor message goes to the injected :class:`~server.chat.model.Bot`; a bot with nothing to
say, or the visitor's choice ``handoff``, hands the conversation to a person (``waiting``, with
the bot's note on when one will answer). An operator's message makes it ``open``.

A conversation on another channel than the web (LINE, server/line/) is kept the same way; it
starts ``waiting`` (the bot answers the widget only), and an operator's message in it is also
handed to that channel's :class:`~server.chat.model.Outbound`, which queues it and sends it in the background.

Every change to a conversation's record is a compare-and-set on its version
(:meth:`~server.chat.records.Records.change`), so two writers at once (two requests, two
processes) both land; the messages themselves are in the feed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime

import msgspec
from msgspec.structs import replace

from server.chat import proactive
from server.chat.feed import ENTRY_ID, OPERATORS, Feeds
from server.chat.model import (
    HANDOFF,
    Assigner,
    Bot,
    ChatError,
    Conversation,
    Message,
    NoBot,
    Outbound,
    Presence,
    ReadReceipt,
    StatusChange,
    clean_text,
    conversation_id,
    visitor_of,
)
from server.chat.records import Records, assigning
from server.ratelimits import MINUTE, RateLimited
from server.sites import Site
from server.store.base import Store
from server.webhooks import events as webhook_events
from server.webhooks.chat_events import conversation_changed
from server.webhooks.emit import Webhooks

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
OPERATOR_SETS = ("open", "waiting", "resolved")  # statuses an operator may set
HANDOFF_LABEL = {"ja": "スタッフに相談する", "en": "Talk to a person"}
SHORTLY = {"ja": "担当者がまもなくお答えします。", "en": "A person will answer shortly."}
REBALANCE_EVERY = 5.0  # seconds between two rebalances of one site in one process
MAX_NOTE = 500  # characters of a system note


class ChatService:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        bot: Bot | None = None,
        messages_per_minute: int = 20,
        presence: Presence | None = None,
        assigner: Assigner | None = None,
        webhooks: Webhooks | None = None,
        outbound: dict[str, Outbound] | None = None,
    ):
        self.store = store
        self.clock = clock
        self.bot: Bot = bot or NoBot()
        self.messages_per_minute = messages_per_minute
        self.presence = presence  # None: no console, business hours decide
        self.assigner = assigner  # None: conversations wait unassigned
        self.outbound = outbound if outbound is not None else {}  # channel -> its sender (not "web")
        self._rebalanced: dict[str, float] = {}  # site -> when this process last rebalanced it
        self.webhooks = webhooks  # conversation.* and message.created out to the shop's systems
        self.feeds = Feeds(store, webhooks)
        self.records = Records(store, self.feeds, clock, webhooks)

    # -- the visitor's side -------------------------------------------------------------------

    async def current(self, site: Site, visitor: str) -> Conversation | None:
        """The visitor's conversation unless there is none or it is resolved."""
        found = (await self.store.get_chat(site.key, visitor)).get("current")
        conversation = await self.records.load(site, found) if found else None
        return conversation if conversation is not None and conversation.status != "resolved" else None

    async def open(
        self, site: Site, visitor: str, rule: str = "", language: str = "", channel: str = "web", name: str = ""
    ) -> Conversation:
        """The visitor's current conversation, started now if they have none."""
        return await self.current(site, visitor) or await self._start(site, visitor, rule, language, channel, name)

    async def say(
        self,
        site: Site,
        visitor: str,
        client_id: str,
        text: str,
        rule: str = "",
        language: str = "",
        choice: str = "",
        channel: str = "web",
        name: str = "",
    ) -> tuple[Message, Conversation]:
        """Store a visitor message once per `client_id`; the bot answers on the feed if it is its turn.

        The per-visitor rate limit guards the widget's endpoint; another channel's messages come
        signed by that channel (LINE's webhook), which limits its own users."""
        text = clean_text(text)
        if not CLIENT_ID.match(client_id):
            raise ChatError("message id must be 8 to 64 letters, digits, '-' or '_'")
        if channel == "web":
            await self._limit(site, visitor)
        conversation = await self.open(site, visitor, rule, language, channel, name)
        now = self.clock()
        message = Message(id="", conversation=conversation.id, author="visitor", text=text, ts=now)
        entry_id, added = await self.feeds.append(site, visitor, "message", message, client_id, conversation)
        if not added:  # a retry: the first send is the answer, and nothing happens twice
            return await self.feeds.message(site, visitor, entry_id) or message, conversation
        message.id = entry_id
        _, conversation = await self.records.change(
            site,
            conversation.id,
            lambda c: replace(c, activity=max(c.activity, now), unread_by_operator=c.unread_by_operator + 1),
        )
        if conversation.status == "bot":
            replies = self.bot.reply(site, conversation, text, conversation.language, now, choice)
            if choice == HANDOFF or not replies:
                conversation = await self.handoff(site, conversation)
            for reply in replies if choice != HANDOFF else ():
                await self.feeds.append(
                    site,
                    visitor,
                    "message",
                    Message(id="", conversation=conversation.id, author="bot", ts=now, **msgspec.structs.asdict(reply)),
                    conversation=conversation,
                )
        elif conversation.status == "waiting" and conversation.channel == "web":  # LINE users would never see it
            await self.feeds.note_once(
                site, conversation, SHORTLY.get(conversation.language, SHORTLY["en"]), self.clock()
            )
        return message, conversation

    async def choose(self, site: Site, visitor: str, client_id: str, choice: str) -> tuple[Message, Conversation]:
        """The visitor tapped a choice a bot offered: stored as their message, with its label as text."""
        conversation = await self.current(site, visitor)
        label = await self.feeds.label(site, visitor, conversation, choice) if conversation is not None else None
        if label is None:
            if choice != HANDOFF:
                raise ChatError(f"unknown choice '{choice[:64]}'; send one the bot offered", 400)
            language = conversation.language if conversation is not None else site.language
            label = HANDOFF_LABEL.get(language, HANDOFF_LABEL["en"])
        return await self.say(site, visitor, client_id, label, choice=choice)

    async def visitor_read(self, site: Site, visitor: str, up_to: str) -> None:
        if not ENTRY_ID.match(up_to):
            raise ChatError("up_to must be a message id such as 1733300000000-0")
        await self.store.set_chat(site.key, visitor, {"read": up_to}, site.retention)
        # The console's read receipt.
        await self.feeds.tell_operators(site, "seen", {"visitor": visitor, "up_to": up_to})

    async def typing(self, site: Site, visitor: str, who: str, name: str = "") -> None:
        """Ephemeral: published to every process, never stored; the operators hear it too."""
        name = name.replace(chr(9), " ")[:64]
        await self.store.publish(site.key, visitor, f"typing\t{who}\t{name}")
        await self.store.publish(site.key, OPERATORS, f"typing\t{who}\t{name}\t{visitor}")

    # -- the operators' side ------------------------------------------------------------------

    async def proactive(self, site: Site, visitor: str, operator_name: str, text: str, assignee: str = "") -> dict:
        """An operator writes first to a live visitor: a chat prompt (server/chat/proactive.py)."""
        return await proactive.send(self, site, visitor, operator_name, text, assignee)

    async def conversations(self, site: Site, statuses: tuple[str, ...] = ()) -> list[Conversation]:
        """The site's conversations, newest activity first, only those in `statuses` if given."""
        return await self.records.listed(site, statuses)

    async def conversation(self, site: Site, conversation_id: str) -> Conversation:
        return await self.records.get(site, conversation_id)

    async def messages(self, site: Site, conversation: Conversation) -> list[Message]:
        return await self.feeds.messages(site, conversation)

    async def operator_say(
        self, site: Site, conversation_id: str, text: str, name: str = "", assignee: str = ""
    ) -> Message:
        """An operator's message; a conversation in ``bot`` or ``waiting`` becomes ``open``, assigned
        to whom it was assigned, else to `assignee` (the console's operator), else to `name`."""
        text = clean_text(text)
        conversation = await self.conversation(site, conversation_id)
        if conversation.status == "resolved":
            raise ChatError("the conversation is resolved; set its status to open first", 409)
        now = self.clock()
        if conversation.status != "open":
            conversation = await self.records.set_status(site, conversation.id, "open", fallback=assignee or name)
        message = Message(id="", conversation=conversation.id, author="operator", name=name[:64], text=text, ts=now)
        message.id, _ = await self.feeds.append(
            site, conversation.visitor, "message", message, conversation=conversation
        )
        _, conversation = await self.records.change(  # answering is reading
            site, conversation.id, lambda c: replace(c, activity=max(c.activity, now), unread_by_operator=0)
        )
        if conversation.channel in self.outbound:
            await self.outbound[conversation.channel].send(site, conversation, message)
        return message

    async def note(self, site: Site, conversation_id: str, text: str) -> Message:
        """A system message in a conversation, changing nothing else (a channel's news: a LINE follow,
        a message type the inbox cannot show, a reply that could not be delivered)."""
        visitor = visitor_of(conversation_id)
        if visitor is None:
            raise ChatError(f"no conversation '{conversation_id[:100]}' on site '{site.key}'", 404)
        message = Message(id="", conversation=conversation_id, author="system", text=text[:MAX_NOTE], ts=self.clock())
        message.id, _ = await self.feeds.append(site, visitor, "message", message)
        return message

    async def name_visitor(self, site: Site, conversation_id: str, name: str) -> None:
        """Give a conversation its visitor's display name (LINE's profile, fetched after it started)."""
        name = name[:100]
        if await self.records.load(site, conversation_id) is not None:
            await self.records.change(
                site, conversation_id, lambda c: replace(c, name=name) if c.name != name else None
            )

    async def set_status(
        self, site: Site, conversation_id: str, status: str, assignee: str | None = None
    ) -> Conversation:
        if status not in OPERATOR_SETS:
            raise ChatError(f"status must be one of {', '.join(OPERATOR_SETS)}, not '{status[:32]}'")
        conversation = await self.conversation(site, conversation_id)
        if conversation.status == "resolved" and status != "resolved":
            current = (await self.store.get_chat(site.key, conversation.visitor)).get("current")
            if current != conversation.id:
                raise ChatError("the visitor has started a newer conversation since; answer that one", 409)
        return await self.records.set_status(site, conversation.id, status, None if assignee is None else assignee[:64])

    async def operator_read(self, site: Site, conversation_id: str, up_to: str = "") -> Conversation:
        """The operator has read the visitor's messages up to `up_to` (all of them if empty)."""
        if up_to and not ENTRY_ID.match(up_to):
            raise ChatError("up_to must be a message id such as 1733300000000-0")
        conversation = await self.conversation(site, conversation_id)
        if not up_to:
            messages = await self.messages(site, conversation)
            up_to = messages[-1].id if messages else ""
        if up_to:
            await self.feeds.append(
                site, conversation.visitor, "read", ReadReceipt(conversation=conversation.id, up_to=up_to)
            )
        _, conversation = await self.records.change(site, conversation.id, lambda c: replace(c, unread_by_operator=0))
        return conversation

    async def handoff(self, site: Site, conversation: Conversation) -> Conversation:
        """To a person: ``waiting``, and the bot's note of when one will answer; the conversation
        as it became ``waiting`` (before any assignment)."""
        note = self.bot.handoff_note(site, conversation.language, self.clock())
        conversation = await self.records.set_status(site, conversation.id, "waiting", note=note)
        await self.feeds.note_once(site, conversation, note, self.clock())
        if self.presence is not None:
            await self._assign(site, [conversation], await self.presence.answering(site.key))
        return conversation

    async def rebalance(self, site: Site) -> None:
        """Queued conversations to operators with room; those overdue offered to another.

        Run when the operators' feed is read, at most once per REBALANCE_EVERY seconds per site
        in this process, over the site's newest conversations only: bounded work."""
        now = self.clock()
        if self.presence is None or now - self._rebalanced.get(site.key, -REBALANCE_EVERY) < REBALANCE_EVERY:
            return
        self._rebalanced[site.key] = now
        online = await self.presence.answering(site.key)
        waiting = sorted(await self.conversations(site, ("waiting",)), key=lambda c: c.started)
        await self._assign(site, waiting, online)

    async def _assign(self, site: Site, waiting: list[Conversation], online: list[str] | None) -> None:
        if not online or self.assigner is None:
            return  # nobody to give them to: they wait in the queue
        now = self.clock()
        active = await self.conversations(site, ("waiting", "open"))
        by_id = {c.id: c for c in active}
        for conversation in waiting:
            conversation = by_id.get(conversation.id, conversation)
            if not self.assigner.due(site, conversation, online, now):
                continue
            operator = self.assigner.choose(site, online, active, exclude=conversation.assignee)
            if not operator:
                continue
            before, after = await self.records.change(
                site, conversation.id, assigning(conversation.assignee, operator, now)
            )
            if after is before:
                continue  # changed meanwhile: the next rebalance decides again
            conversation.assignee, conversation.assigned = operator, now  # for the next choices' counts
            await self.feeds.tell_operators(site, "assigned", {"conversation": conversation.id, "assignee": operator})

    # -- starting a conversation, and the rate limit --------------------------------------------

    async def _start(
        self, site: Site, visitor: str, rule: str, language: str, channel: str = "web", name: str = ""
    ) -> Conversation:
        chat = await self.store.get_chat(site.key, visitor)
        number = int(chat.get("n", "0") or 0) + 1
        now = self.clock()
        online = await self.presence.answering(site.key) if self.presence is not None else None
        person = self._open_at(site, now) if online is None else bool(online)
        status = "waiting" if person or channel != "web" else "bot"
        assignee = chat.get("prompt_by", "") if rule == "proactive" and chat.get("prompt") else ""
        if assignee:  # the visitor answers an operator's proactive prompt: theirs, waiting for them
            status = "waiting"
        conversation = Conversation(
            id=conversation_id(visitor, number),
            visitor=visitor,
            status=status,
            started=now,
            activity=now,
            language=language if language in ("ja", "en") else site.language,
            rule=rule[:64],
            assignee=assignee,
            assigned=now if assignee else 0.0,
            channel=channel,
            name=name[:100],
        )
        entry_id, _ = await self.feeds.append(
            site, visitor, "status", StatusChange(conversation=conversation.id, status=status)
        )
        await self.store.set_chat(
            site.key, visitor, {"current": conversation.id, "n": str(number), "since": entry_id}, site.retention
        )
        created = await self.records.create(site, conversation)
        if created is None:  # another request started it at the same moment
            return await self.records.get(site, conversation.id)
        conversation = created
        waiting = (webhook_events.CONVERSATION_WAITING,) if status == "waiting" else ()
        await conversation_changed(self.webhooks, site.key, conversation, webhook_events.CONVERSATION_STARTED, *waiting)
        if status == "waiting" and not assignee:
            await self._assign(site, [conversation], online)
        return conversation

    @staticmethod
    def _open_at(site: Site, now: float) -> bool:
        """Whether a person is expected to answer at `now`: within business hours, or always without them."""
        if site.business_hours is None:
            return True
        local = datetime.fromtimestamp(now, site.timezone)
        return site.business_hours.contains(local.weekday(), local.hour * 60 + local.minute)

    async def _limit(self, site: Site, visitor: str) -> None:
        limit = site.limits.get("chat_messages_per_minute", self.messages_per_minute)  # site.yaml's, else the setting
        if not limit:
            return
        [(hits, retry_after)] = await self.store.hit(site.key, f"chat:{visitor}", (MINUTE,))
        if hits > limit:
            raise RateLimited(
                f"more than {limit} messages in a minute; retry in {retry_after} s", retry_after, "chat_messages"
            )
