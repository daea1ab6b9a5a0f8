"""What a conversation is: its record, its messages, and the bot that may answer in it.

A conversation belongs to one visitor of one site; its id is ``<visitor id>.<n>`` (n = 1, 2, …
per visitor), so the visitor, and with them the feed that holds the messages, is found from
the id alone. Its status is one of :data:`STATUSES`:

- ``bot``: outside business hours; the bot answers each visitor message.
- ``waiting``: a person will answer (after a hand-off, or during hours).
- ``open``: an operator has answered; ``assignee`` says who.
- ``resolved``: over; the visitor's next message starts a new conversation.

A message's id is its entry id in the visitor's feed (``1733300000000-0``), which is also
the id of its event on the live channel.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from server.sites import Site

STATUSES = ("bot", "waiting", "open", "resolved")
CHANNELS = ("web", "line")
AUTHORS = ("visitor", "operator", "bot", "system")
HANDOFF = "handoff"  # the choice that asks for a person


class Choice(msgspec.Struct):
    id: str  # a FAQ entry's id, or HANDOFF
    label: str


class Conversation(msgspec.Struct, kw_only=True):
    id: str
    visitor: str
    status: str
    started: float
    activity: float
    language: str
    rule: str = ""
    assignee: str = ""
    assigned: float = 0.0  # the second the console last assigned it (server/console/assignment.py)
    unread_by_operator: int = 0
    channel: str = "web"  # one of CHANNELS
    name: str = ""  # the visitor's display name, when their channel gives one (LINE's profile)
    version: int = 0  # one more with every write of the record: its compare-and-set (Store.save_conversation)


class Message(msgspec.Struct, kw_only=True):
    id: str
    conversation: str
    author: str
    text: str
    ts: float
    name: str = ""
    choices: list[Choice] = []


class StatusChange(msgspec.Struct, kw_only=True):
    conversation: str
    status: str
    assignee: str = ""
    note: str = ""


class ReadReceipt(msgspec.Struct, kw_only=True):
    conversation: str
    up_to: str


class BotReply(msgspec.Struct, kw_only=True):
    text: str
    choices: list[Choice] = []


class Bot(Protocol):
    """Who answers a conversation in ``bot`` status (server/chat/bot.py is the FAQ bot).

    Called by :class:`server.chat.service.ChatService`, never blocking (no I/O)."""

    def reply(
        self, site: Site, conversation: Conversation, text: str, language: str, now: float, choice: str = ""
    ) -> list[BotReply]:
        """The bot's answers to the visitor's `text` (or to the choice they tapped, `choice`
        being its id); none means the bot cannot help, and the conversation is handed to a person."""

    def handoff_note(self, site: Site, language: str, now: float) -> str:
        """The system message after a hand-off: when a person will answer."""


class Presence(Protocol):
    """Which operators are online on the console (server/console/presence.py)."""

    async def answering(self, site: str) -> list[str] | None:
        """None when the site's operators never signed in (business hours decide), else those online."""


class Assigner(Protocol):
    """Who gets a waiting conversation (server/console/assignment.py). No I/O."""

    def choose(self, site: Site, online: list[str], active: list[Conversation], exclude: str = "") -> str:
        """An operator of `online` with room among the `active` conversations, other than
        `exclude`; "" for none (the conversation waits in the queue)."""

    def due(self, site: Site, conversation: Conversation, online: list[str], now: float) -> bool:
        """Whether a waiting conversation should be (re)assigned now: unassigned, its operator
        gone, or silent past the site's ``reassign_after``."""


class Outbound(Protocol):
    """Carries operators' messages to a channel other than the web (server/line/push.py for LINE).

    Called by :class:`server.chat.service.ChatService` after the message is stored."""

    async def send(self, site: Site, conversation: Conversation, message: Message) -> None:
        """Queue `message` for delivery in the background, durably, and return; a failure becomes
        a system note in the conversation."""


class NoBot:
    """The bot of a server without one: it never answers, so a conversation goes straight to a person."""

    def reply(
        self, site: Site, conversation: Conversation, text: str, language: str, now: float, choice: str = ""
    ) -> list[BotReply]:
        return []

    def handoff_note(self, site: Site, language: str, now: float) -> str:
        if language == "ja":
            return "営業時間になりましたら担当者がお答えします。"
        return "A person will answer when we are open."


def conversation_id(visitor: str, number: int) -> str:
    return f"{visitor}.{number}"


def visitor_of(conversation: str) -> str | None:
    """The visitor of a conversation id, or None when it is not one."""
    visitor, dot, number = conversation.rpartition(".")
    return visitor if dot and visitor and number.isdigit() else None


MAX_TEXT = 2000  # characters, after trimming


class ChatError(Exception):
    """A request the chat refuses; `str(error)` is one line, `status` its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def clean_text(text: str) -> str:
    """The message text trimmed; a ChatError when empty or longer than MAX_TEXT characters."""
    text = text.strip()
    if not text:
        raise ChatError("empty message; send some text")
    if len(text) > MAX_TEXT:
        raise ChatError(f"message is {len(text)} characters; the limit is {MAX_TEXT}")
    return text
