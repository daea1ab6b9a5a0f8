"""An operator's reply in a LINE conversation, pushed to the LINE user from a durable queue (docs/line.md).

The chat service stores the message first and then hands it here (the ``Outbound`` of channel
``line``): :meth:`LinePush.send` queues it in the store (``store.line_pushes``, the same
delivery queue as the webhooks', server/store/webhooks.py) and returns; the operator's request
does not wait for LINE. :class:`LinePush` is also that queue's :class:`~server.outbox.Outbox`:
every server process runs it, and the process that takes a due push sends it. A process that
stops, on purpose or not, leaves its pushes in the store for the next one to take.

The push carries ``X-Line-Retry-Key``, a UUID derived from the site, conversation and message
id, so every try of one message, by any process, carries the same key and LINE sends it once:
a 409 answer means an earlier try was accepted, which is success. A try without an answer
(timeout, connection) or with a 5xx or 429 is repeated after a growing pause, up to ATTEMPTS
tries; any other answer ends it. LINE honours a retry key for 24 hours after its first try, so a
push that has waited longer than KEY_LIFETIME (all processes down meanwhile) is not tried again,
which could send it twice, but noted. A message that could not be delivered gets a system note in its
conversation, which the operator sees; the note is written before the push is recorded as
failed, so a process stopping in between may note it twice but never not at all.

A LINE user's replies are one lane of the queue: they are sent one after another, in the order
the operators wrote them; one that fails for good is noted, and the next one goes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from server.chat.model import Conversation, Message
from server.line import texts, users
from server.line.api import LineApi
from server.outbox import Outbox
from server.sites import Site
from server.store.base import Store, StoreUnavailable
from server.store.webhooks import Delivery, delivery_id

log = logging.getLogger("irasshai.line")

ATTEMPTS = 6
PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds before the 2nd … 6th try: about half a minute in all
RETRY_KEYS = uuid.UUID("5b1d1f0e-4c8a-4a53-9a57-2f1e1c0e7a11")  # the namespace of retry keys (fixed forever)
KEY_LIFETIME = 23 * 3600  # seconds after queueing that a push is still tried (LINE: a retry key lasts 24 h)
ENDPOINT = "push"  # the LINE push queue's one due list per site (its lanes are the users)
KIND = "line.push"

Note = Callable[[Site, str, str], Awaitable[object]]  # (site, conversation id, text): a system note


def retry_key(site_key: str, conversation_id: str, message_id: str) -> str:
    """The same message always has the same key; two messages never share one."""
    return str(uuid.uuid5(RETRY_KEYS, f"{site_key}/{conversation_id}/{message_id}"))


class Push(msgspec.Struct):
    """What a queued push holds (the delivery's body): enough to send it and to note a failure."""

    conversation: str
    visitor: str
    text: str


class LinePush(Outbox):
    what = "LINE pushes"
    channel = "line"

    def __init__(
        self,
        api: LineApi,
        store: Store,
        tokens: Mapping[str, str],
        note: Note,
        sites: Callable[[], Mapping[str, Site]],
        clock: Callable[[], float] = time.time,
        pauses: tuple[float, ...] = PAUSES,
    ):
        # taken pushes are another process's again after the lease: a call's timeout and a margin
        super().__init__(store.line_pushes, api.timeout + 30.0, log, clock)
        self.api = api
        self.store = store
        self.tokens = tokens
        self.note = note
        self.sites = sites  # the sites in force (swapped whole on reload)
        self.pauses = pauses

    async def send(self, site: Site, conversation: Conversation, message: Message) -> None:
        """Queue `message` for its conversation's LINE user; returns once the store has it."""
        if site.key not in self.tokens:
            await self._noted(
                site, conversation.id, message.text, "no access token for this site in IRASSHAI_LINE_TOKENS"
            )
            return
        now = self.clock()
        push = Push(conversation=conversation.id, visitor=conversation.visitor, text=message.text)
        delivery = Delivery(
            id=delivery_id(f"{conversation.id}/{message.id}", ENDPOINT),
            message=message.id,
            endpoint=ENDPOINT,
            type=KIND,
            body=msgspec.json.encode(push),
            created=now,
            since=now,
            next_at=now,
            lane=conversation.visitor,
        )
        try:
            await self.queue.queue(site.key, [delivery])
        except StoreUnavailable as error:
            await self._noted(site, conversation.id, message.text, f"the store is unavailable: {error}")
            return
        self.wake.set()

    # -- the Outbox: taking and sending -----------------------------------------------------------

    async def targets(self, now: float) -> list[tuple[str, str]]:
        return [(key, ENDPOINT) for key in self.sites() if key in self.tokens]

    async def deliver(self, site_key: str, delivery: Delivery) -> None:
        site = self.sites().get(site_key)
        try:
            push = msgspec.json.decode(delivery.body, type=Push)
        except msgspec.DecodeError:
            push = None
        if site is None or push is None:
            why = "the site is no longer in the rules" if site is None else "not a LINE push (unreadable)"
            await self.finish(site_key, delivery, "failed", 0, why)
            return
        try:
            outcome, status, why = await self._try(site, push, delivery)
        except StoreUnavailable:
            raise  # nothing recorded: taken again when the lease ends
        except Exception:
            log.exception("site %s: LINE delivery of %s failed", site.key, delivery.message)
            outcome, status, why = "failed", 0, "internal error; the server log has the details"
        if outcome == "delivered":
            await self.finish(site.key, delivery, "delivered", status, "")
            return
        tries = delivery.tries + 1
        if outcome == "retry" and tries < ATTEMPTS:
            pause = self.pauses[min(tries - 1, len(self.pauses) - 1)]
            await self.finish(site.key, delivery, "retry", status, why, self.clock() + pause)
            return
        if outcome == "retry":
            why = f"{why}; gave up after {ATTEMPTS} tries"
        await self._undelivered(site, push.conversation, push.text, why)  # a store failure: taken again later
        await self.finish(site.key, delivery, "failed", status, why)

    async def _try(self, site: Site, push: Push, delivery: Delivery) -> tuple[str, int, str]:
        """One try: ("delivered" | "retry" | "failed", LINE's status or 0, why not in one line)."""
        token = self.tokens.get(site.key)
        if token is None:
            return "failed", 0, "no access token for this site in IRASSHAI_LINE_TOKENS"
        if self.clock() - delivery.since > KEY_LIFETIME:
            return (
                "failed",
                0,
                "not sent: it waited over 23 hours for a server process, longer than LINE's retry key lasts",
            )
        user = await users.read(self.store, site.key, push.visitor)
        if user is None:
            return "failed", 0, "the LINE user is not known (their record expired)"
        if user.follows == "0":
            return "failed", 0, "they have blocked the shop's LINE account"
        key = retry_key(site.key, push.conversation, delivery.message)
        answer = await self.api.push(token, user.user_id, [push.text], key)
        if answer.status in (200, 409):  # 409: an earlier try with this key was accepted
            return "delivered", answer.status, ""
        why = answer.error or f"LINE answered {answer.status}"
        if answer.status and answer.status < 500 and answer.status != 429:
            return "failed", answer.status, why  # LINE refuses it as it is: trying again would be refused again
        return "retry", answer.status, why

    async def _undelivered(self, site: Site, conversation_id: str, text: str, reason: str) -> None:
        """The "not delivered" note in the conversation, which the operator sees."""
        log.warning("site %s: reply in %s not delivered to LINE: %s", site.key, conversation_id, reason)
        short = text if len(text) <= 40 else text[:40] + "…"
        await self.note(site, conversation_id, texts.note("undelivered", site.language, reason=reason, text=short))

    async def _noted(self, site: Site, conversation_id: str, text: str, reason: str) -> None:
        """A reply that was never queued: noted if the store lets us."""
        try:
            await self._undelivered(site, conversation_id, text, reason)
        except StoreUnavailable as error:
            log.warning("site %s: note of an undelivered LINE reply not stored: %s", site.key, error)
