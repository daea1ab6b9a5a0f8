"""An operator's reply in a LINE conversation, sent to the LINE user in the background (docs/line.md).

The chat service stores the message first and then hands it here (the ``Outbound`` of channel
``line``); the operator's request does not wait for LINE. The push carries
``X-Line-Retry-Key``, a UUID derived from the site, conversation and message id, so every try of
one message carries the same key and LINE sends it once: a 409 answer means an earlier try was
accepted, which is success. A try without an answer (timeout, connection) or with a 5xx or 429 is
repeated after a growing pause, up to ATTEMPTS tries; any other answer ends it. A message that
could not be delivered gets a system note in its conversation, which the operator sees.

Deliveries live in this process: one still retrying when the process stops is not sent (and
gets no note). The store keeps the message either way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping

from server.chat.model import Conversation, Message
from server.line import texts, users
from server.line.api import LineApi
from server.sites import Site
from server.store.base import Store, StoreUnavailable

log = logging.getLogger("irasshai.line")

ATTEMPTS = 6
PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0)  # seconds before the 2nd … 6th try: about half a minute in all
RETRY_KEYS = uuid.UUID("5b1d1f0e-4c8a-4a53-9a57-2f1e1c0e7a11")  # the namespace of retry keys (fixed forever)

Note = Callable[[Site, str, str], Awaitable[object]]  # (site, conversation id, text): a system note


def retry_key(site_key: str, conversation_id: str, message_id: str) -> str:
    """The same message always has the same key; two messages never share one."""
    return str(uuid.uuid5(RETRY_KEYS, f"{site_key}/{conversation_id}/{message_id}"))


class LinePush:
    def __init__(
        self,
        api: LineApi,
        store: Store,
        tokens: Mapping[str, str],
        note: Note,
        pauses: tuple[float, ...] = PAUSES,
    ):
        self.api = api
        self.store = store
        self.tokens = tokens
        self.note = note
        self.pauses = pauses
        self._running: set[asyncio.Task] = set()

    def send(self, site: Site, conversation: Conversation, message: Message) -> None:
        task = asyncio.get_running_loop().create_task(self.deliver(site, conversation, message))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def deliver(self, site: Site, conversation: Conversation, message: Message) -> bool:
        """Push `message` to the conversation's LINE user; True once LINE has accepted it."""
        try:
            reason = await self._push(site, conversation, message)
        except StoreUnavailable as error:
            reason = f"the store is unavailable: {error}"
        except Exception:
            log.exception("site %s: LINE delivery of %s failed", site.key, message.id)
            reason = "internal error; the server log has the details"
        if not reason:
            return True
        log.warning("site %s: reply %s not delivered to LINE: %s", site.key, message.id, reason)
        text = message.text if len(message.text) <= 40 else message.text[:40] + "…"
        try:
            await self.note(site, conversation.id, texts.note("undelivered", site.language, reason=reason, text=text))
        except StoreUnavailable as error:
            log.warning("site %s: note of an undelivered LINE reply not stored: %s", site.key, error)
        return False

    async def _push(self, site: Site, conversation: Conversation, message: Message) -> str:
        """'' once LINE has accepted the message, else why not (one line)."""
        token = self.tokens.get(site.key)
        if token is None:
            return "no access token for this site in IRASSHAI_LINE_TOKENS"
        user = await users.read(self.store, site.key, conversation.visitor)
        if user is None:
            return "the LINE user is not known (their record expired)"
        if user.follows == "0":
            return "they have blocked the shop's LINE account"
        key = retry_key(site.key, conversation.id, message.id)
        why = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(self.pauses[min(attempt - 1, len(self.pauses) - 1)])
            answer = await self.api.push(token, user.user_id, [message.text], key)
            if answer.status in (200, 409):  # 409: an earlier try with this key was accepted
                return ""
            why = answer.error or f"LINE answered {answer.status}"
            if answer.status and answer.status < 500 and answer.status != 429:
                return why  # LINE refuses it as it is: trying again would be refused again
        return f"{why}; gave up after {ATTEMPTS} tries"

    async def close(self) -> None:
        """Stop: deliveries still retrying are cancelled (the messages stay stored)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
