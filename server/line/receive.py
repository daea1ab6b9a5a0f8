"""LINE's webhook events, turned into the inbox's conversations (docs/line.md).

Called by POST /v1/sites/{site}/line/webhook once the signature is checked. Each event is
claimed in the store by its ``webhookEventId`` first (for EVENT_TTL), so an event LINE delivers
again, to this process or another, is stored once; if handling it fails, the claim is
released, so LINE's redelivery is handled. Everything an event changes is written before the
webhook is answered; nothing here waits for LINE: the user's display name is read from LINE's
profile API in the background and put on the conversation when it arrives.

- ``message``: a text starts or continues the user's conversation (channel ``line``, waiting for
  a person); any other type (image, sticker, …) is stored as a placeholder message with a
  system note that the inbox cannot show it.
- ``follow`` / ``unfollow``: kept in the user's record and noted in their conversation (the
  current one, or the one they will start next).
- ``accountLink``: handled by server/line/link.py.

Events from groups and rooms, events in ``standby`` mode and other types are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping

from server.chat.model import MAX_TEXT, conversation_id
from server.chat.service import ChatService
from server.line import texts, users
from server.line.api import LineApi
from server.line.link import Links
from server.line.wire import Event, Webhook
from server.sites import Site
from server.store.base import StoreUnavailable

log = logging.getLogger("irasshai.line")

EVENT_TTL = 7 * 86400  # LINE redelivers within a day or so; a week to spare
NAME_FRESH = 86400  # seconds a display name is used before LINE's profile is read again
EVENT_ID = re.compile(r"^[0-9A-Za-z]{8,64}$")  # a ULID; also the message's client id


class LineReceiver:
    def __init__(
        self,
        chat: ChatService,
        api: LineApi,
        secrets: Mapping[str, str],
        tokens: Mapping[str, str],
        links: Links,
        clock: Callable[[], float],
    ):
        self.chat = chat
        self.store = chat.store
        self.api = api
        self.secrets = secrets  # site -> channel secret (IRASSHAI_LINE_SECRETS)
        self.tokens = tokens  # site -> channel access token (IRASSHAI_LINE_TOKENS)
        self.links = links
        self.clock = clock
        self._background: set[asyncio.Task] = set()
        self._naming: set[tuple[str, str]] = set()  # (site, visitor) whose profile is being read

    async def receive(self, site: Site, webhook: Webhook) -> int:
        """Handle every new event of the webhook; how many were new."""
        handled = 0
        for event in webhook.events:
            user_id = event.source.user_id if event.source is not None and event.source.type == "user" else ""
            if event.mode != "active" or not user_id:
                continue
            if not EVENT_ID.match(event.webhook_event_id):
                log.info("site %s: LINE event without a webhookEventId skipped", site.key)
                continue
            claim = f"line-event:{event.webhook_event_id}"
            if not await self.store.claim(site.key, claim, b"1", EVENT_TTL):
                continue  # redelivered: handled already
            try:
                await self._handle(site, event, user_id)
            except BaseException:
                with contextlib.suppress(StoreUnavailable):  # so that LINE's redelivery is handled, not skipped
                    await self.store.take(site.key, claim)
                raise
            handled += 1
        return handled

    async def _handle(self, site: Site, event: Event, user_id: str) -> None:
        visitor = users.visitor_of(site.key, user_id)
        now = self.clock()
        user = await users.read(self.store, site.key, visitor)
        if user is None or user.user_id != user_id:
            await users.write(self.store, site.key, visitor, site.retention, user_id=user_id)
        name = user.name if user is not None else ""
        if event.type == "message" and event.message is not None:
            conversation = await self._message(site, visitor, event, name)
        elif event.type in ("follow", "unfollow"):
            follows = event.type == "follow"
            await users.write(
                self.store, site.key, visitor, site.retention, follows="1" if follows else "0", follow_at=now
            )
            conversation = await self.next_conversation(site, visitor)
            await self.chat.note(site, conversation, texts.note(event.type, site.language))
            if follows and site.line is not None and site.line.link:
                self._later(self.links.invite(site, user_id, event.reply_token))
        elif event.type == "accountLink" and event.link is not None:
            conversation = await self.next_conversation(site, visitor)
            await self.links.linked(site, visitor, event.link, conversation)
        else:
            return
        if event.type != "unfollow" and (user is None or not name or now - user.named > NAME_FRESH):
            self._name(site, visitor, user_id, conversation)

    async def _message(self, site: Site, visitor: str, event: Event, name: str) -> str:
        content = event.message
        language = site.language
        if content.type == "text" and content.text.strip():
            text = content.text.strip()
            text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
        else:
            text = texts.PLACEHOLDER.get(language, texts.PLACEHOLDER["en"]).format(
                kind=texts.kind(content.type, language)
            )
        message, conversation = await self.chat.say(
            site, visitor, event.webhook_event_id, text, language=language, channel="line", name=name
        )
        if content.type != "text":
            kind = texts.kind(content.type, language)
            await self.chat.note(site, conversation.id, texts.note("unsupported", language, kind=kind))
        return conversation.id

    async def next_conversation(self, site: Site, visitor: str) -> str:
        """The user's current conversation, or (none, or resolved) the id their next one will have:
        a note there shows at the start of it."""
        current = await self.chat.current(site, visitor)
        if current is not None:
            return current.id
        chat = await self.store.get_chat(site.key, visitor)
        return conversation_id(visitor, int(chat.get("n", "0") or 0) + 1)

    # -- in the background --------------------------------------------------------------------

    def _name(self, site: Site, visitor: str, user_id: str, conversation: str) -> None:
        """Read the user's display name from LINE and put it on their record and conversation."""
        token = self.tokens.get(site.key)
        if token is None or (site.key, visitor) in self._naming:
            return
        self._naming.add((site.key, visitor))

        async def name() -> None:
            try:
                profile = await self.api.profile(token, user_id)
                found = profile.get("displayName") if profile else None
                if isinstance(found, str) and found.strip():
                    found = found.strip()[:100]
                    await users.write(self.store, site.key, visitor, site.retention, name=found, named=self.clock())
                    await self.chat.name_visitor(site, conversation, found)
            finally:
                self._naming.discard((site.key, visitor))

        self._later(name())

    def _later(self, work) -> None:
        async def logged() -> None:
            try:
                await work
            except StoreUnavailable as error:
                log.warning("LINE: background work not done: %s", error)
            except Exception:
                log.exception("LINE: background work failed")

        task = asyncio.get_running_loop().create_task(logged())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
